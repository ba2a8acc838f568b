package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.ListKeysResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety: the server process (the set-up script, then {@code Main serve}) is killed with
 * SIGKILL twice while six clients mix CreateKey and Encrypt, then started again. Every key listed
 * describes and has a version, every acknowledged key is listed, and every ciphertext acknowledged
 * before a kill decrypts. (Key rotation does not exist yet, so no rotation is in the mix.)
 */
class CrashIT {
  private static final int CLIENTS = 6;

  @TempDir Path temp;

  private record Sealed(ByteString blob, ByteString plaintext) {}

  private final Set<String> acknowledgedKeys = ConcurrentHashMap.newKeySet();
  private final Queue<Sealed> acknowledged = new ConcurrentLinkedQueue<>();

  @Test
  void killedDuringCreateKeyAndEncrypt_restartsConsistent() throws Exception {
    Path dataDir = temp.resolve("data");
    ServerProcess.initToken(dataDir);

    int kills = 0;
    for (int round = 0; round < 2; round++) {
      ServerProcess server = ServerProcess.start(dataDir);
      ManagedChannel channel = channel(server);
      try {
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
          running.add(clients.submit(() -> load(stub(channel), stop)));
        }
        // Kill once the load is well under way (slow machines get longer), at a random moment.
        int keysBefore = acknowledgedKeys.size();
        int sealedBefore = acknowledged.size();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((acknowledgedKeys.size() - keysBefore < 20
                || acknowledged.size() - sealedBefore < 50)
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        Thread.sleep(ThreadLocalRandom.current().nextInt(500));
        server.kill();
        kills++;
        stop.set(true);
        for (Future<?> f : running) {
          f.get(60, TimeUnit.SECONDS);
        }
        clients.shutdown();
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
      }
    }

    try (ServerProcess server = ServerProcess.start(dataDir)) {
      ManagedChannel channel = channel(server);
      try {
        KeyManagementServiceBlockingStub kms = stub(channel);
        Set<String> listed = listAllKeys(kms);
        for (String keyId : listed) {
          kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(keyId).build());
          // Encrypt needs the key's latest version: a key without one fails here.
          kms.encrypt(
              EncryptRequest.newBuilder()
                  .setKeyId(keyId)
                  .setPlaintext(ByteString.copyFromUtf8("after the crash"))
                  .build());
        }
        int decrypted = 0;
        for (Sealed sealed : acknowledged) {
          ByteString plaintext =
              kms.decrypt(DecryptRequest.newBuilder().setCiphertextBlob(sealed.blob()).build())
                  .getPlaintext();
          assertThat(plaintext).isEqualTo(sealed.plaintext());
          decrypted++;
        }
        long keysWithoutVersion = keysWithoutVersion(dataDir.resolve("p11kms.db"));
        System.out.printf(
            "crash: %d kills; %d keys acknowledged, %d listed (%d committed but unacknowledged),"
                + " %d without a version; %d acknowledged ciphertexts, %d decrypt%n",
            kills,
            acknowledgedKeys.size(),
            listed.size(),
            listed.size() - acknowledgedKeys.size(),
            keysWithoutVersion,
            acknowledged.size(),
            decrypted);

        assertThat(acknowledgedKeys).isNotEmpty();
        assertThat(acknowledged).isNotEmpty();
        assertThat(listed).containsAll(acknowledgedKeys);
        assertThat(keysWithoutVersion).isZero();
        assertThat(decrypted).isEqualTo(acknowledged.size());
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private void load(KeyManagementServiceBlockingStub kms, AtomicBoolean stop) {
    List<String> mine = new ArrayList<>();
    while (!stop.get()) {
      try {
        if (mine.isEmpty() || ThreadLocalRandom.current().nextInt(5) == 0) {
          String keyId =
              kms.withDeadlineAfter(10, TimeUnit.SECONDS)
                  .createKey(CreateKeyRequest.getDefaultInstance())
                  .getKeyMetadata()
                  .getKeyId();
          acknowledgedKeys.add(keyId);
          mine.add(keyId);
        } else {
          ByteString plaintext =
              ByteString.copyFromUtf8("record " + ThreadLocalRandom.current().nextLong());
          String keyId = mine.get(ThreadLocalRandom.current().nextInt(mine.size()));
          ByteString blob =
              kms.withDeadlineAfter(10, TimeUnit.SECONDS)
                  .encrypt(
                      EncryptRequest.newBuilder().setKeyId(keyId).setPlaintext(plaintext).build())
                  .getCiphertextBlob();
          acknowledged.add(new Sealed(blob, plaintext));
        }
      } catch (StatusRuntimeException e) {
        // The server is gone (killed): what was not acknowledged does not count.
        try {
          Thread.sleep(20);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private static long keysWithoutVersion(Path database) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + database);
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT COUNT(*) FROM keys k WHERE NOT EXISTS"
                    + " (SELECT 1 FROM key_versions v WHERE v.key_id = k.key_id)")) {
      r.next();
      return r.getLong(1);
    }
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

  private static ManagedChannel channel(ServerProcess server) {
    return NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  private static KeyManagementServiceBlockingStub stub(ManagedChannel channel) {
    return KeyManagementServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(60, TimeUnit.SECONDS);
  }
}
