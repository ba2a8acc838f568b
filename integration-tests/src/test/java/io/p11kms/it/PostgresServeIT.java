package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.server.testing.PostgresTestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Main serve} on PostgreSQL, as an operator configures it: the URL, a user and a password
 * file; the server creates the schema, serves, and after a restart still decrypts what it encrypted
 * before. The password never reaches the server's log.
 */
class PostgresServeIT {
  private static final String PASSWORD = "pg-it-Secret-7391";

  @TempDir Path temp;

  @Test
  void serveOnPostgres_encryptRestartDecrypt() throws Exception {
    try (PostgresTestServer pg = PostgresTestServer.start()) {
      String database = pg.createPasswordRole("p11kms_it", PASSWORD);
      Path dataDir = temp.resolve("data");
      ServerProcess.initToken(dataDir);
      Files.writeString(dataDir.resolve("db-password"), PASSWORD + "\n");
      Path properties = dataDir.resolve("p11kms.properties");
      String config =
          Files.readString(properties, StandardCharsets.UTF_8)
              .replaceAll("(?m)^store\\.jdbc\\.url=.*$", "")
              .concat(
                  "store.jdbc.url="
                      + pg.jdbcUrl(database)
                      + "\nstore.jdbc.user="
                      + database
                      + "\nstore.jdbc.password.file=db-password\n");
      Files.writeString(properties, config, StandardCharsets.UTF_8);

      ByteString plaintext = ByteString.copyFromUtf8("kept in PostgreSQL");
      String keyId;
      ByteString blob;
      try (ServerProcess first = ServerProcess.start(dataDir)) {
        keyId =
            call(
                first,
                kms ->
                    kms.createKey(CreateKeyRequest.getDefaultInstance())
                        .getKeyMetadata()
                        .getKeyId());
        blob =
            call(
                first,
                kms ->
                    kms.encrypt(
                            EncryptRequest.newBuilder()
                                .setKeyId(keyId)
                                .setPlaintext(plaintext)
                                .build())
                        .getCiphertextBlob());
        assertThat(first.stop()).as("exit status after SIGTERM").isIn(0, 143);
      }

      // The key is a row in PostgreSQL, and no SQLite file was made.
      try (Connection c = pg.connect(database);
          PreparedStatement p = c.prepareStatement("SELECT key_state FROM keys WHERE key_id = ?")) {
        p.setString(1, keyId);
        try (ResultSet rs = p.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1)).isEqualTo("ENABLED");
        }
      }
      assertThat(dataDir.resolve("p11kms.db")).doesNotExist();

      try (ServerProcess second = ServerProcess.start(dataDir)) {
        ByteString decrypted =
            call(
                second,
                kms ->
                    kms.decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).build())
                        .getPlaintext());
        assertThat(decrypted).isEqualTo(plaintext);
      }
      assertThat(Files.readString(dataDir.resolve("server.log")))
          .contains("store.jdbc.password=file:")
          .doesNotContain(PASSWORD);
    }
  }

  private static <T> T call(ServerProcess server, Function<KeyManagementServiceBlockingStub, T> f)
      throws InterruptedException {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      return f.apply(
          KeyManagementServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(30, TimeUnit.SECONDS));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
