package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DataKeySpec;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.server.service.DomainKeyRewrap;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The SoftHSM2 library recycle end to end: a real server whose adapter switches between two
 * instances of the library every 1,000 objects, while gRPC clients call and a new domain key
 * generation, made by the SO in another JVM, is rolled out. No call fails, every key made before
 * serves after, and no object is left on the token.
 */
class LibrarySwitchIT {
  private static final int KEYS = 20;
  private static final int CLIENTS = 4;
  private static final long BOUND = 1_000;

  @Test
  void severalSwitches_underLoad_andADomainKeyRollout_noCallFails_noObjectLeft() throws Exception {
    try (KmsTestServer server =
        KmsTestServer.startWithLibraryRecycle(BOUND, Duration.ofMillis(20))) {
      KeyManagementServiceBlockingStub kms = server.client();
      List<String> keyIds = new ArrayList<>();
      List<ByteString> blobs = new ArrayList<>();
      for (int i = 0; i < KEYS; i++) {
        String keyId =
            kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
        keyIds.add(keyId);
        blobs.add(encrypt(kms, keyId, "before-" + i));
      }
      int objectsBefore = server.tokenObjects();

      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong served = new AtomicLong();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      for (int c = 0; c < CLIENTS; c++) {
        clients.execute(
            () -> {
              KeyManagementServiceBlockingStub client = server.client();
              ThreadLocalRandom random = ThreadLocalRandom.current();
              while (!stop.get()) {
                int i = random.nextInt(KEYS);
                try {
                  ByteString fresh = encrypt(client, keyIds.get(i), "during");
                  assertThat(decrypt(client, fresh)).isEqualTo("during");
                  assertThat(decrypt(client, blobs.get(i))).isEqualTo("before-" + i);
                  assertThat(
                          client
                              .generateDataKey(
                                  GenerateDataKeyRequest.newBuilder()
                                      .setKeyId(keyIds.get(i))
                                      .setKeySpec(DataKeySpec.AES_256)
                                      .build())
                              .getPlaintext()
                              .size())
                      .isEqualTo(32);
                  served.addAndGet(4);
                } catch (RuntimeException | AssertionError e) {
                  failure.compareAndSet(null, e);
                  return;
                }
              }
            });
      }
      DomainKeyRewrap.Result rollout;
      try {
        awaitSwitches(server, 2, failure);
        SoCeremony.createGeneration(server.token(), 2);
        rollout = server.rewrapDomainKeys();
        awaitSwitches(server, server.pkcs11().libraryRecycles() + 3, failure);
      } finally {
        stop.set(true);
        clients.shutdown();
        assertThat(clients.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      }
      System.out.printf(
          "library switches: %d; calls served: %d%n",
          server.pkcs11().libraryRecycles(), served.get());

      assertThat(failure.get()).as("a call failed").isNull();
      assertThat(server.pkcs11().libraryRecycles()).isGreaterThanOrEqualTo(5);
      assertThat(rollout.targetGeneration()).isEqualTo(2);
      assertThat(rollout.rewrapped()).isEqualTo(KEYS);
      for (int i = 0; i < KEYS; i++) {
        assertThat(decrypt(kms, blobs.get(i))).isEqualTo("before-" + i);
      }
      // The three domain keys of generation 2 (symmetric, private-key, HMAC) and nothing else.
      assertThat(server.tokenObjects()).isEqualTo(objectsBefore + 3);
    }
  }

  private static void awaitSwitches(
      KmsTestServer server, long switches, AtomicReference<Throwable> failure)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (server.pkcs11().libraryRecycles() < switches
        && failure.get() == null
        && System.nanoTime() - deadline < 0) {
      Thread.sleep(10);
    }
  }

  private static ByteString encrypt(
      KeyManagementServiceBlockingStub client, String keyId, String text) {
    return client
        .encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8(text))
                .build())
        .getCiphertextBlob();
  }

  private static String decrypt(KeyManagementServiceBlockingStub client, ByteString blob) {
    return client
        .decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).build())
        .getPlaintext()
        .toStringUtf8();
  }
}
