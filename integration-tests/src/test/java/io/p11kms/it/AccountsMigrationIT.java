package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyListEntry;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.KeySpec;
import io.p11kms.proto.v1.KeyUsage;
import io.p11kms.proto.v1.ListAliasesRequest;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.SignRequest;
import io.p11kms.proto.v1.SigningAlgorithmSpec;
import io.p11kms.proto.v1.VerifyRequest;
import io.p11kms.server.KmsServer;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.store.ReleasedSchemas;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A store of the release before accounts (schema 8), holding keys, an alias and ciphertexts a real
 * server made on a real token, opens under the accounts schema: every key is in the default account
 * (its ARN unchanged), the alias still resolves, every old ciphertext decrypts and old signatures
 * verify.
 */
class AccountsMigrationIT {
  private static final int RELEASE_BEFORE_ACCOUNTS = 8;

  @Test
  void storeOfTheReleaseBeforeAccounts_opens_keysInTheDefaultAccount_oldCiphertextsDecrypt()
      throws Exception {
    Path dir = Files.createTempDirectory("p11kms-accounts-migration");
    try (SoftHsmTestToken token = SoftHsmTestToken.create()) {
      String made = "jdbc:sqlite:" + dir.resolve("made.db");
      String old = "jdbc:sqlite:" + dir.resolve("release-8.db");
      List<KeyMetadata> keys = new ArrayList<>();
      List<ByteString> blobs = new ArrayList<>();
      ByteString signature;
      try (Running server = new Running(token, made)) {
        KeyManagementServiceBlockingStub client = server.client();
        for (int i = 0; i < 3; i++) {
          keys.add(client.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata());
        }
        client.createAlias(
            CreateAliasRequest.newBuilder()
                .setAliasName("alias/legacy")
                .setTargetKeyId(keys.get(0).getKeyId())
                .build());
        for (KeyMetadata k : keys) {
          blobs.add(encrypt(client, k.getKeyId()));
        }
        blobs.add(encrypt(client, "alias/legacy"));
        KeyMetadata signing =
            client
                .createKey(
                    CreateKeyRequest.newBuilder()
                        .setKeySpec(KeySpec.ECC_NIST_P256)
                        .setKeyUsage(KeyUsage.SIGN_VERIFY)
                        .build())
                .getKeyMetadata();
        keys.add(signing);
        signature =
            client
                .sign(
                    SignRequest.newBuilder()
                        .setKeyId(signing.getKeyId())
                        .setMessage(ByteString.copyFromUtf8("signed before"))
                        .setSigningAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)
                        .build())
                .getSignature();
      }
      // The same rows, as the release before accounts held them.
      ReleasedSchemas.create(old, RELEASE_BEFORE_ACCOUNTS);
      ReleasedSchemas.copyRows(made, old);

      try (Running server = new Running(token, old)) {
        KeyManagementServiceBlockingStub client = server.client();
        for (int i = 0; i < 4; i++) {
          assertThat(
                  client
                      .decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blobs.get(i)).build())
                      .getPlaintext()
                      .toStringUtf8())
              .isEqualTo("written before accounts");
        }
        assertThat(
                client
                    .verify(
                        VerifyRequest.newBuilder()
                            .setKeyId(keys.get(3).getKeyId())
                            .setMessage(ByteString.copyFromUtf8("signed before"))
                            .setSignature(signature)
                            .setSigningAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)
                            .build())
                    .getSignatureValid())
            .isTrue();
        for (KeyMetadata k : keys) {
          KeyMetadata now =
              client
                  .describeKey(DescribeKeyRequest.newBuilder().setKeyId(k.getKeyId()).build())
                  .getKeyMetadata();
          assertThat(now.getArn()).isEqualTo(k.getArn());
          assertThat(now.getAwsAccountId()).isEqualTo(KmsTestServer.ARNS.account());
          KeyRecord stored = server.store.findKey(UUID.fromString(k.getKeyId())).orElseThrow();
          assertThat(stored.account()).isEqualTo(KeyRecord.DEFAULT_ACCOUNT);
        }
        assertThat(
                client
                    .describeKey(DescribeKeyRequest.newBuilder().setKeyId("alias/legacy").build())
                    .getKeyMetadata()
                    .getKeyId())
            .isEqualTo(keys.get(0).getKeyId());
        assertThat(
                client
                    .listAliases(ListAliasesRequest.getDefaultInstance())
                    .getAliases(0)
                    .getAliasArn())
            .isEqualTo("arn:aws:kms:local-1:" + KmsTestServer.ARNS.account() + ":alias/legacy");
        assertThat(
                client.listKeys(ListKeysRequest.getDefaultInstance()).getKeysList().stream()
                    .map(KeyListEntry::getKeyId))
            .containsExactlyElementsOf(keys.stream().map(KeyMetadata::getKeyId).toList());
      }
    } finally {
      TempDirs.deleteTree(dir);
    }
  }

  private static ByteString encrypt(KeyManagementServiceBlockingStub client, String keyId) {
    return client
        .encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8("written before accounts"))
                .build())
        .getCiphertextBlob();
  }

  /** A server on {@code token} and the store at {@code url}, stopped (token kept) on close. */
  private static final class Running implements AutoCloseable {
    final KeyStore store;
    final KmsServer server;
    final ManagedChannel channel;

    Running(SoftHsmTestToken token, String url) {
      Pkcs11Hsm hsm = Pkcs11Hsm.open(token.hsmConfig());
      this.store = KeyStores.open(url);
      this.server =
          new KmsServer(
                  NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)),
                  hsm,
                  store,
                  KmsTestServer.ARNS,
                  Clock.systemUTC(),
                  Duration.ofSeconds(30),
                  KmsTestServer.allowingAll(hsm, store, Clock.systemUTC()))
              .start();
      this.channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    }

    KeyManagementServiceBlockingStub client() {
      return KeyManagementServiceGrpc.newBlockingStub(channel)
          .withInterceptors(PerCallDeadline.ofSeconds(30));
    }

    @Override
    public void close() throws Exception {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.stop();
    }
  }
}
