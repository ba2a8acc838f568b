package io.p11kms.server.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * Who may call and what is recorded: mutual TLS files, the key administrators and the audit log.
 * Read from the same properties file as {@link ServerConfig}, which rejects typos under {@code
 * tls.}, {@code auth.}, {@code audit.} and {@code dev.}.
 *
 * @param tlsCertFile the server certificate chain (PEM); null for the loopback plaintext listener
 * @param tlsKeyFile the server private key (PKCS#8 PEM); set exactly when {@code tlsCertFile} is
 * @param tlsClientCaFile the CA certificates (PEM) that client certificates must chain to
 * @param admins principals that the default key policy gives full access to every key
 * @param auditFile the audit log (JSON lines, append-only)
 * @param auditCheckpointRecords a signed checkpoint after this many records
 * @param auditCheckpointInterval ... or after this long, whichever comes first
 * @param auditKeyLabel the label of the token's HMAC key that signs checkpoints
 * @param accountsFile a file mapping principals to accounts ({@code auth.accounts.file}: one {@code
 *     <principal> <account id>} per line), for principals that do not name their account (a
 *     SPIFFE-style {@code spiffe://<trust domain>/account/<id>/...} does); null: none
 * @param devMode development mode ({@code dev.mode=true} or {@code serve --dev}): without TLS files
 *     the listener is plaintext on loopback and every caller is {@code local:developer}, an
 *     administrator of every key; without TLS files and without it the server refuses to start
 * @param refusalAudit how many requests refused before authentication are recorded a minute ({@code
 *     audit.refused.*}); null: the defaults
 */
public record SecurityConfig(
    Path tlsCertFile,
    Path tlsKeyFile,
    Path tlsClientCaFile,
    List<String> admins,
    Path auditFile,
    int auditCheckpointRecords,
    Duration auditCheckpointInterval,
    String auditKeyLabel,
    boolean devMode,
    Path accountsFile,
    RefusalAuditConfig refusalAudit) {

  public static final String TLS_CERT_FILE = "tls.cert.file";
  public static final String TLS_KEY_FILE = "tls.key.file";
  public static final String TLS_CLIENT_CA_FILE = "tls.client.ca.file";
  public static final String AUTH_ADMINS = "auth.admins";
  public static final String AUDIT_FILE = "audit.file";
  public static final String AUDIT_CHECKPOINT_RECORDS = "audit.checkpoint.records";
  public static final String AUDIT_CHECKPOINT_INTERVAL_MS = "audit.checkpoint.interval.ms";
  public static final String AUDIT_KEY_LABEL = "audit.key.label";
  public static final String DEV_MODE = "dev.mode";
  public static final String AUTH_ACCOUNTS_FILE = "auth.accounts.file";

  /** Every key this class reads. */
  public static final Set<String> KEYS =
      Set.of(
          RefusalAuditConfig.PER_ADDRESS,
          RefusalAuditConfig.OVERALL,
          TLS_CERT_FILE,
          TLS_KEY_FILE,
          TLS_CLIENT_CA_FILE,
          AUTH_ADMINS,
          AUDIT_FILE,
          AUDIT_CHECKPOINT_RECORDS,
          AUDIT_CHECKPOINT_INTERVAL_MS,
          AUDIT_KEY_LABEL,
          DEV_MODE,
          AUTH_ACCOUNTS_FILE);

  /** Prefixes of {@link #KEYS}; {@link ServerConfig} rejects unknown keys under them. */
  public static final Set<String> PREFIXES = Set.of("tls.", "auth.", "audit.", "dev.");

  public static final String DEFAULT_AUDIT_FILE = "audit.log";
  public static final int DEFAULT_CHECKPOINT_RECORDS = 1000;
  public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(60);
  public static final String DEFAULT_AUDIT_KEY_LABEL = "audit-key";

  public SecurityConfig {
    if ((tlsCertFile == null) != (tlsKeyFile == null)
        || (tlsCertFile == null) != (tlsClientCaFile == null)) {
      throw new ConfigException(
          TLS_CERT_FILE
              + ", "
              + TLS_KEY_FILE
              + " and "
              + TLS_CLIENT_CA_FILE
              + " go together: give all three (mutual TLS) or none (loopback plaintext)");
    }
    if (devMode && tlsCertFile != null) {
      throw new ConfigException(
          DEV_MODE + "=true is for the plaintext loopback listener: drop it or the tls. files");
    }
    admins = List.copyOf(admins);
    if (auditFile == null) {
      throw new ConfigException(AUDIT_FILE + " is required");
    }
    if (auditCheckpointRecords < 1 || auditCheckpointRecords > 1_000_000) {
      throw new ConfigException(
          AUDIT_CHECKPOINT_RECORDS + " must be 1-1000000, was " + auditCheckpointRecords);
    }
    if (auditCheckpointInterval == null
        || auditCheckpointInterval.toMillis() < 100
        || auditCheckpointInterval.toMillis() > 86_400_000) {
      throw new ConfigException(AUDIT_CHECKPOINT_INTERVAL_MS + " must be 100-86400000");
    }
    if (auditKeyLabel == null || auditKeyLabel.isBlank() || auditKeyLabel.length() > 64) {
      throw new ConfigException(AUDIT_KEY_LABEL + " must be 1-64 characters");
    }
    if (refusalAudit == null) {
      refusalAudit = RefusalAuditConfig.DEFAULTS;
    }
  }

  /** As the canonical constructor, with the default bounds on recorded refusals. */
  public SecurityConfig(
      Path tlsCertFile,
      Path tlsKeyFile,
      Path tlsClientCaFile,
      List<String> admins,
      Path auditFile,
      int auditCheckpointRecords,
      Duration auditCheckpointInterval,
      String auditKeyLabel,
      boolean devMode,
      Path accountsFile) {
    this(
        tlsCertFile,
        tlsKeyFile,
        tlsClientCaFile,
        admins,
        auditFile,
        auditCheckpointRecords,
        auditCheckpointInterval,
        auditKeyLabel,
        devMode,
        accountsFile,
        null);
  }

  /** As the canonical constructor, without a principal-to-account mapping file. */
  public SecurityConfig(
      Path tlsCertFile,
      Path tlsKeyFile,
      Path tlsClientCaFile,
      List<String> admins,
      Path auditFile,
      int auditCheckpointRecords,
      Duration auditCheckpointInterval,
      String auditKeyLabel,
      boolean devMode) {
    this(
        tlsCertFile,
        tlsKeyFile,
        tlsClientCaFile,
        admins,
        auditFile,
        auditCheckpointRecords,
        auditCheckpointInterval,
        auditKeyLabel,
        devMode,
        null);
  }

  /** As the canonical constructor, without development mode. */
  public SecurityConfig(
      Path tlsCertFile,
      Path tlsKeyFile,
      Path tlsClientCaFile,
      List<String> admins,
      Path auditFile,
      int auditCheckpointRecords,
      Duration auditCheckpointInterval,
      String auditKeyLabel) {
    this(
        tlsCertFile,
        tlsKeyFile,
        tlsClientCaFile,
        admins,
        auditFile,
        auditCheckpointRecords,
        auditCheckpointInterval,
        auditKeyLabel,
        false);
  }

  /** This configuration with development mode on ({@code serve --dev}). */
  public SecurityConfig withDevMode() {
    return new SecurityConfig(
        tlsCertFile,
        tlsKeyFile,
        tlsClientCaFile,
        admins,
        auditFile,
        auditCheckpointRecords,
        auditCheckpointInterval,
        auditKeyLabel,
        true,
        accountsFile,
        refusalAudit);
  }

  /** Whether the listener uses mutual TLS. */
  public boolean tls() {
    return tlsCertFile != null;
  }

  /** Reads the keys of this class from a properties file; paths resolve against its folder. */
  public static SecurityConfig load(Path file) {
    Properties p = new Properties();
    try (java.io.Reader in =
        java.nio.file.Files.newBufferedReader(file, java.nio.charset.StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (java.io.IOException e) {
      throw new ConfigException("cannot read configuration file " + file, e);
    }
    return fromProperties(p, file.toAbsolutePath().getParent());
  }

  /** Reads the keys of this class; relative paths resolve against {@code baseDir}. */
  public static SecurityConfig fromProperties(Properties p, Path baseDir) {
    Path base = baseDir.toAbsolutePath().normalize();
    String admins = get(p, AUTH_ADMINS);
    String records = get(p, AUDIT_CHECKPOINT_RECORDS);
    String interval = get(p, AUDIT_CHECKPOINT_INTERVAL_MS);
    String label = get(p, AUDIT_KEY_LABEL);
    String audit = get(p, AUDIT_FILE);
    return new SecurityConfig(
        path(base, TLS_CERT_FILE, get(p, TLS_CERT_FILE)),
        path(base, TLS_KEY_FILE, get(p, TLS_KEY_FILE)),
        path(base, TLS_CLIENT_CA_FILE, get(p, TLS_CLIENT_CA_FILE)),
        admins == null
            ? List.of()
            : Arrays.stream(admins.split(","))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList(),
        path(base, AUDIT_FILE, audit == null ? DEFAULT_AUDIT_FILE : audit),
        records == null ? DEFAULT_CHECKPOINT_RECORDS : parse(AUDIT_CHECKPOINT_RECORDS, records),
        interval == null
            ? DEFAULT_CHECKPOINT_INTERVAL
            : Duration.ofMillis(parse(AUDIT_CHECKPOINT_INTERVAL_MS, interval)),
        label == null ? DEFAULT_AUDIT_KEY_LABEL : label,
        devMode(get(p, DEV_MODE)),
        path(base, AUTH_ACCOUNTS_FILE, get(p, AUTH_ACCOUNTS_FILE)),
        RefusalAuditConfig.fromProperties(p));
  }

  private static boolean devMode(String value) {
    if (value == null || value.equals("false")) {
      return false;
    }
    if (value.equals("true")) {
      return true;
    }
    throw new ConfigException(DEV_MODE + " must be true or false, was '" + value + "'");
  }

  /** For a start-up log line (holds no secret: paths and principals only). */
  public String toRedactedString() {
    return "SecurityConfig{tls="
        + (tls() ? "mutual, client CA " + tlsClientCaFile : "off (loopback plaintext)")
        + ", "
        + DEV_MODE
        + "="
        + devMode
        + ", "
        + AUTH_ADMINS
        + "="
        + admins
        + ", "
        + AUDIT_FILE
        + "="
        + auditFile
        + ", "
        + AUDIT_CHECKPOINT_RECORDS
        + "="
        + auditCheckpointRecords
        + ", "
        + AUDIT_CHECKPOINT_INTERVAL_MS
        + "="
        + auditCheckpointInterval.toMillis()
        + ", "
        + AUDIT_KEY_LABEL
        + "="
        + auditKeyLabel
        + ", "
        + RefusalAuditConfig.PER_ADDRESS
        + "="
        + refusalAudit.perAddress()
        + ", "
        + RefusalAuditConfig.OVERALL
        + "="
        + refusalAudit.overall()
        + (accountsFile == null ? "" : ", " + AUTH_ACCOUNTS_FILE + "=" + accountsFile)
        + "}";
  }

  private static int parse(String key, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new ConfigException(key + " must be an integer, was '" + value + "'");
    }
  }

  private static String get(Properties p, String key) {
    String value = p.getProperty(key);
    return value == null || value.isBlank() ? null : value.strip();
  }

  private static Path path(Path base, String key, String value) {
    if (value == null) {
      return null;
    }
    try {
      return base.resolve(value).normalize();
    } catch (InvalidPathException e) {
      throw new ConfigException(key + " is not a valid path");
    }
  }
}
