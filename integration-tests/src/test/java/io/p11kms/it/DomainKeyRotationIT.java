package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.RotateKeyOnDemandRequest;
import io.p11kms.server.DomainKeyRotationSchedule;
import io.p11kms.server.service.DomainKeyRewrap;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Domain-key rotation on a real token: generation 2 is made by the security officer in a separate
 * JVM ({@code p11kms init-domain-key}, as an operator would; an SO login cannot share the server's
 * process), then the server re-wraps every EKT to it while clients keep calling. No request fails,
 * a crash half-way leaves every key usable, and a rerun completes the work.
 */
class DomainKeyRotationIT {
  private static final int KEYS = 240;
  private static final int CLIENTS = 4;

  private KmsTestServer server;
  private KeyManagementServiceBlockingStub kms;
  private KeyStore store;
  private final List<String> keyIds = new ArrayList<>();
  private final List<byte[]> blobs = new ArrayList<>();

  @BeforeEach
  void startServer() throws Exception {
    server = KmsTestServer.start();
    kms = server.client();
    store = KeyStores.open("jdbc:sqlite:" + server.database());
    for (int i = 0; i < KEYS; i++) {
      String keyId =
          kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
      keyIds.add(keyId);
      blobs.add(encrypt(keyId, "before-" + i));
    }
    // A few keys with more than one version: every version moves.
    for (int i = 0; i < 10; i++) {
      kms.rotateKeyOnDemand(RotateKeyOnDemandRequest.newBuilder().setKeyId(keyIds.get(i)).build());
    }
  }

  @AfterEach
  void stopServer() throws Exception {
    store.close();
    server.close();
  }

