package io.p11kms.server.admin;

import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.TokenAdministration;
import io.p11kms.server.audit.AuditAnchor;
import io.p11kms.server.audit.AuditException;
import io.p11kms.server.audit.AuditHead;
import io.p11kms.server.audit.AuditVerifier;
import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.config.ServerConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code p11kms verify-audit}: checks an audit log's hash chain, sequence numbers and checkpoint
 * MACs with the token's audit key, the server's restarts against the anchor each found, and the
 * log's head against the anchor the token holds now; names the first edited, inserted, dropped or
 * reordered record, and a log cut back or deleted before its anchor. Several files (the log moved
 * aside and the server restarted) are verified as one chain, in the order given. Exit code 0 when
 * the log is intact, 1 when it was tampered with, 2 when the configuration, a file or the token
 * cannot be used. Records after the last checkpoint are chained but not yet signed or anchored: the
 * command says how many, since a tail cut off after the last checkpoint leaves no trace.
 */
@Command(
    name = "verify-audit",
    description =
        "Verify the audit log: hash chain, sequence, signed checkpoints (with the token's audit"
            + " key) and the head against its anchor in the token.")
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

  @Option(
      names = "--audit-file",
      description =
          "Verify this file instead of audit.file; repeat it for a log in several files, oldest"
              + " first.")
  List<Path> auditFiles;

  @Option(
      names = "--account",
      description =
          "Once the log verifies, print the request records of this account (12 digits): the"
              + " calls its principals made and the calls on its keys.")
  String account;

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
    List<Path> files =
        auditFiles == null || auditFiles.isEmpty() ? List.of(security.auditFile()) : auditFiles;
    if (account != null && !io.p11kms.server.auth.AccountIds.isValid(account)) {
      System.err.println("p11kms verify-audit: --account takes a 12-digit account id");
      return EXIT_CONFIG;
    }
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(serverConfig.hsm().hsmConfig())) {
      int verified = verify(files, hsm, security.auditKeyLabel(), System.out, System.err);
      if (verified != 0 || account == null) {
        return verified;
      }
      return AuditAccountView.print(
          files, account, serverConfig.arns().account(), System.out, System.err);
    } catch (RuntimeException e) {
      System.err.println("p11kms verify-audit: cannot use the token: " + e.getMessage());
      return EXIT_CONFIG;
    }
  }

  /** Verifies {@code file} with the key {@code label} of {@code hsm}; the exit code. */
  public static int verify(
      Path file, TokenAdministration hsm, String label, PrintStream out, PrintStream err) {
    return verify(List.of(file), hsm, label, out, err);
  }

  /**
   * Verifies {@code files}, one chain in the order given, with the key {@code label} of {@code hsm}
   * and the anchor beside it; the exit code.
   */
  public static int verify(
      List<Path> files, TokenAdministration hsm, String label, PrintStream out, PrintStream err) {
    Optional<AuditHead> anchor;
    try {
      // Before the files: the server anchors a checkpoint only once it is on disk.
      anchor = AuditAnchor.inToken(hsm, label).read();
    } catch (AuditException e) {
      out.println("audit log TAMPERED: " + e.getMessage());
      return EXIT_TAMPERED;
    }
    List<String> lines = new ArrayList<>();
    StringBuilder ranges = new StringBuilder();
    for (Path file : files) {
      try {
        int from = lines.size() + 1;
        lines.addAll(Files.readAllLines(file, StandardCharsets.UTF_8));
        ranges.append(ranges.length() == 0 ? "" : ", ").append(file).append(": lines ");
        ranges.append(from).append("-").append(lines.size());
      } catch (IOException e) {
        err.println(
            "p11kms verify-audit: cannot read " + file + ": " + e.getClass().getSimpleName());
        return EXIT_CONFIG;
      }
    }
    AuditVerifier.Result result =
        AuditVerifier.verify(lines, (data, mac) -> hsm.verify(label, data, mac), anchor);
    out.println((files.size() == 1 ? files.get(0).toString() : ranges.toString()) + ": " + result);
    for (String note : result.notes()) {
      out.println("note: " + note);
    }
    if (!result.ok()) {
      return EXIT_TAMPERED;
    }
    anchor.ifPresent(head -> out.println("anchored in the token at " + head));
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
