package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_DEVICE_ERROR;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.StatusProto;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.TokenFaults;
import io.p11kms.hsm.testing.FaultInjector;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.ListKeysResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;

/**
 * The load test of issue 5: 8 gRPC clients against a server on a real port for 30 seconds (set
 * {@code -Dp11kms.load.seconds} to change it), CreateKey, Encrypt and Decrypt mixed, and a token
 * fault every second, rotating through: every session closed, a logout, the library finalized and
 * initialized again, the library finalized, and an injected {@code CKR_DEVICE_ERROR}. A client that
 * gets UNAVAILABLE retries once after 100 ms.
 *
 * <p>Prints one line per metric and asserts: 0 wrong results, 0 crashes, 0 duplicated (or lost)
 * keys, every failure retryable, at least 99% of operations succeed with one retry, every call
 * started 2 s after the last fault succeeds first time, and as many token objects after as before.
 */
class FaultLoadIT {
  private static final int CLIENTS = 8;
  private static final long LOAD_SECONDS = Long.getLong("p11kms.load.seconds", 30);
  private static final Duration QUIET_AFTER_LAST_FAULT = Duration.ofSeconds(2);

  private enum Fault {
    CLOSE_ALL_SESSIONS,
    LOG_OUT,
    FINALIZE_AND_INITIALIZE,
    FINALIZE,
    DEVICE_ERROR
  }

  private record Sealed(ByteString blob, ByteString plaintext, String context) {}

  private final FaultInjector injector = new FaultInjector();
  private final List<String> keys = new CopyOnWriteArrayList<>();
  private final Set<String> acknowledgedKeys = ConcurrentHashMap.newKeySet();
  private final AtomicReferenceArray<Sealed> recent = new AtomicReferenceArray<>(4096);
  private final AtomicLong sealedCount = new AtomicLong();
  private final AtomicLong operations = new AtomicLong();
  private final AtomicLong firstTry = new AtomicLong();
  private final AtomicLong afterRetry = new AtomicLong();
  private final AtomicLong failedAfterRetry = new AtomicLong();
  private final AtomicLong retryableFailures = new AtomicLong();
  private final AtomicLong otherFailures = new AtomicLong();
  private final AtomicLong wrong = new AtomicLong();
  private final AtomicLong crashes = new AtomicLong();
  private final AtomicLong lateCalls = new AtomicLong();
  private final AtomicLong lateFailures = new AtomicLong();
  private final Set<String> otherFailureKinds = ConcurrentHashMap.newKeySet();
  private volatile long quietFromNanos = Long.MAX_VALUE;

