package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static io.p11kms.it.KmsSecureTestServer.AUDIT_KEY;
import static io.p11kms.it.KmsSecureTestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.server.admin.VerifyAuditCommand;
import io.p11kms.server.audit.AuditAnchor;
import io.p11kms.server.audit.AuditHead;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code p11kms verify-audit} on the log a real server wrote (signed checkpoints by the token's
 * audit key every 5 records, each anchored in the token): intact it passes; each of edit, insert,
 * drop and reorder is named at its line, and a log cut back at a checkpoint is shorter than its
 * anchor, with exit code 1. An anchor rolled back by a user-PIN holder together with the log is not
 * detected (the limit docs/security.md states).
 */
class VerifyAuditIT {
  private static KmsSecureTestServer server;
  private static Path config;
  private static List<String> log;

  @BeforeAll
  static void writeALog() throws Exception {
    server = KmsSecureTestServer.start();
    KeyManagementServiceBlockingStub admin = server.client(ADMIN);
    KeyManagementServiceBlockingStub bob = server.client(BOB);
    String key = admin.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    for (int i = 0; i < 6; i++) {
      EncryptRequest r =
          EncryptRequest.newBuilder()
              .setKeyId(key)
              .setPlaintext(ByteString.copyFromUtf8("record " + i))
              .build();
      admin.encrypt(r);
      try {
        bob.encrypt(r);
      } catch (io.grpc.StatusRuntimeException denied) {
        // denied, and recorded as such
      }
    }
    config = server.configFile();
    log = Files.readAllLines(server.auditFile());
    // The anchor is written off the request path: wait until it names the last checkpoint.
    long last = seq(log.get(checkpointLine(checkpoints())));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (anchor().seq() < last && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(anchor().seq()).isEqualTo(last);
  }

  private static int checkpoints() {
    return (int) log.stream().filter(l -> l.contains("\"type\":\"checkpoint\"")).count();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void intactLog_passes() throws Exception {
    Run run = verify(l -> l);
    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(run.out()).contains("audit log OK", log.size() + " lines");
    assertThat(log.size()).isGreaterThan(12);
  }

  @Test
  void editedRecord_isNamed() throws Exception {
    Run run =
        verify(
            l -> {
              // Record 4 (after the start record, CreateKey and an Encrypt): bob's denied
              // Encrypt, made to look like the administrator's success.
              String edited = l.get(3).replace(BOB, ADMIN).replace("DENIED", "SUCCEEDED");
              assertThat(edited).isNotEqualTo(l.get(3));
              l.set(3, edited);
              return l;
            });
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out()).contains("TAMPERED", "record 4 (line 4) was edited");
  }

  @Test
  void insertedRecord_isNamed() throws Exception {
    Run run =
        verify(
            l -> {
              l.add(5, l.get(2));
              return l;
            });
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out()).contains("TAMPERED at line 6", "inserted");
  }

