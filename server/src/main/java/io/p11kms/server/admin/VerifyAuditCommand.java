package io.p11kms.server.admin;

import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.server.audit.AuditVerifier;
import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.config.ServerConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code p11kms verify-audit}: checks an audit log's hash chain, sequence numbers and checkpoint
 * MACs with the token's audit key, and names the first edited, inserted, dropped or reordered
 * record. Exit code 0 when the log is intact, 1 when it was tampered with, 2 when the
 * configuration, the file or the token cannot be used. Records after the last checkpoint are
 * chained but not yet signed: the command says how many, since a tail cut off after the last
 * checkpoint leaves no trace.
 */
@Command(
    name = "verify-audit",
    description =
        "Verify the audit log: hash chain, sequence and signed checkpoints (with the token's"
            + " audit key).")
public final class VerifyAuditCommand implements Callable<Integer> {
  /** Exit code when the log was tampered with. */
  public static final int EXIT_TAMPERED = 1;

  /** Exit code when the configuration, the file or the token cannot be used. */
  public static final int EXIT_CONFIG = 2;

  @Option(
      names = "--config",
      required = true,
      description = "The server's properties file (token, audit.file, audit.key.label).")
  Path config;

  @Option(names = "--audit-file", description = "Verify this file instead of audit.file.")
  Path auditFile;

  @Override
  public Integer call() {
    ServerConfig serverConfig;
    SecurityConfig security;
    try {
      serverConfig = ServerConfig.load(config);
      security = SecurityConfig.load(config);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println("p11kms verify-audit: " + e.getMessage());
      return EXIT_CONFIG;
    }
    Path file = auditFile != null ? auditFile : security.auditFile();
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(serverConfig.hsmConfig())) {
      return verify(file, hsm, security.auditKeyLabel(), System.out, System.err);
    } catch (RuntimeException e) {
      System.err.println("p11kms verify-audit: cannot use the token: " + e.getMessage());
      return EXIT_CONFIG;
    }
  }

  /** Verifies {@code file} with the key {@code label} of {@code hsm}; the exit code. */
  public static int verify(Path file, Hsm hsm, String label, PrintStream out, PrintStream err) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      err.println("p11kms verify-audit: cannot read " + file + ": " + e.getClass().getSimpleName());
      return EXIT_CONFIG;
    }
    AuditVerifier.Result result =
        AuditVerifier.verify(lines, (data, mac) -> hsm.verify(label, data, mac));
    out.println(file + ": " + result);
    if (!result.ok()) {
      return EXIT_TAMPERED;
    }
    int unsigned = 0;
    for (int i = lines.size() - 1;
        i >= 0 && !lines.get(i).contains("\"type\":\"checkpoint\"");
        i--) {
      unsigned++;
    }
    if (unsigned > 0) {
      out.println(
          unsigned
              + " record(s) after the last signed checkpoint: chained but not signed, so records"
              + " cut off after it would not be detected");
    }
    return 0;
  }
}
