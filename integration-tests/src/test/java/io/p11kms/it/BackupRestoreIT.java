package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.p11kms.hsm.Hsm;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GenerateDataKeyResponse;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListResourceTagsRequest;
import io.p11kms.proto.v1.Tag;
import io.p11kms.server.KmsServer;
import io.p11kms.server.Main;
import io.p11kms.server.store.KeyStores;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Backup and restore end to end: ciphertexts made before {@code export-store} decrypt after {@code
 * import-store} into a fresh database, served by a new server on the same token.
 */
class BackupRestoreIT {
  @TempDir Path temp;

  private Path config(KmsTestServer server, Path database) throws Exception {
    Path file = Files.createTempFile(temp, "p11kms", ".properties");
    Files.writeString(
        file,
        "hsm.module="
            + server.token().modulePath()
            + "\nhsm.token.label="
            + server.token().label()
            + "\nhsm.pin.file="
            + server.token().userPinFile()
            + "\nstore.jdbc.url=jdbc:sqlite:"
            + database
            + "\n");
    return file;
  }

  /** The running server's adapter, shared by a second server that must not close it. */
  private static Hsm notClosing(Hsm hsm) {
    return (Hsm)
        Proxy.newProxyInstance(
            Hsm.class.getClassLoader(),
            new Class<?>[] {Hsm.class},
            (proxy, method, args) -> {
              if (method.getName().equals("close") && method.getParameterCount() == 0) {
                return null;
              }
              try {
                return method.invoke(hsm, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  @Test
  void ciphertextsMadeBeforeABackup_decryptAfterRestoreIntoAFreshDatabase() throws Exception {
    try (KmsTestServer original = KmsTestServer.start()) {
      KeyManagementServiceBlockingStub kms = original.client();
      String keyId =
          kms.createKey(
                  CreateKeyRequest.newBuilder()
                      .setDescription("backed up")
                      .addTags(Tag.newBuilder().setTagKey("team").setTagValue("payments"))
                      .build())
              .getKeyMetadata()
              .getKeyId();
      kms.createAlias(
          CreateAliasRequest.newBuilder()
              .setAliasName("alias/backed-up")
              .setTargetKeyId(keyId)
              .build());
      Map<ByteString, ByteString> ciphertexts = new LinkedHashMap<>();
      for (int i = 0; i < 5; i++) {
        ByteString plaintext = ByteString.copyFromUtf8("record " + i);
        ciphertexts.put(
            kms.encrypt(
                    EncryptRequest.newBuilder()
                        .setKeyId("alias/backed-up")
                        .setPlaintext(plaintext)
                        .putEncryptionContext("row", Integer.toString(i))
                        .build())
                .getCiphertextBlob(),
            plaintext);
      }
      GenerateDataKeyResponse dataKey =
          kms.generateDataKey(
              GenerateDataKeyRequest.newBuilder().setKeyId(keyId).setNumberOfBytes(32).build());

      Path backup = temp.resolve("store.backup");
      Path restored = temp.resolve("restored.db");
      CommandLine cli = new CommandLine(new Main());
      assertThat(
              cli.execute(
                  "export-store",
                  "--config",
                  config(original, original.database()).toString(),
                  "--out",
                  backup.toString()))
          .isZero();
      assertThat(Files.readString(backup)).doesNotContain(dataKey.getPlaintext().toStringUtf8());
      assertThat(
              cli.execute(
                  "import-store",
                  "--config",
                  config(original, restored).toString(),
                  "--in",
                  backup.toString()))
          .isZero();
      // A second import into the now non-empty store is refused.
      assertThat(
              cli.execute(
                  "import-store",
                  "--config",
                  config(original, restored).toString(),
                  "--in",
                  backup.toString()))
          .isEqualTo(1);

      var restoredStore = KeyStores.open("jdbc:sqlite:" + restored);
      KmsServer second =
          new KmsServer(
                  NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
                  notClosing(original.pkcs11()),
                  restoredStore,
                  KmsTestServer.ARNS,
                  Clock.systemUTC(),
                  Duration.ofSeconds(1),
                  KmsTestServer.allowingAll(original.pkcs11(), restoredStore, Clock.systemUTC()))
              .start();
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", second.port()).usePlaintext().build();
      try {
        KeyManagementServiceBlockingStub restoredKms =
            KeyManagementServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS);
        int row = 0;
        for (var entry : ciphertexts.entrySet()) {
          assertThat(
                  restoredKms
                      .decrypt(
                          DecryptRequest.newBuilder()
                              .setCiphertextBlob(entry.getKey())
                              .putEncryptionContext("row", Integer.toString(row++))
                              .build())
                      .getPlaintext())
              .isEqualTo(entry.getValue());
        }
        assertThat(
                restoredKms
                    .decrypt(
                        DecryptRequest.newBuilder()
                            .setCiphertextBlob(dataKey.getCiphertextBlob())
                            .build())
                    .getPlaintext())
            .isEqualTo(dataKey.getPlaintext());
        assertThat(
                restoredKms
                    .encrypt(
                        EncryptRequest.newBuilder()
                            .setKeyId("alias/backed-up")
                            .setPlaintext(ByteString.copyFromUtf8("after"))
                            .build())
                    .getKeyId())
            .endsWith(keyId);
        assertThat(
                restoredKms
                    .listResourceTags(ListResourceTagsRequest.newBuilder().setKeyId(keyId).build())
                    .getTagsList())
            .containsExactly(Tag.newBuilder().setTagKey("team").setTagValue("payments").build());
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        second.stop();
      }
    }
  }
}
