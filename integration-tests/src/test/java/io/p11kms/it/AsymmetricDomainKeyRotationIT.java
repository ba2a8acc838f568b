package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.proto.v1.GenerateMacRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeySpec;
import io.p11kms.proto.v1.KeyUsage;
import io.p11kms.proto.v1.MacAlgorithmSpec;
import io.p11kms.proto.v1.SignRequest;
import io.p11kms.proto.v1.SigningAlgorithmSpec;
import io.p11kms.proto.v1.VerifyMacRequest;
import io.p11kms.proto.v1.VerifyRequest;
import io.p11kms.server.service.DomainKeyRewrap;
import io.p11kms.server.store.DomainKeyKind;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.store.KeyVersionRecord;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A domain-key rotation moves private and HMAC keys too: after the SO makes generation 2 and the
 * server re-wraps, every EKT is under generation 2 (under the asymmetric domain key for private and
 * HMAC keys), and the keys still sign, decrypt and make the same MACs.
 */
class AsymmetricDomainKeyRotationIT {
  private static final ByteString MESSAGE = ByteString.copyFromUtf8("signed across a rotation");

  private KmsTestServer server;
  private KeyManagementServiceBlockingStub kms;
  private KeyStore store;

  @BeforeEach
  void startServer() throws Exception {
    server = KmsTestServer.start();
    kms = server.client();
    store = KeyStores.open("jdbc:sqlite:" + server.database());
  }

  @AfterEach
  void stopServer() throws Exception {
    store.close();
    server.close();
  }

  @Test
  void afterRewrap_asymmetricAndHmacKeys_stillSignDecryptAndMac_underGenerationTwo()
      throws Exception {
    String signing = create(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY);
    String rsaSigning = create(KeySpec.RSA_2048, KeyUsage.SIGN_VERIFY);
    String decrypting = create(KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT);
    String hmac = create(KeySpec.HMAC_384, KeyUsage.GENERATE_VERIFY_MAC);
    String symmetric = create(KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
    ByteString macBefore = mac(hmac);
    ByteString rsaCiphertext = encrypt(decrypting, EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256);
    ByteString blob = encrypt(symmetric, EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM);
    assertThat(store.countVersionsByGeneration()).containsExactly(Map.entry(1, 5L));

    SoCeremony.createGeneration(server.token(), 2);
    DomainKeyRewrap.Result result = server.rewrapDomainKeys();

    assertThat(result.targetGeneration()).isEqualTo(2);
    assertThat(result.rewrapped()).isEqualTo(5);
    assertThat(store.countVersionsByGeneration()).containsExactly(Map.entry(2, 5L));
    assertThat(version(signing).domainKeyKind()).isEqualTo(DomainKeyKind.ASYMMETRIC);
    assertThat(version(hmac).domainKeyKind()).isEqualTo(DomainKeyKind.HMAC);
    assertThat(version(symmetric).domainKeyKind()).isEqualTo(DomainKeyKind.SYMMETRIC);

    assertSignsAndVerifies(signing, SigningAlgorithmSpec.ECDSA_SHA_256);
    assertSignsAndVerifies(rsaSigning, SigningAlgorithmSpec.RSASSA_PKCS1_V1_5_SHA_256);
    assertThat(mac(hmac)).as("the same HMAC key after the re-wrap").isEqualTo(macBefore);
    assertThat(
            kms.verifyMac(
                    VerifyMacRequest.newBuilder()
                        .setKeyId(hmac)
                        .setMessage(MESSAGE)
                        .setMac(macBefore)
                        .setMacAlgorithm(MacAlgorithmSpec.HMAC_SHA_384)
                        .build())
                .getMacValid())
        .isTrue();
    assertThat(
            kms.decrypt(
                    DecryptRequest.newBuilder()
                        .setKeyId(decrypting)
                        .setCiphertextBlob(rsaCiphertext)
                        .setEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
                        .build())
                .getPlaintext())
        .isEqualTo(MESSAGE);
    assertThat(
            kms.decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).build()).getPlaintext())
        .isEqualTo(MESSAGE);
    // Keys made now go under generation 2 at once.
    String after = create(KeySpec.ECC_NIST_P384, KeyUsage.SIGN_VERIFY);
    assertThat(version(after).domainKeyGeneration()).isEqualTo(2);
    assertSignsAndVerifies(after, SigningAlgorithmSpec.ECDSA_SHA_384);
  }

  private String create(KeySpec spec, KeyUsage usage) {
    return kms.createKey(CreateKeyRequest.newBuilder().setKeySpec(spec).setKeyUsage(usage).build())
        .getKeyMetadata()
        .getKeyId();
  }

  private KeyVersionRecord version(String keyId) {
    return store.findLatestVersion(UUID.fromString(keyId)).orElseThrow();
  }

  private ByteString mac(String keyId) {
    return kms.generateMac(
            GenerateMacRequest.newBuilder()
                .setKeyId(keyId)
                .setMessage(MESSAGE)
                .setMacAlgorithm(MacAlgorithmSpec.HMAC_SHA_384)
                .build())
        .getMac();
  }

  private ByteString encrypt(String keyId, EncryptionAlgorithmSpec algorithm) {
    return kms.encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(MESSAGE)
                .setEncryptionAlgorithm(algorithm)
                .build())
        .getCiphertextBlob();
  }

  private void assertSignsAndVerifies(String keyId, SigningAlgorithmSpec algorithm) {
    ByteString signature =
        kms.sign(
                SignRequest.newBuilder()
                    .setKeyId(keyId)
                    .setMessage(MESSAGE)
                    .setSigningAlgorithm(algorithm)
                    .build())
            .getSignature();
    assertThat(
            kms.verify(
                    VerifyRequest.newBuilder()
                        .setKeyId(keyId)
                        .setMessage(MESSAGE)
                        .setSignature(signature)
                        .setSigningAlgorithm(algorithm)
                        .build())
                .getSignatureValid())
        .isTrue();
  }
}
