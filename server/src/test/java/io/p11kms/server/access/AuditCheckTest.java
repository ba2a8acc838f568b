package io.p11kms.server.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.audit.AuditException;
import io.p11kms.server.audit.AuditLog;
import io.p11kms.server.audit.AuditSink;
import io.p11kms.server.auth.Principals;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.Operation;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.io.IOException;
import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How often a call checks that its audit record can be written (a stat of the log's file each): an
 * operation whose answer is its only effect once, when its record is written; any other also before
 * it runs, so that a call that cannot be recorded changes nothing.
 */
class AuditCheckTest {
  private final AtomicInteger checks = new AtomicInteger();
  private final AtomicBoolean removed = new AtomicBoolean();
  private final AtomicInteger lines = new AtomicInteger();
  private KeyStore store;
  private AccessControl control;

  @BeforeEach
  void open() {
    store = KeyStores.open("jdbc:sqlite::memory:");
    AuditSink sink =
        new AuditSink() {
          @Override
          public void write(byte[] line) {
            lines.incrementAndGet();
          }

          @Override
          public void check() throws IOException {
            checks.incrementAndGet();
            if (removed.get()) {
              throw new IOException("the audit log file was removed");
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    control =
        AccessControl.developmentMode(
            null,
            store,
            new KeyArns("aws", "local-1", "111122223333"),
            Clock.systemUTC(),
            AuditLog.over(sink, Clock.systemUTC()));
    lines.set(0);
  }

  @AfterEach
  void close() {
    store.close();
  }

  private String run(Operation op, Runnable effect) {
    OperationRequest request =
        new OperationRequest() {
          @Override
          public String keyId() {
            return UUID.randomUUID().toString();
          }
        };
    return control.run(
        Principals.LOCAL,
        "request-1",
        op,
        null,
        request,
        control.lookup(),
        lookup -> {
          effect.run();
          return "answer";
        });
  }

  @Test
  void encrypt_checksTheLogOnce_whenItsRecordIsWritten() {
    assertThat(run(Operation.ENCRYPT, () -> assertThat(checks).hasValue(0))).isEqualTo("answer");
    assertThat(checks).hasValue(1);
    assertThat(lines).hasValue(1);
  }

  @Test
  void disableKey_checksTheLogBeforeItRuns_andWhenItsRecordIsWritten() {
    assertThat(run(Operation.DISABLE_KEY, () -> assertThat(checks).hasValue(1)))
        .isEqualTo("answer");
    assertThat(checks).hasValue(2);
  }

  @Test
  void logRemoved_encryptIsRefusedBeforeItsAnswer_disableKeyBeforeItRuns() {
    removed.set(true);
    AtomicBoolean encrypted = new AtomicBoolean();
    assertThatThrownBy(() -> run(Operation.ENCRYPT, () -> encrypted.set(true)))
        .isInstanceOf(AuditException.class);
    assertThat(encrypted).isTrue(); // ran, but its answer was not given
    assertThat(lines).hasValue(0);

    AtomicBoolean disabled = new AtomicBoolean();
    assertThatThrownBy(() -> run(Operation.DISABLE_KEY, () -> disabled.set(true)))
        .isInstanceOf(AuditException.class);
    assertThat(disabled).isFalse();
    assertThat(lines).hasValue(0);
  }
}