  @Test
  void rewrap_underConcurrentEncryptAndDecrypt_noRequestFails_andNoEktKeepsGenerationOne()
      throws Exception {
    long versions = KEYS + 10;
    assertThat(store.countVersionsByGeneration()).containsExactly(Map.entry(1, versions));
    createGeneration(2);

    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong served = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> running = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      running.add(clients.submit(() -> load(stop, served, failed)));
    }
    long before;
    DomainKeyRewrap.Result result;
    try {
      Thread.sleep(200);
      before = served.get();
      result = server.rewrapDomainKeys();
    } finally {
      stop.set(true);
      clients.shutdown();
      assertThat(clients.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
    for (Future<?> f : running) {
      f.get();
    }
    long during = served.get() - before;
    System.out.printf(
        "domain-key re-wrap: %d EKTs in %d batches; %d requests served during the run, %d in"
            + " all, %d failed%n",
        result.rewrapped(), result.batches(), during, served.get(), failed.get());

    assertThat(failed.get()).isZero();
    assertThat(during).isPositive();
    assertThat(result.targetGeneration()).isEqualTo(2);
    assertThat(result.rewrapped()).isEqualTo(versions);
    assertThat(result.retiredGenerations()).containsExactly(1);
    assertThat(store.countVersionsByGeneration()).containsExactly(Map.entry(2, versions));
    assertThat(store.retiredDomainKeys()).containsExactly(1);
    assertEveryKeyUsable();

    // New keys go under generation 2; a second run has nothing to do.
    kms.createKey(CreateKeyRequest.getDefaultInstance());
    assertThat(store.countVersionsByGeneration()).containsExactly(Map.entry(2, versions + 1));
    assertThat(server.rewrapDomainKeys().rewrapped()).isZero();
  }

  @Test
  void crashHalfWay_everyKeyStaysUsable_andARerunCompletesTheWork() throws Exception {
    long versions = KEYS + 10;
    createGeneration(2);
    DomainKeyRewrap crashing =
        new DomainKeyRewrap(
            server.hsm(),
            store,
            Clock.systemUTC(),
            50,
            batch -> {
              if (batch == 3) {
                throw new IllegalStateException("injected crash before storing batch 3");
              }
            });
    assertThatThrownBy(crashing::run).hasMessageContaining("injected crash");

    Map<Integer, Long> half = store.countVersionsByGeneration();
    assertThat(half).containsExactly(Map.entry(1, versions - 100), Map.entry(2, 100L));
    assertThat(store.retiredDomainKeys()).isEmpty();
    assertEveryKeyUsable();

    DomainKeyRewrap.Result rerun = server.rewrapDomainKeys();
    assertThat(rerun.rewrapped()).isEqualTo(versions - 100);
    assertThat(rerun.retiredGenerations()).containsExactly(1);
    assertThat(store.countVersionsByGeneration()).containsExactly(Map.entry(2, versions));
    assertEveryKeyUsable();
  }

  @Test
  void serverSchedule_createsTheNextGenerationInAChildJvm_thenRewraps() throws Exception {
    long versions = KEYS + 10;
    Path dir = Files.createTempDirectory("p11kms-conf");
    Path soPin = writeSoPin(dir);
    SoftHsmTestToken token = server.token();
    Path config = dir.resolve("p11kms.properties");
    Files.writeString(
        config,
        String.join(
            "\n",
            "hsm.module=" + token.modulePath(),
            "hsm.token.label=" + token.label(),
            "hsm.pin.file=" + token.userPinFile(),
            "store.jdbc.url=jdbc:sqlite:" + server.database(),
            DomainKeyRotationSchedule.SO_PIN_FILE + "=so.pin",
            DomainKeyRotationSchedule.INTERVAL_HOURS + "=24",
            ""));
    DomainKeyRotationSchedule.Settings settings = DomainKeyRotationSchedule.load(config);
    assertThat(settings.soPinFile()).contains(soPin);

    DomainKeyRewrap.Result result;
    try {
      result =
          new DomainKeyRotationSchedule(
                  config, settings.soPinFile().get(), server::rewrapDomainKeys)
              .rotate();
    } finally {
      TempDirs.deleteTree(dir);
    }

    assertThat(result.targetGeneration()).isEqualTo(2);
    assertThat(result.rewrapped()).isEqualTo(versions);
    assertThat(store.countVersionsByGeneration()).containsExactly(Map.entry(2, versions));
    assertEveryKeyUsable();
  }

  /** The SO PIN in {@code dir/so.pin}, readable by the owner only. */
  private Path writeSoPin(Path dir) throws Exception {
    Path pinFile = dir.resolve("so.pin");
    Files.createFile(
        pinFile,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    char[] pin = server.token().soPin();
    try {
      Files.writeString(pinFile, new String(pin));
    } finally {
      java.util.Arrays.fill(pin, '\0');
    }
    return pinFile;
  }

  private void load(AtomicBoolean stop, AtomicLong served, AtomicLong failed) {
    KeyManagementServiceBlockingStub client = server.client();
    ThreadLocalRandom random = ThreadLocalRandom.current();
    while (!stop.get()) {
      int i = random.nextInt(KEYS);
      try {
        byte[] fresh = encryptWith(client, keyIds.get(i), "during");
        served.incrementAndGet();
        assertThat(decryptWith(client, fresh)).isEqualTo("during");
        served.incrementAndGet();
        assertThat(decryptWith(client, blobs.get(i))).isEqualTo("before-" + i);
        served.incrementAndGet();
      } catch (RuntimeException | AssertionError e) {
        failed.incrementAndGet();
      }
    }
  }

  private void assertEveryKeyUsable() {
    for (int i = 0; i < KEYS; i++) {
      assertThat(decrypt(blobs.get(i))).isEqualTo("before-" + i);
      assertThat(decrypt(encrypt(keyIds.get(i), "after"))).isEqualTo("after");
    }
  }

  /** Runs {@code p11kms init-domain-key} as the SO in a JVM of its own, as an operator would. */
  private void createGeneration(int generation) throws Exception {
    SoCeremony.createGeneration(server.token(), generation);
  }

  private byte[] encrypt(String keyId, String text) {
    return encryptWith(kms, keyId, text);
  }

  private String decrypt(byte[] blob) {
    return decryptWith(kms, blob);
  }

  private static byte[] encryptWith(
      KeyManagementServiceBlockingStub client, String keyId, String text) {
    return client
        .encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8(text))
                .build())
        .getCiphertextBlob()
        .toByteArray();
  }

  private static String decryptWith(KeyManagementServiceBlockingStub client, byte[] blob) {
    return client
        .decrypt(DecryptRequest.newBuilder().setCiphertextBlob(ByteString.copyFrom(blob)).build())
        .getPlaintext()
        .toString(StandardCharsets.UTF_8);
  }
}
