package io.p11kms.server.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditVerifierTest {
  @TempDir Path dir;

  // A software HMAC stands in for the token key here; AccessIT uses the token.
  private static final byte[] KEY = new byte[32];

  private static byte[] mac(byte[] data) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(KEY, "HmacSHA256"));
      return m.doFinal(data);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static final AuditVerifier.MacCheck CHECK =
      (data, mac) -> java.security.MessageDigest.isEqual(mac(data), mac);

  private List<String> log(int records) throws IOException {
    Path file = dir.resolve("audit.log");
    try (AuditLog log =
        AuditLog.open(file, AuditVerifierTest::mac, 4, Duration.ofHours(1), Clock.systemUTC())) {
      for (int i = 0; i < records; i++) {
        log.append(
            AuditEntry.builder("r" + i, "CN=alice", "Encrypt")
                .keyArn("arn:k")
                .contextKeys(List.of("dept"))
                .outcome("SUCCEEDED", "")
                .build());
      }
    }
    return Files.readAllLines(file, StandardCharsets.UTF_8);
  }

  @Test
  void intactLog_verifies() throws IOException {
    AuditVerifier.Result r = AuditVerifier.verify(log(10), CHECK);
    assertThat(r.ok()).as(r.toString()).isTrue();
    assertThat(r.checkpoints()).isEqualTo(3);
  }

  @Test
  void editedRecord_isNamed() throws IOException {
    List<String> lines = new ArrayList<>(log(10));
    lines.set(2, lines.get(2).replace("CN=alice", "CN=mallory"));
    AuditVerifier.Result r = AuditVerifier.verify(lines, CHECK);
    assertThat(r.ok()).isFalse();
    assertThat(r.problem()).isEqualTo("record 3 (line 3) was edited");
  }

  @Test
  void insertedRecord_isNamed() throws IOException {
    List<String> lines = new ArrayList<>(log(10));
    lines.add(6, lines.get(1));
    AuditVerifier.Result r = AuditVerifier.verify(lines, CHECK);
    assertThat(r.ok()).isFalse();
    assertThat(r.line()).isEqualTo(7);
    assertThat(r.problem()).startsWith("record 2 was inserted");
  }

  @Test
  void droppedRecord_isNamed() throws IOException {
    List<String> lines = new ArrayList<>(log(10));
    lines.remove(3);
    AuditVerifier.Result r = AuditVerifier.verify(lines, CHECK);
    assertThat(r.ok()).isFalse();
    assertThat(r.problem()).isEqualTo("record 4 dropped before record 5");
  }

  @Test
  void reorderedRecords_areNamed() throws IOException {
    List<String> lines = new ArrayList<>(log(10));
    Collections.swap(lines, 1, 2);
    AuditVerifier.Result r = AuditVerifier.verify(lines, CHECK);
    assertThat(r.ok()).isFalse();
    assertThat(r.problem()).isEqualTo("record 2 was reordered: record 3 comes before it");
  }

  @Test
  void forgedCheckpoint_isNamed() throws IOException {
    List<String> lines = new ArrayList<>(log(10));
    int cp = 4; // the first checkpoint is the fifth line
    assertThat(lines.get(cp)).contains("checkpoint");
    lines.set(cp, lines.get(cp).replaceAll("\"mac\":\"[^\"]*\"", "\"mac\":\"AAAA\""));
    AuditVerifier.Result r = AuditVerifier.verify(lines, CHECK);
    assertThat(r.ok()).isFalse();
    assertThat(r.problem()).contains("bad signature");
  }

  @Test
  void unwritableRecord_throws_soTheRequestFails() {
    AuditLog log =
        AuditLog.open(
            dir.resolve("a.log"),
            AuditVerifierTest::mac,
            null,
            100,
            Duration.ofHours(1),
            Clock.systemUTC(),
            sink ->
                new AuditSink() {
                  @Override
                  public void write(byte[] line) throws IOException {
                    throw new IOException("disk full");
                  }

                  @Override
                  public void flush() {}

                  @Override
                  public void close() throws IOException {
                    sink.close();
                  }
                });
    assertThatThrownBy(
            () ->
                log.append(
                    AuditEntry.builder("r", "p", "Encrypt")
                        .contextKeys(List.of())
                        .outcome("SUCCEEDED", "")
                        .build()))
        .isInstanceOf(AuditException.class);
    log.close();
  }
}
