package io.p11kms.bench;

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.p11kms.proto.v1.BatchEncryptRequest;
import io.p11kms.proto.v1.BatchEncryptResult;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DataKeySpec;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceFutureStub;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.ListKeysResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The benchmark's calls to the service, each picking a key from the keys made so far: uniformly at
 * random, or by a {@link KeyChoice} given.
 */
final class KmsCalls {
  private static final int CALL_DEADLINE_SECONDS = 30;

  private final ManagedChannel channel;
  private final ByteString plaintext;
  private final List<String> keys = new ArrayList<>();

  KmsCalls(ManagedChannel channel, int plaintextBytes) {
    this.channel = channel;
    byte[] bytes = new byte[plaintextBytes];
    ThreadLocalRandom.current().nextBytes(bytes);
    this.plaintext = ByteString.copyFrom(bytes);
  }

  private KeyManagementServiceFutureStub stub() {
    return KeyManagementServiceGrpc.newFutureStub(channel)
        .withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  int keyCount() {
    return keys.size();
  }

  /** The id of the key made {@code index}-th (from 0). */
  String keyId(int index) {
    return keys.get(index);
  }

  private String randomKey() {
    return keys.get(ThreadLocalRandom.current().nextInt(keys.size()));
  }

  /**
   * Adds the keys the database holds already (a results folder's data kept with {@code
   * P11KMS_BENCH_DATA}), in the order ListKeys returns them; returns how many.
   */
  int listExistingKeys() {
    String marker = "";
    do {
      ListKeysResponse page =
          KeyManagementServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS)
              .listKeys(ListKeysRequest.newBuilder().setLimit(1000).setMarker(marker).build());
      page.getKeysList().forEach(k -> keys.add(k.getKeyId()));
      marker = page.getTruncated() ? page.getNextMarker() : "";
    } while (!marker.isEmpty());
    return keys.size();
  }

  /**
   * Creates keys through CreateKey, {@code inFlight} calls at a time, until {@code total} exist.
   *
   * @return the seconds it took
   */
  double createKeysUpTo(int total, int inFlight) throws InterruptedException {
    int toMake = total - keys.size();
    if (toMake <= 0) {
      return 0;
    }
    Semaphore permits = new Semaphore(inFlight);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    String[] made = new String[toMake];
    long start = System.nanoTime();
    int progressStep = Math.max(10_000, toMake / 10);
    for (int i = 0; i < toMake && failure.get() == null; i++) {
      permits.acquire();
      int index = i;
      ListenableFuture<io.p11kms.proto.v1.CreateKeyResponse> future =
          stub().createKey(CreateKeyRequest.newBuilder().setDescription("bench").build());
      future.addListener(
          () -> {
            try {
              made[index] = future.get().getKeyMetadata().getKeyId();
            } catch (InterruptedException | ExecutionException e) {
              failure.compareAndSet(null, e);
            } finally {
              permits.release();
            }
          },
          Runnable::run);
      if ((i + 1) % progressStep == 0 && toMake > progressStep) {
        System.out.printf(
            "  created %,d of %,d keys (%.0f s)%n",
            keys.size() + i + 1, total, (System.nanoTime() - start) / 1e9);
      }
    }
    permits.acquire(inFlight);
    permits.release(inFlight);
    if (failure.get() != null) {
      throw new IllegalStateException("CreateKey failed", failure.get());
    }
    keys.addAll(List.of(made));
    return (System.nanoTime() - start) / 1e9;
  }

  Supplier<ListenableFuture<?>> encrypt() {
    return encrypt(KeyChoice.uniform(keys.size()));
  }

  /**
   * Encrypt under the key {@code choice} picks for each call, out of the keys made so far (a choice
   * over fewer keys picks among the first ones made).
   */
  Supplier<ListenableFuture<?>> encrypt(KeyChoice choice) {
    List<String> ids = List.copyOf(keys);
    return () ->
        stub()
            .encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(ids.get(choice.next()))
                    .setPlaintext(plaintext)
                    .build());
  }

  /**
   * BatchEncrypt of {@code items} items, each under a random key; a call with an item that failed
   * counts as a failed call.
   */
  Supplier<ListenableFuture<?>> batchEncrypt(int items) {
    return () -> {
      BatchEncryptRequest.Builder batch = BatchEncryptRequest.newBuilder();
      for (int i = 0; i < items; i++) {
        batch.addItems(
            EncryptRequest.newBuilder().setKeyId(randomKey()).setPlaintext(plaintext).build());
      }
      return Futures.transform(
          stub().batchEncrypt(batch.build()),
          response -> {
            if (response.getResultsList().stream().anyMatch(BatchEncryptResult::hasError)) {
              throw new IllegalStateException("a BatchEncrypt item failed");
            }
            return response;
          },
          MoreExecutors.directExecutor());
    };
  }

  /**
   * The grpc.health.v1 Check: a unary call through the same transport, executor and global
   * interceptors as the KMS calls, with no store read, no access check, no audit record and no
   * token call. What it costs is a floor under any KMS call's cost.
   */
  Supplier<ListenableFuture<?>> healthCheck() {
    HealthCheckRequest request = HealthCheckRequest.getDefaultInstance();
    return () ->
        HealthGrpc.newFutureStub(channel)
            .withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS)
            .check(request);
  }

  Supplier<ListenableFuture<?>> generateDataKey() {
    return () ->
        stub()
            .generateDataKey(
                GenerateDataKeyRequest.newBuilder()
                    .setKeyId(randomKey())
                    .setKeySpec(DataKeySpec.AES_256)
                    .build());
  }

  /**
   * Decrypts ciphertexts made beforehand: {@code count} Encrypt requests under random keys (sent as
   * BatchEncrypt calls of {@link ServicePoints#BATCH_ITEMS}, so that 20,000 take seconds), then a
   * random one of them per call.
   */
  Supplier<ListenableFuture<?>> decrypt(int count) throws InterruptedException {
    return decrypt(count, keys.size());
  }

  /** As {@link #decrypt(int)}, the ciphertexts under random keys of the first {@code keysInUse}. */
  Supplier<ListenableFuture<?>> decrypt(int count, int keysInUse) throws InterruptedException {
    List<ByteString> blobs = new ArrayList<>(count);
    while (blobs.size() < count) {
      BatchEncryptRequest.Builder batch = BatchEncryptRequest.newBuilder();
      for (int i = 0; i < Math.min(ServicePoints.BATCH_ITEMS, count - blobs.size()); i++) {
        String key = keys.get(ThreadLocalRandom.current().nextInt(keysInUse));
        batch.addItems(EncryptRequest.newBuilder().setKeyId(key).setPlaintext(plaintext).build());
      }
      try {
        for (BatchEncryptResult result :
            stub().batchEncrypt(batch.build()).get().getResultsList()) {
          if (result.hasError()) {
            throw new IllegalStateException(
                "Encrypt for the Decrypt set failed: " + result.getError());
          }
          blobs.add(result.getResponse().getCiphertextBlob());
        }
      } catch (ExecutionException e) {
        throw new IllegalStateException("BatchEncrypt for the Decrypt set failed", e.getCause());
      }
    }
    return () ->
        stub()
            .decrypt(
                DecryptRequest.newBuilder()
                    .setCiphertextBlob(blobs.get(ThreadLocalRandom.current().nextInt(count)))
                    .build());
  }
}
