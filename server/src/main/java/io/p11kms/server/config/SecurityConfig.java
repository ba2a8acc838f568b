package io.p11kms.server.config;

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
    return from(ConfigProperties.load(file));
  }

  /** Reads the keys of this class; relative paths resolve against {@code baseDir}. */
  public static SecurityConfig fromProperties(Properties p, Path baseDir) {
    return from(new ConfigProperties(p, baseDir));
  }

  /** Reads the keys of this class from the properties of a file. */
  public static SecurityConfig from(ConfigProperties p) {
    String admins = p.get(AUTH_ADMINS, null);
    return new SecurityConfig(
        p.path(TLS_CERT_FILE),
        p.path(TLS_KEY_FILE),
        p.path(TLS_CLIENT_CA_FILE),
        admins == null
            ? List.of()
            : Arrays.stream(admins.split(","))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .toList(),
        p.resolve(AUDIT_FILE, p.get(AUDIT_FILE, DEFAULT_AUDIT_FILE)),
        p.getInt(AUDIT_CHECKPOINT_RECORDS, DEFAULT_CHECKPOINT_RECORDS),
        Duration.ofMillis(
            p.getInt(AUDIT_CHECKPOINT_INTERVAL_MS, (int) DEFAULT_CHECKPOINT_INTERVAL.toMillis())),
        p.get(AUDIT_KEY_LABEL, DEFAULT_AUDIT_KEY_LABEL),
        p.bool(DEV_MODE),
        p.path(AUTH_ACCOUNTS_FILE),
        RefusalAuditConfig.from(p));
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

  /**
   * A configuration with the audit log at {@code auditFile} and every other part at its default: no
   * TLS files (so the listener is loopback plaintext, which needs {@link Builder#devMode}), no
   * administrators, the default checkpoint cadence and key label, no account mapping and the
   * default bounds on recorded refusals.
   */
  public static Builder builder(Path auditFile) {
    return new Builder(auditFile);
  }

  /** Builds a {@link SecurityConfig}; {@link #build} validates as the canonical constructor. */
  public static final class Builder {
    private final Path auditFile;
    private Path tlsCertFile;
    private Path tlsKeyFile;
    private Path tlsClientCaFile;
    private List<String> admins = List.of();
    private int auditCheckpointRecords = DEFAULT_CHECKPOINT_RECORDS;
    private Duration auditCheckpointInterval = DEFAULT_CHECKPOINT_INTERVAL;
    private String auditKeyLabel = DEFAULT_AUDIT_KEY_LABEL;
    private boolean devMode;
    private RefusalAuditConfig refusalAudit;

    private Builder(Path auditFile) {
      this.auditFile = auditFile;
    }

    /** Mutual TLS: the server certificate chain, its key and the client CA certificates. */
    public Builder mutualTls(Path certFile, Path keyFile, Path clientCaFile) {
      this.tlsCertFile = certFile;
      this.tlsKeyFile = keyFile;
      this.tlsClientCaFile = clientCaFile;
      return this;
    }

    public Builder admins(List<String> admins) {
      this.admins = admins;
      return this;
    }

    public Builder auditCheckpointRecords(int records) {
      this.auditCheckpointRecords = records;
      return this;
    }

    public Builder auditCheckpointInterval(Duration interval) {
      this.auditCheckpointInterval = interval;
      return this;
    }

    public Builder auditKeyLabel(String label) {
      this.auditKeyLabel = label;
      return this;
    }

    public Builder devMode(boolean devMode) {
      this.devMode = devMode;
      return this;
    }

    public Builder refusalAudit(RefusalAuditConfig refusalAudit) {
      this.refusalAudit = refusalAudit;
      return this;
    }

    /**
     * @throws ConfigException as the canonical constructor
     */
    public SecurityConfig build() {
      return new SecurityConfig(
          tlsCertFile,
          tlsKeyFile,
          tlsClientCaFile,
          admins,
          auditFile,
          auditCheckpointRecords,
          auditCheckpointInterval,
          auditKeyLabel,
          devMode,
          null,
          refusalAudit);
    }
  }
}