  @Test
  void eightClientsWithAFaultEverySecond_meetTheIssueTargets() throws Exception {
    try (KmsTestServer server = KmsTestServer.start(injector, Duration.ofMillis(500))) {
      Pkcs11Hsm pkcs11 = server.pkcs11();
      TokenFaults faults = new TokenFaults(pkcs11);
      for (int i = 0; i < 8; i++) {
        String id = createKey(server.client());
        keys.add(id);
        acknowledgedKeys.add(id);
      }
      int objectsBefore = pkcs11.visibleObjectCount();

      AtomicBoolean stop = new AtomicBoolean();
      ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
      List<Future<?>> running = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        running.add(clients.submit(() -> clientLoop(server, stop)));
      }

      int faultCount = 0;
      long start = System.nanoTime();
      for (int second = 1; second <= LOAD_SECONDS; second++) {
        sleepUntil(start + TimeUnit.SECONDS.toNanos(second));
        Fault fault = Fault.values()[faultCount++ % Fault.values().length];
        inject(faults, fault);
      }
      long lastFault = System.nanoTime();
      quietFromNanos = lastFault + QUIET_AFTER_LAST_FAULT.toNanos();
      sleepUntil(quietFromNanos + TimeUnit.SECONDS.toNanos(2));
      stop.set(true);
      for (Future<?> f : running) {
        f.get(60, TimeUnit.SECONDS);
      }
      double seconds = (lastFault - start) / 1e9;

      Set<String> listed = listAllKeys(server.client());
      long verified = verifyRecentCiphertexts(server, clients);
      clients.shutdown();
      pkcs11.evictCachedBackingKeys();
      int objectsAfter = pkcs11.visibleObjectCount();
      ServingStatus health =
          HealthGrpc.newBlockingStub(server.channel())
              .check(HealthCheckRequest.getDefaultInstance())
              .getStatus();
      long ops = operations.get();
      double successRate = ops == 0 ? 0 : 100.0 * (ops - failedAfterRetry.get()) / ops;

      System.out.printf(
          "load: %d clients, %.1f s, %d faults (%s), %d operations (%.0f/s)%n",
          CLIENTS, seconds, faultCount, String.join(", ", names()), ops, ops / seconds);
      System.out.printf("wrong results: %d%n", wrong.get());
      System.out.printf("crashes: %d (health at the end: %s)%n", crashes.get(), health);
      System.out.printf(
          "duplicated keys: %d (listed %d, acknowledged %d, unacknowledged but stored %d)%n",
          listed.size() - acknowledgedKeys.size(),
          listed.size(),
          acknowledgedKeys.size(),
          minus(listed, acknowledgedKeys).size());
      System.out.printf(
          "failed calls: %d retryable (UNAVAILABLE/DependencyTimeoutException), %d other %s%n",
          retryableFailures.get(), otherFailures.get(), otherFailureKinds);
      System.out.printf(
          "success with one retry: %.3f%% (%d first try, %d after the retry, %d failed twice)%n",
          successRate, firstTry.get(), afterRetry.get(), failedAfterRetry.get());
      System.out.printf(
          "calls started %d s after the last fault: %d, failed %d%n",
          QUIET_AFTER_LAST_FAULT.toSeconds(), lateCalls.get(), lateFailures.get());
      System.out.printf(
          "token objects: before %d, after %d (acknowledged ciphertexts re-decrypted: %d)%n",
          objectsBefore, objectsAfter, verified);

      assertThat(faultCount).isGreaterThanOrEqualTo((int) LOAD_SECONDS);
      assertThat(wrong.get()).as("wrong results").isZero();
      assertThat(crashes.get()).as("crashes").isZero();
      assertThat(health).isEqualTo(ServingStatus.SERVING);
      assertThat(listed).as("stored keys = acknowledged keys").isEqualTo(acknowledgedKeys);
      assertThat(otherFailures.get()).as("non-retryable failures").isZero();
      assertThat(successRate).as("%% succeeding with one retry").isGreaterThanOrEqualTo(99.0);
      assertThat(lateCalls.get()).isPositive();
      assertThat(lateFailures.get()).as("failures 2 s after the last fault").isZero();
      assertThat(objectsAfter).as("token objects after = before").isEqualTo(objectsBefore);
    }
  }

  private static List<String> names() {
    List<String> names = new ArrayList<>();
    for (Fault f : Fault.values()) {
      names.add(f.name().toLowerCase());
    }
    return names;
  }

  private void inject(TokenFaults faults, Fault fault) throws Exception {
    switch (fault) {
      case CLOSE_ALL_SESSIONS -> faults.closeAllSessions();
      case LOG_OUT -> faults.logOut();
      case FINALIZE_AND_INITIALIZE -> faults.finalizeAndInitialize();
      case FINALIZE -> faults.finalizeLibrary();
      case DEVICE_ERROR -> injector.failNext("C_Encrypt", CKR_DEVICE_ERROR);
    }
  }

  private void clientLoop(KmsTestServer server, AtomicBoolean stop) {
    while (!stop.get()) {
      int dice = ThreadLocalRandom.current().nextInt(100);
      Runnable op;
      if (dice < 5) {
        op = () -> created(createKey(server.client()));
      } else if (dice < 55 || sealedCount.get() == 0) {
        op = () -> encryptOne(server.client());
      } else {
        op = () -> decryptOne(server.client());
      }
      try {
        runWithOneRetry(op);
      } catch (RuntimeException | Error e) {
        crashes.incrementAndGet();
        otherFailureKinds.add(e.getClass().getSimpleName());
      }
    }
  }

  private void runWithOneRetry(Runnable op) {
    operations.incrementAndGet();
    boolean late = System.nanoTime() >= quietFromNanos;
    if (late) {
      lateCalls.incrementAndGet();
    }
    if (attempt(op)) {
      firstTry.incrementAndGet();
      return;
    }
    if (late) {
      lateFailures.incrementAndGet();
    }
    sleep(100);
    if (attempt(op)) {
      afterRetry.incrementAndGet();
    } else {
      failedAfterRetry.incrementAndGet();
    }
  }

  /** Runs one call; true if it succeeded. A failure is counted as retryable or not. */
  private boolean attempt(Runnable op) {
    try {
      op.run();
      return true;
    } catch (StatusRuntimeException e) {
      String reason = reason(e);
      if (e.getStatus().getCode() == Status.Code.UNAVAILABLE
          && reason.equals("DependencyTimeoutException")) {
        retryableFailures.incrementAndGet();
      } else {
        otherFailures.incrementAndGet();
        otherFailureKinds.add(e.getStatus().getCode() + "/" + reason);
      }
      return false;
    }
  }

  /** The AWS exception name in the error's ErrorInfo, or "none". */
  private static String reason(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status == null) {
      return "none";
    }
    for (com.google.protobuf.Any any : status.getDetailsList()) {
      if (any.is(ErrorInfo.class)) {
        try {
          return any.unpack(ErrorInfo.class).getReason();
        } catch (InvalidProtocolBufferException invalid) {
          return "unreadable";
        }
      }
    }
    return "none";
  }

  private void created(String keyId) {
    acknowledgedKeys.add(keyId);
    keys.add(keyId);
  }

  private static String createKey(KeyManagementServiceBlockingStub kms) {
    return kms.withDeadlineAfter(20, TimeUnit.SECONDS)
        .createKey(CreateKeyRequest.newBuilder().setDescription("load").build())
        .getKeyMetadata()
        .getKeyId();
  }

  private void encryptOne(KeyManagementServiceBlockingStub kms) {
    String keyId = keys.get(ThreadLocalRandom.current().nextInt(keys.size()));
    byte[] random = new byte[1 + ThreadLocalRandom.current().nextInt(256)];
    ThreadLocalRandom.current().nextBytes(random);
    ByteString plaintext = ByteString.copyFrom(random);
    String context = Long.toString(ThreadLocalRandom.current().nextLong());
    ByteString blob =
        kms.withDeadlineAfter(20, TimeUnit.SECONDS)
            .encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(keyId)
                    .setPlaintext(plaintext)
                    .putEncryptionContext("c", context)
                    .build())
            .getCiphertextBlob();
    long n = sealedCount.getAndIncrement();
    recent.set((int) (n % recent.length()), new Sealed(blob, plaintext, context));
  }

  private void decryptOne(KeyManagementServiceBlockingStub kms) {
    long n = sealedCount.get();
    int bound = (int) Math.min(n, recent.length());
    Sealed sealed = recent.get(ThreadLocalRandom.current().nextInt(bound));
    if (sealed != null) {
      checkDecrypts(kms, sealed);
    }
  }

  private void checkDecrypts(KeyManagementServiceBlockingStub kms, Sealed sealed) {
    ByteString plaintext;
    try {
      plaintext =
          kms.withDeadlineAfter(20, TimeUnit.SECONDS)
              .decrypt(
                  DecryptRequest.newBuilder()
                      .setCiphertextBlob(sealed.blob())
                      .putEncryptionContext("c", sealed.context())
                      .build())
              .getPlaintext();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNAVAILABLE) {
        wrong.incrementAndGet();
      }
      throw e;
    }
    if (!plaintext.equals(sealed.plaintext())) {
      wrong.incrementAndGet();
    }
  }

  /** Decrypts every ciphertext still in the ring of recent ones, on the client threads. */
  private long verifyRecentCiphertexts(KmsTestServer server, ExecutorService clients)
      throws Exception {
    AtomicLong verified = new AtomicLong();
    List<Future<?>> parts = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int first = c;
      parts.add(
          clients.submit(
              () -> {
                for (int i = first; i < recent.length(); i += CLIENTS) {
                  Sealed sealed = recent.get(i);
                  if (sealed != null) {
                    checkDecrypts(server.client(), sealed);
                    verified.incrementAndGet();
                  }
                }
              }));
    }
    for (Future<?> part : parts) {
      part.get(60, TimeUnit.SECONDS);
    }
    return verified.get();
  }

  private static Set<String> listAllKeys(KeyManagementServiceBlockingStub kms) {
    Set<String> ids = new HashSet<>();
    String marker = "";
    while (true) {
      ListKeysResponse page =
          kms.listKeys(ListKeysRequest.newBuilder().setLimit(1000).setMarker(marker).build());
      page.getKeysList().forEach(k -> ids.add(k.getKeyId()));
      if (!page.getTruncated()) {
        return ids;
      }
      marker = page.getNextMarker();
    }
  }

  private static Set<String> minus(Set<String> a, Set<String> b) {
    Set<String> out = new HashSet<>(a);
    out.removeAll(b);
    return out;
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long left = nanos - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