  @Test
  void droppedRecord_isNamed() throws Exception {
    Run run =
        verify(
            l -> {
              l.remove(3);
              return l;
            });
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out()).contains("TAMPERED at line 4", "record 4 dropped");
  }

  @Test
  void reorderedRecords_areNamed() throws Exception {
    Run run =
        verify(
            l -> {
              Collections.swap(l, 3, 4);
              return l;
            });
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out()).contains("TAMPERED at line 4", "record 4 was reordered");
  }

  @Test
  void forgedCheckpoint_isNamed() throws Exception {
    int checkpoint = -1;
    for (int i = 0; i < log.size(); i++) {
      if (log.get(i).contains("\"type\":\"checkpoint\"")) {
        checkpoint = i;
        break;
      }
    }
    int at = checkpoint;
    assertThat(at).isPositive();
    Run run =
        verify(
            l -> {
              String line = l.get(at);
              int mac = line.indexOf("\"mac\":\"") + 7;
              char c = line.charAt(mac) == 'A' ? 'B' : 'A';
              l.set(at, line.substring(0, mac) + c + line.substring(mac + 1));
              return l;
            });
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.out()).contains("bad signature");
  }

  @Test
  void logCutBackAtACheckpoint_isShorterThanItsAnchorInTheToken() throws Exception {
    int checkpoint = checkpointLine(1);
    Run run = verify(l -> new ArrayList<>(l.subList(0, checkpoint + 1)));
    assertThat(run.exit()).as(run.out()).isEqualTo(1);
    assertThat(run.out())
        .contains(
            "the log is shorter than its anchor: the token's anchor is checkpoint "
                + anchor().seq()
                + ", the log ends at record "
                + seq(log.get(checkpoint)));
  }

  @Test
  void anchorNamingACheckpointTheLogDoesNotHold_isNamed() throws Exception {
    AuditHead genuine = anchor();
    setAnchor(genuine.seq(), "ab".repeat(32));
    try {
      Run run = verify(l -> l);
      assertThat(run.exit()).as(run.out()).isEqualTo(1);
      assertThat(run.out())
          .contains("the token's anchor is checkpoint " + genuine.seq() + ", which this log does");
    } finally {
      setAnchor(genuine.seq(), genuine.hash());
    }
  }

  /**
   * What the anchor cannot show (docs/security.md): a user-PIN holder sets it back to an earlier
   * checkpoint and cuts the log there; the two agree again.
   */
  @Test
  void anchorRolledBackByAUserPinHolder_withTheLogCutToIt_isNotDetected() throws Exception {
    AuditHead genuine = anchor();
    int checkpoint = checkpointLine(1);
    setAnchor(seq(log.get(checkpoint)), sha256(log.get(checkpoint)));
    try {
      Run run = verify(l -> new ArrayList<>(l.subList(0, checkpoint + 1)));
      assertThat(run.exit()).as(run.out()).isZero();
    } finally {
      setAnchor(genuine.seq(), genuine.hash());
    }
  }

  @Test
  void command_inItsOwnJvm_exitsZeroOnTheIntactLog_andOneOnATamperedOne() throws Exception {
    Run intact = command(write(l -> l));
    assertThat(intact.exit()).as(intact.out()).isZero();
    assertThat(intact.out()).contains("audit log OK");
    Run dropped =
        command(
            write(
                l -> {
                  l.remove(3);
                  return l;
                }));
    assertThat(dropped.exit()).as(dropped.out()).isEqualTo(1);
    assertThat(dropped.out()).contains("TAMPERED at line 4", "record 4 dropped");
    int checkpoint = checkpointLine(1);
    Run cut = command(write(l -> new ArrayList<>(l.subList(0, checkpoint + 1))));
    assertThat(cut.exit()).as(cut.out()).isEqualTo(1);
    assertThat(cut.out()).contains("the log is shorter than its anchor");
  }

  /** The line index of the {@code n}th checkpoint (1-based) of the server's log. */
  private static int checkpointLine(int n) {
    int seen = 0;
    for (int i = 0; i < log.size(); i++) {
      if (log.get(i).contains("\"type\":\"checkpoint\"") && ++seen == n) {
        return i;
      }
    }
    throw new AssertionError("no checkpoint " + n);
  }

  private static long seq(String line) throws Exception {
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(line).path("seq").asLong();
  }

  private static String sha256(String line) throws Exception {
    return java.util.HexFormat.of()
        .formatHex(
            java.security.MessageDigest.getInstance("SHA-256")
                .digest(line.getBytes(StandardCharsets.UTF_8)));
  }

  /** The anchor the token holds, read as verify-audit reads it. */
  private static AuditHead anchor() {
    return AuditAnchor.inToken(server.hsm(), AUDIT_KEY).read().orElseThrow();
  }

  /** Sets the anchor as a user-PIN holder can: a private data object of their own making. */
  private static void setAnchor(long seq, String hash) {
    server
        .hsm()
        .replacePrivateData(
            AuditAnchor.label(AUDIT_KEY),
            ("p11kms-audit-anchor 1 seq=" + seq + " hash=" + hash)
                .getBytes(StandardCharsets.US_ASCII));
  }

  record Run(int exit, String out) {}

  private static Path write(UnaryOperator<List<String>> tamper) throws Exception {
    Path file = Files.createTempFile(config.getParent(), "audit", ".log");
    Files.write(file, tamper.apply(new ArrayList<>(log)));
    return file;
  }

  /** The verifier as the command runs it, in this JVM, with the server's token session. */
  private static Run verify(UnaryOperator<List<String>> tamper) throws Exception {
    Path file = write(tamper);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int exit = VerifyAuditCommand.verify(file, server.hsm(), AUDIT_KEY, out, out);
    String text = bytes.toString(StandardCharsets.UTF_8);
    System.out.print("VerifyAuditIT: " + text);
    return new Run(exit, text);
  }

  /**
   * {@code p11kms verify-audit --config ... --audit-file file} in a child JVM (SoftHSM2 lists its
   * tokens at C_Initialize, so this JVM's module does not see a token made after it started).
   */
  private static Run command(Path file) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "io.p11kms.server.Main",
                "verify-audit",
                "--config",
                config.toString(),
                "--audit-file",
                file.toString())
            .redirectErrorStream(true);
    builder.environment().put("SOFTHSM2_CONF", server.softHsmConf().toString());
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    System.out.print("VerifyAuditIT (child JVM): " + out);
    return new Run(p.exitValue(), out);
  }
}
