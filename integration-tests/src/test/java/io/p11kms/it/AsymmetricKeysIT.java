package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.EnableKeyRequest;
import io.p11kms.proto.v1.EnableKeyRotationRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.proto.v1.GenerateDataKeyPairRequest;
import io.p11kms.proto.v1.GenerateDataKeyPairResponse;
import io.p11kms.proto.v1.GenerateDataKeyPairWithoutPlaintextRequest;
import io.p11kms.proto.v1.GenerateDataKeyPairWithoutPlaintextResponse;
import io.p11kms.proto.v1.GenerateMacRequest;
import io.p11kms.proto.v1.GenerateMacResponse;
import io.p11kms.proto.v1.GetPublicKeyRequest;
import io.p11kms.proto.v1.GetPublicKeyResponse;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.KeySpec;
import io.p11kms.proto.v1.KeyUsage;
import io.p11kms.proto.v1.MacAlgorithmSpec;
import io.p11kms.proto.v1.MessageType;
import io.p11kms.proto.v1.ReEncryptRequest;
import io.p11kms.proto.v1.ReEncryptResponse;
import io.p11kms.proto.v1.RotateKeyOnDemandRequest;
import io.p11kms.proto.v1.SignRequest;
import io.p11kms.proto.v1.SigningAlgorithmSpec;
import io.p11kms.proto.v1.VerifyMacRequest;
import io.p11kms.proto.v1.VerifyRequest;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.EnumMap;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RSA, ECC and HMAC keys end to end: a real token, a real server, a real client. What the service
 * signs verifies with the JDK given only GetPublicKey's output; what the JDK encrypts with that
 * public key decrypts through Decrypt; tampering and every invalid request get AWS KMS's exception,
 * the invalid ones before any token call. One key per spec, shared by the tests.
 */
class AsymmetricKeysIT {
  private static final byte[] MESSAGE =
      "a message to sign, hashed by the service".getBytes(StandardCharsets.UTF_8);

  private static KmsTestServer server;
  private static KeyManagementServiceBlockingStub kms;
  private static final Map<KeySpec, String> signingKeys = new EnumMap<>(KeySpec.class);
  private static String rsaEncryptKey;
  private static String hmacKey;
  private static String symmetricKey;

  @BeforeAll
  static void startServer() throws Exception {
    server = KmsTestServer.start();
    kms = server.client();
    for (KeySpec spec :
        new KeySpec[] {
          KeySpec.RSA_2048, KeySpec.ECC_NIST_P256, KeySpec.ECC_NIST_P384, KeySpec.ECC_NIST_P521
        }) {
      signingKeys.put(spec, createKey(spec, KeyUsage.SIGN_VERIFY).getKeyId());
    }
    if (server.hsm().supportedKeyPairTypes().contains(io.p11kms.hsm.KeyPairType.EC_SECP256K1)) {
      signingKeys.put(
          KeySpec.ECC_SECG_P256K1,
          createKey(KeySpec.ECC_SECG_P256K1, KeyUsage.SIGN_VERIFY).getKeyId());
    }
    rsaEncryptKey = createKey(KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT).getKeyId();
    hmacKey = createKey(KeySpec.HMAC_256, KeyUsage.GENERATE_VERIFY_MAC).getKeyId();
    symmetricKey = kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  private static KeyMetadata createKey(KeySpec spec, KeyUsage usage) {
    return kms.createKey(CreateKeyRequest.newBuilder().setKeySpec(spec).setKeyUsage(usage).build())
        .getKeyMetadata();
  }

  // Sign and Verify.

  @Test
  void sign_everyAlgorithm_rawAndDigest_verifiesWithTheJdk_givenOnlyGetPublicKey()
      throws Exception {
    int checked = 0;
    for (Map.Entry<KeySpec, String> key : signingKeys.entrySet()) {
      GetPublicKeyResponse publicKey =
          kms.getPublicKey(GetPublicKeyRequest.newBuilder().setKeyId(key.getValue()).build());
      assertThat(publicKey.getKeySpec()).isEqualTo(key.getKey());
      assertThat(publicKey.getKeyUsage()).isEqualTo(KeyUsage.SIGN_VERIFY);
      assertThat(publicKey.getSigningAlgorithmsList()).isNotEmpty();
      assertThat(publicKey.getEncryptionAlgorithmsList()).isEmpty();
      PublicKey jdkKey = publicKey(publicKey.getPublicKey().toByteArray(), key.getKey());
      for (SigningAlgorithmSpec algorithm : publicKey.getSigningAlgorithmsList()) {
        for (MessageType type : new MessageType[] {MessageType.RAW, MessageType.DIGEST}) {
          byte[] message = type == MessageType.RAW ? MESSAGE : digest(algorithm, MESSAGE);
          byte[] signature =
              kms.sign(
                      SignRequest.newBuilder()
                          .setKeyId(key.getValue())
                          .setMessage(ByteString.copyFrom(message))
                          .setMessageType(type)
                          .setSigningAlgorithm(algorithm)
                          .build())
                  .getSignature()
                  .toByteArray();
          Signature jdk = jdkSignature(algorithm, key.getKey());
          jdk.initVerify(jdkKey);
          jdk.update(MESSAGE);
          assertThat(jdk.verify(signature))
              .as(key.getKey() + " " + algorithm + " " + type)
              .isTrue();
          checked++;
        }
      }
    }
    // RSA: 6 algorithms, each ECC curve: 1; RAW and DIGEST each.
    assertThat(checked).isEqualTo(2 * (6 + signingKeys.size() - 1));
  }

  @Test
  void verify_acceptsWhatSignMade_acrossMessageTypes_withoutATokenCall() {
    for (Map.Entry<KeySpec, String> key : signingKeys.entrySet()) {
      SigningAlgorithmSpec algorithm = firstAlgorithm(key.getValue());
      byte[] signature = sign(key.getValue(), algorithm, MESSAGE);
      long before = server.tokenCalls();
      // Signed as RAW, verified as the DIGEST the JDK computes.
      assertThat(
              kms.verify(
                      VerifyRequest.newBuilder()
                          .setKeyId(key.getValue())
                          .setMessage(ByteString.copyFrom(digest(algorithm, MESSAGE)))
                          .setMessageType(MessageType.DIGEST)
                          .setSignature(ByteString.copyFrom(signature))
                          .setSigningAlgorithm(algorithm)
                          .build())
                  .getSignatureValid())
          .isTrue();
      assertThat(server.tokenCalls())
          .as("Verify uses the public key in software")
          .isEqualTo(before);
    }
  }

  @Test
  void verify_tamperedSignatureOrMessage_isKmsInvalidSignature() {
    for (Map.Entry<KeySpec, String> key : signingKeys.entrySet()) {
      SigningAlgorithmSpec algorithm = firstAlgorithm(key.getValue());
      byte[] signature = sign(key.getValue(), algorithm, MESSAGE);
      byte[] tampered = signature.clone();
      tampered[tampered.length / 2] ^= 1;
      Rpc.assertFails(
          () -> verify(key.getValue(), algorithm, MESSAGE, tampered),
          Status.Code.INVALID_ARGUMENT,
          "KMSInvalidSignatureException");
      byte[] otherMessage = MESSAGE.clone();
      otherMessage[0] ^= 1;
      Rpc.assertFails(
          () -> verify(key.getValue(), algorithm, otherMessage, signature),
          Status.Code.INVALID_ARGUMENT,
          "KMSInvalidSignatureException");
      assertThat(verify(key.getValue(), algorithm, MESSAGE, signature)).isTrue();
    }
  }

  @Test
  void sign_invalidRequests_getTheAwsException_beforeAnyTokenCall() {
    String rsa = signingKeys.get(KeySpec.RSA_2048);
    String p256 = signingKeys.get(KeySpec.ECC_NIST_P256);
    // An algorithm the key spec does not support.
    refusedBeforeTheToken(
        () -> sign(rsa, SigningAlgorithmSpec.ECDSA_SHA_256, MESSAGE),
        Status.Code.INVALID_ARGUMENT,
        "InvalidKeyUsageException");
    refusedBeforeTheToken(
        () -> sign(p256, SigningAlgorithmSpec.ECDSA_SHA_384, MESSAGE),
        Status.Code.INVALID_ARGUMENT,
        "InvalidKeyUsageException");
    refusedBeforeTheToken(
        () -> sign(p256, SigningAlgorithmSpec.RSASSA_PSS_SHA_256, MESSAGE),
        Status.Code.INVALID_ARGUMENT,
        "InvalidKeyUsageException");
    // A key of another usage.
    refusedBeforeTheToken(
        () -> sign(rsaEncryptKey, SigningAlgorithmSpec.RSASSA_PSS_SHA_256, MESSAGE),
        Status.Code.INVALID_ARGUMENT,
        "InvalidKeyUsageException");
    refusedBeforeTheToken(
        () -> sign(symmetricKey, SigningAlgorithmSpec.ECDSA_SHA_256, MESSAGE),
        Status.Code.INVALID_ARGUMENT,
        "InvalidKeyUsageException");
    // A RAW message over 4096 bytes, an empty one, no algorithm.
    refusedBeforeTheToken(
        () -> sign(rsa, SigningAlgorithmSpec.RSASSA_PSS_SHA_256, new byte[4097]),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    refusedBeforeTheToken(
        () -> sign(rsa, SigningAlgorithmSpec.RSASSA_PSS_SHA_256, new byte[0]),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    refusedBeforeTheToken(
        () ->
            kms.sign(
                SignRequest.newBuilder()
                    .setKeyId(rsa)
                    .setMessage(ByteString.copyFrom(MESSAGE))
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    // A DIGEST of the wrong length for the algorithm (a SHA-256 digest for SHA-384).
    refusedBeforeTheToken(
        () ->
            kms.sign(
                SignRequest.newBuilder()
                    .setKeyId(rsa)
                    .setMessage(ByteString.copyFrom(new byte[32]))
                    .setMessageType(MessageType.DIGEST)
                    .setSigningAlgorithm(SigningAlgorithmSpec.RSASSA_PKCS1_V1_5_SHA_384)
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    refusedBeforeTheToken(
        () ->
            kms.verify(
                VerifyRequest.newBuilder()
                    .setKeyId(p256)
                    .setMessage(ByteString.copyFrom(new byte[31]))
                    .setMessageType(MessageType.DIGEST)
                    .setSignature(ByteString.copyFrom(new byte[70]))
                    .setSigningAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
  }

  @Test
  void disabledKey_signGetPublicKeyAndMac_areDisabledException_beforeAnyTokenCall() {
    String signing = createKey(KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY).getKeyId();
    String mac = createKey(KeySpec.HMAC_224, KeyUsage.GENERATE_VERIFY_MAC).getKeyId();
    for (String key : new String[] {signing, mac}) {
      kms.disableKey(DisableKeyRequest.newBuilder().setKeyId(key).build());
    }
    refusedBeforeTheToken(
        () -> sign(signing, SigningAlgorithmSpec.ECDSA_SHA_256, MESSAGE),
        Status.Code.FAILED_PRECONDITION,
        "DisabledException");
    refusedBeforeTheToken(
        () -> kms.getPublicKey(GetPublicKeyRequest.newBuilder().setKeyId(signing).build()),
        Status.Code.FAILED_PRECONDITION,
        "DisabledException");
    refusedBeforeTheToken(
        () -> generateMac(mac, MacAlgorithmSpec.HMAC_SHA_224, MESSAGE),
        Status.Code.FAILED_PRECONDITION,
        "DisabledException");
    kms.enableKey(EnableKeyRequest.newBuilder().setKeyId(signing).build());
    assertThat(
            verify(
                signing,
                SigningAlgorithmSpec.ECDSA_SHA_256,
                MESSAGE,
                sign(signing, SigningAlgorithmSpec.ECDSA_SHA_256, MESSAGE)))
        .isTrue();
  }

  // GetPublicKey, key metadata, rotation.

  @Test
  void getPublicKey_ofSymmetricOrHmacKey_isUnsupportedOperation() {
    for (String key : new String[] {symmetricKey, hmacKey}) {
      refusedBeforeTheToken(
          () -> kms.getPublicKey(GetPublicKeyRequest.newBuilder().setKeyId(key).build()),
          Status.Code.UNIMPLEMENTED,
          "UnsupportedOperationException");
    }
  }

  @Test
  void describeKey_listsEachKeysAlgorithms() {
    KeyMetadata rsa = describe(rsaEncryptKey);
    assertThat(rsa.getKeySpec()).isEqualTo(KeySpec.RSA_2048);
    assertThat(rsa.getEncryptionAlgorithmsList())
        .containsExactly(
            EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1, EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256);
    assertThat(rsa.getSigningAlgorithmsList()).isEmpty();
    assertThat(describe(signingKeys.get(KeySpec.ECC_NIST_P384)).getSigningAlgorithmsList())
        .containsExactly(SigningAlgorithmSpec.ECDSA_SHA_384);
    assertThat(describe(signingKeys.get(KeySpec.RSA_2048)).getSigningAlgorithmsCount())
        .isEqualTo(6);
    KeyMetadata hmac = describe(hmacKey);
    assertThat(hmac.getMacAlgorithmsList()).containsExactly(MacAlgorithmSpec.HMAC_SHA_256);
    assertThat(hmac.getEncryptionAlgorithmsList()).isEmpty();
    assertThat(describe(symmetricKey).getEncryptionAlgorithmsList())
        .containsExactly(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM);
  }

  @Test
  void createKey_invalidSpecAndUsage_isValidation_beforeAnyTokenCall() {
    Object[][] invalid = {
      {KeySpec.ECC_NIST_P256, KeyUsage.ENCRYPT_DECRYPT},
      {KeySpec.ECC_NIST_P256, KeyUsage.KEY_USAGE_UNSPECIFIED},
      {KeySpec.HMAC_256, KeyUsage.KEY_USAGE_UNSPECIFIED},
      {KeySpec.HMAC_256, KeyUsage.SIGN_VERIFY},
      {KeySpec.RSA_2048, KeyUsage.GENERATE_VERIFY_MAC},
      {KeySpec.KEY_SPEC_UNSPECIFIED, KeyUsage.SIGN_VERIFY},
    };
    for (Object[] pair : invalid) {
      refusedBeforeTheToken(
          () ->
              kms.createKey(
                  CreateKeyRequest.newBuilder()
                      .setKeySpec((KeySpec) pair[0])
                      .setKeyUsage((KeyUsage) pair[1])
                      .build()),
          Status.Code.INVALID_ARGUMENT,
          "ValidationException");
    }
  }

  @Test
  void rotation_ofAsymmetricOrHmacKey_isUnsupportedOperation() {
    for (String key : new String[] {signingKeys.get(KeySpec.ECC_NIST_P256), hmacKey}) {
      refusedBeforeTheToken(
          () -> kms.enableKeyRotation(EnableKeyRotationRequest.newBuilder().setKeyId(key).build()),
          Status.Code.UNIMPLEMENTED,
          "UnsupportedOperationException");
      refusedBeforeTheToken(
          () -> kms.rotateKeyOnDemand(RotateKeyOnDemandRequest.newBuilder().setKeyId(key).build()),
          Status.Code.UNIMPLEMENTED,
          "UnsupportedOperationException");
    }
  }

  // RSA encryption.

  @Test
  void jdkOaepCiphertext_decryptsThroughDecrypt_sha1AndSha256() throws Exception {
    PublicKey publicKey = rsaEncryptionPublicKey();
    for (EncryptionAlgorithmSpec algorithm :
        new EncryptionAlgorithmSpec[] {
          EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1, EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256
        }) {
      byte[] plaintext = ("secret for " + algorithm).getBytes(StandardCharsets.UTF_8);
      Cipher jdk = Cipher.getInstance("RSA/ECB/OAEPPadding");
      String hash = algorithm == EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1 ? "SHA-1" : "SHA-256";
      jdk.init(
          Cipher.ENCRYPT_MODE,
          publicKey,
          new OAEPParameterSpec(
              hash, "MGF1", new MGF1ParameterSpec(hash), PSource.PSpecified.DEFAULT));
      byte[] ciphertext = jdk.doFinal(plaintext);
      assertThat(decryptRsa(ciphertext, algorithm)).isEqualTo(plaintext);
    }
  }

  @Test
  void encryptThroughTheService_decryptsThroughTheService_atTheAwsPlaintextLimits() {
    // RSA_2048: at most 214 bytes with OAEP SHA-1, 190 with SHA-256 (AWS KMS's table).
    Map<EncryptionAlgorithmSpec, Integer> limits =
        Map.of(
            EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1, 214,
            EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256, 190);
    for (Map.Entry<EncryptionAlgorithmSpec, Integer> limit : limits.entrySet()) {
      byte[] plaintext = new byte[limit.getValue()];
      plaintext[0] = 7;
      var encrypted =
          kms.encrypt(
              EncryptRequest.newBuilder()
                  .setKeyId(rsaEncryptKey)
                  .setPlaintext(ByteString.copyFrom(plaintext))
                  .setEncryptionAlgorithm(limit.getKey())
                  .build());
      assertThat(encrypted.getEncryptionAlgorithm()).isEqualTo(limit.getKey());
      assertThat(encrypted.getCiphertextBlob().size()).isEqualTo(256);
      assertThat(decryptRsa(encrypted.getCiphertextBlob().toByteArray(), limit.getKey()))
          .isEqualTo(plaintext);
      refusedBeforeTheToken(
          () ->
              kms.encrypt(
                  EncryptRequest.newBuilder()
                      .setKeyId(rsaEncryptKey)
                      .setPlaintext(ByteString.copyFrom(new byte[limit.getValue() + 1]))
                      .setEncryptionAlgorithm(limit.getKey())
                      .build()),
          Status.Code.INVALID_ARGUMENT,
          "ValidationException");
    }
  }

  @Test
  void rsaEncryption_invalidRequests_getTheAwsException_beforeAnyTokenCall() {
    byte[] ciphertext = new byte[256];
    // Decrypt of an RSA ciphertext needs KeyId.
    refusedBeforeTheToken(
        () ->
            kms.decrypt(
                DecryptRequest.newBuilder()
                    .setCiphertextBlob(ByteString.copyFrom(ciphertext))
                    .setEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    // SYMMETRIC_DEFAULT with an RSA key, OAEP with a symmetric or signing key.
    refusedBeforeTheToken(
        () ->
            kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(rsaEncryptKey)
                    .setPlaintext(ByteString.copyFromUtf8("x"))
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "InvalidKeyUsageException");
    refusedBeforeTheToken(
        () ->
            kms.decrypt(
                DecryptRequest.newBuilder()
                    .setKeyId(rsaEncryptKey)
                    .setCiphertextBlob(ByteString.copyFrom(ciphertext))
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "InvalidKeyUsageException");
    for (String key : new String[] {symmetricKey, signingKeys.get(KeySpec.RSA_2048)}) {
      refusedBeforeTheToken(
          () ->
              kms.encrypt(
                  EncryptRequest.newBuilder()
                      .setKeyId(key)
                      .setPlaintext(ByteString.copyFromUtf8("x"))
                      .setEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1)
                      .build()),
          Status.Code.INVALID_ARGUMENT,
          "InvalidKeyUsageException");
    }
    // A ciphertext that is not one modulus long.
    refusedBeforeTheToken(
        () -> decryptRsa(new byte[255], EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1),
        Status.Code.INVALID_ARGUMENT,
        "InvalidCiphertextException");
  }

  @Test
  void reEncrypt_fromRsaToSymmetric_fromSymmetricToRsa_andBetweenRsaAlgorithms() {
    byte[] plaintext = "moved between key types".getBytes(StandardCharsets.UTF_8);
    Map<String, String> context = Map.of("purpose", "re-encrypt test");
    String rsaArn = describe(rsaEncryptKey).getArn();
    String symmetricArn = describe(symmetricKey).getArn();
    ByteString rsaCiphertext =
        kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(rsaEncryptKey)
                    .setPlaintext(ByteString.copyFrom(plaintext))
                    .setEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
                    .build())
            .getCiphertextBlob();

    ReEncryptResponse toSymmetric =
        kms.reEncrypt(
            ReEncryptRequest.newBuilder()
                .setCiphertextBlob(rsaCiphertext)
                .setSourceKeyId(rsaEncryptKey)
                .setSourceEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
                .setDestinationKeyId(symmetricKey)
                .putAllDestinationEncryptionContext(context)
                .build());
    assertThat(toSymmetric.getSourceKeyId()).isEqualTo(rsaArn);
    assertThat(toSymmetric.getKeyId()).isEqualTo(symmetricArn);
    assertThat(toSymmetric.getSourceEncryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256);
    assertThat(toSymmetric.getDestinationEncryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM);
    assertThat(
            kms.decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertextBlob(toSymmetric.getCiphertextBlob())
                        .putAllEncryptionContext(context)
                        .build())
                .getPlaintext()
                .toByteArray())
        .isEqualTo(plaintext);

    ReEncryptResponse toRsa =
        kms.reEncrypt(
            ReEncryptRequest.newBuilder()
                .setCiphertextBlob(toSymmetric.getCiphertextBlob())
                .putAllSourceEncryptionContext(context)
                .setDestinationKeyId(rsaEncryptKey)
                .setDestinationEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1)
                .build());
    assertThat(toRsa.getSourceKeyId()).isEqualTo(symmetricArn);
    assertThat(toRsa.getKeyId()).isEqualTo(rsaArn);
    assertThat(toRsa.getSourceEncryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM);
    assertThat(toRsa.getDestinationEncryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1);
    assertThat(toRsa.getCiphertextBlob().size()).isEqualTo(256);
    assertThat(
            decryptRsa(
                toRsa.getCiphertextBlob().toByteArray(), EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1))
        .isEqualTo(plaintext);

    ReEncryptResponse rsaToRsa =
        kms.reEncrypt(
            ReEncryptRequest.newBuilder()
                .setCiphertextBlob(rsaCiphertext)
                .setSourceKeyId(rsaEncryptKey)
                .setSourceEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
                .setDestinationKeyId(rsaEncryptKey)
                .setDestinationEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1)
                .build());
    assertThat(
            decryptRsa(
                rsaToRsa.getCiphertextBlob().toByteArray(),
                EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1))
        .isEqualTo(plaintext);
  }

  @Test
  void reEncrypt_invalidRsaRequests_getTheAwsException_beforeAnyTokenCall() {
    ByteString symmetricBlob =
        kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(symmetricKey)
                    .setPlaintext(ByteString.copyFromUtf8("x"))
                    .build())
            .getCiphertextBlob();
    ReEncryptRequest rsaSource =
        ReEncryptRequest.newBuilder()
            .setCiphertextBlob(ByteString.copyFrom(new byte[256]))
            .setSourceKeyId(rsaEncryptKey)
            .setSourceEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
            .setDestinationKeyId(symmetricKey)
            .build();
    ReEncryptRequest rsaDestination =
        ReEncryptRequest.newBuilder()
            .setCiphertextBlob(symmetricBlob)
            .setDestinationKeyId(rsaEncryptKey)
            .setDestinationEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1)
            .build();
    Map<ReEncryptRequest, String> refused =
        Map.of(
            // An RSA source needs SourceKeyId, and takes no SourceEncryptionContext.
            rsaSource.toBuilder().clearSourceKeyId().build(),
            "ValidationException",
            rsaSource.toBuilder().putSourceEncryptionContext("a", "b").build(),
            "ValidationException",
            // An RSA destination takes no DestinationEncryptionContext (checked before the
            // source is decrypted).
            rsaDestination.toBuilder().putDestinationEncryptionContext("a", "b").build(),
            "ValidationException",
            // An algorithm that does not fit the key, on either side.
            rsaDestination.toBuilder().clearDestinationEncryptionAlgorithm().build(),
            "InvalidKeyUsageException",
            rsaDestination.toBuilder().setDestinationKeyId(symmetricKey).build(),
            "InvalidKeyUsageException",
            rsaSource.toBuilder().setSourceKeyId(symmetricKey).build(),
            "InvalidKeyUsageException");
    refused.forEach(
        (request, exception) ->
            refusedBeforeTheToken(
                () -> kms.reEncrypt(request), Status.Code.INVALID_ARGUMENT, exception));
    // The messages name ReEncrypt and the parameter the caller got wrong.
    assertThat(
            Rpc.failure(
                    () -> kms.reEncrypt(rsaSource.toBuilder().setSourceKeyId(symmetricKey).build()))
                .message())
        .startsWith(
            "InvalidKeyUsageException: ReEncrypt: SourceEncryptionAlgorithm RSAES_OAEP_SHA_256 is not valid");
    assertThat(
            Rpc.failure(
                    () ->
                        kms.reEncrypt(
                            rsaDestination.toBuilder().setDestinationKeyId(symmetricKey).build()))
                .message())
        .startsWith(
            "InvalidKeyUsageException: ReEncrypt: DestinationEncryptionAlgorithm RSAES_OAEP_SHA_1 is not valid");
    assertThat(
            Rpc.failure(() -> kms.reEncrypt(rsaSource.toBuilder().clearSourceKeyId().build()))
                .message())
        .isEqualTo(
            "ValidationException: SourceKeyId is required to decrypt with RSAES_OAEP_SHA_256");
    // A plaintext over the RSA destination's limit (190 bytes for RSA_2048 with OAEP SHA-256).
    ByteString tooLong =
        kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(symmetricKey)
                    .setPlaintext(ByteString.copyFrom(new byte[191]))
                    .build())
            .getCiphertextBlob();
    Rpc.assertFails(
        () ->
            kms.reEncrypt(
                ReEncryptRequest.newBuilder()
                    .setCiphertextBlob(tooLong)
                    .setDestinationKeyId(rsaEncryptKey)
                    .setDestinationEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
  }

  @Test
  void decrypt_garbageRsaCiphertext_isInvalidCiphertext() {
    Rpc.assertFails(
        () -> decryptRsa(new byte[256], EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256),
        Status.Code.INVALID_ARGUMENT,
        "InvalidCiphertextException");
  }

  // HMAC.

  @Test
  void generateMac_verifiesThroughVerifyMac_andATamperedMacIsKmsInvalidMac() {
    GenerateMacResponse mac = generateMac(hmacKey, MacAlgorithmSpec.HMAC_SHA_256, MESSAGE);
    assertThat(mac.getMac().size()).isEqualTo(32);
    assertThat(mac.getMacAlgorithm()).isEqualTo(MacAlgorithmSpec.HMAC_SHA_256);
    assertThat(generateMac(hmacKey, MacAlgorithmSpec.HMAC_SHA_256, MESSAGE).getMac())
        .as("HMAC is deterministic")
        .isEqualTo(mac.getMac());
    assertThat(verifyMac(MESSAGE, mac.getMac().toByteArray()).getMacValid()).isTrue();

    byte[] tampered = mac.getMac().toByteArray();
    tampered[31] ^= 1;
    Rpc.assertFails(
        () -> verifyMac(MESSAGE, tampered), Status.Code.INVALID_ARGUMENT, "KMSInvalidMacException");
    byte[] otherMessage = MESSAGE.clone();
    otherMessage[3] ^= 1;
    Rpc.assertFails(
        () -> verifyMac(otherMessage, mac.getMac().toByteArray()),
        Status.Code.INVALID_ARGUMENT,
        "KMSInvalidMacException");
  }

  @Test
  void mac_invalidRequests_getTheAwsException_beforeAnyTokenCall() {
    refusedBeforeTheToken(
        () -> generateMac(hmacKey, MacAlgorithmSpec.HMAC_SHA_512, MESSAGE),
        Status.Code.INVALID_ARGUMENT,
        "InvalidKeyUsageException");
    refusedBeforeTheToken(
        () -> generateMac(symmetricKey, MacAlgorithmSpec.HMAC_SHA_256, MESSAGE),
        Status.Code.INVALID_ARGUMENT,
        "InvalidKeyUsageException");
    refusedBeforeTheToken(
        () -> generateMac(hmacKey, MacAlgorithmSpec.HMAC_SHA_256, new byte[4097]),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    refusedBeforeTheToken(
        () -> generateMac(hmacKey, MacAlgorithmSpec.MAC_ALGORITHM_SPEC_UNSPECIFIED, MESSAGE),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
  }

  // Data key pairs.

  @Test
  void generateDataKeyPair_privateKeyDecryptsFromItsBlob_andMatchesThePublicKey() throws Exception {
    for (KeySpec spec : new KeySpec[] {KeySpec.ECC_NIST_P256, KeySpec.RSA_2048}) {
      GenerateDataKeyPairResponse pair =
          kms.generateDataKeyPair(
              GenerateDataKeyPairRequest.newBuilder()
                  .setKeyId(symmetricKey)
                  .setKeyPairSpec(spec)
                  .putEncryptionContext("purpose", "it")
                  .build());
      assertThat(pair.getKeyPairSpec()).isEqualTo(spec);
      byte[] pkcs8 = pair.getPrivateKeyPlaintext().toByteArray();
      byte[] decrypted =
          kms.decrypt(
                  DecryptRequest.newBuilder()
                      .setCiphertextBlob(pair.getPrivateKeyCiphertextBlob())
                      .putEncryptionContext("purpose", "it")
                      .build())
              .getPlaintext()
              .toByteArray();
      assertThat(decrypted).isEqualTo(pkcs8);
      assertKeyPairMatches(spec, pkcs8, pair.getPublicKey().toByteArray());
    }
  }

  @Test
  void generateDataKeyPairWithoutPlaintext_privateKeyDecryptsAndMatches() throws Exception {
    GenerateDataKeyPairWithoutPlaintextResponse pair =
        kms.generateDataKeyPairWithoutPlaintext(
            GenerateDataKeyPairWithoutPlaintextRequest.newBuilder()
                .setKeyId(symmetricKey)
                .setKeyPairSpec(KeySpec.ECC_NIST_P384)
                .build());
    byte[] pkcs8 =
        kms.decrypt(
                DecryptRequest.newBuilder()
                    .setCiphertextBlob(pair.getPrivateKeyCiphertextBlob())
                    .build())
            .getPlaintext()
            .toByteArray();
    assertKeyPairMatches(KeySpec.ECC_NIST_P384, pkcs8, pair.getPublicKey().toByteArray());
  }

  @Test
  void generateDataKeyPair_invalidRequests_beforeAnyTokenCall() {
    // The KeyId must be a symmetric encryption key; the spec an RSA or ECC one.
    refusedBeforeTheToken(
        () -> dataKeyPair(rsaEncryptKey, KeySpec.ECC_NIST_P256),
        Status.Code.INVALID_ARGUMENT,
        "InvalidKeyUsageException");
    refusedBeforeTheToken(
        () -> dataKeyPair(symmetricKey, KeySpec.HMAC_256),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    refusedBeforeTheToken(
        () -> dataKeyPair(symmetricKey, KeySpec.KEY_SPEC_UNSPECIFIED),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
  }

  // Helpers.

  private static void refusedBeforeTheToken(
      ThrowingCallable call, Status.Code code, String awsException) {
    long before = server.tokenCalls();
    Rpc.assertFails(call, code, awsException);
    assertThat(server.tokenCalls()).as("token calls made for a refused request").isEqualTo(before);
  }

  private static KeyMetadata describe(String keyId) {
    return kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(keyId).build())
        .getKeyMetadata();
  }

  private static SigningAlgorithmSpec firstAlgorithm(String keyId) {
    return describe(keyId).getSigningAlgorithms(0);
  }

  private static byte[] sign(String keyId, SigningAlgorithmSpec algorithm, byte[] message) {
    return kms.sign(
            SignRequest.newBuilder()
                .setKeyId(keyId)
                .setMessage(ByteString.copyFrom(message))
                .setSigningAlgorithm(algorithm)
                .build())
        .getSignature()
        .toByteArray();
  }

  private static boolean verify(
      String keyId, SigningAlgorithmSpec algorithm, byte[] message, byte[] signature) {
    return kms.verify(
            VerifyRequest.newBuilder()
                .setKeyId(keyId)
                .setMessage(ByteString.copyFrom(message))
                .setSignature(ByteString.copyFrom(signature))
                .setSigningAlgorithm(algorithm)
                .build())
        .getSignatureValid();
  }

  private static GenerateMacResponse generateMac(
      String keyId, MacAlgorithmSpec algorithm, byte[] message) {
    return kms.generateMac(
        GenerateMacRequest.newBuilder()
            .setKeyId(keyId)
            .setMessage(ByteString.copyFrom(message))
            .setMacAlgorithm(algorithm)
            .build());
  }

  private static io.p11kms.proto.v1.VerifyMacResponse verifyMac(byte[] message, byte[] mac) {
    return kms.verifyMac(
        VerifyMacRequest.newBuilder()
            .setKeyId(hmacKey)
            .setMessage(ByteString.copyFrom(message))
            .setMac(ByteString.copyFrom(mac))
            .setMacAlgorithm(MacAlgorithmSpec.HMAC_SHA_256)
            .build());
  }

  private static byte[] decryptRsa(byte[] ciphertext, EncryptionAlgorithmSpec algorithm) {
    return kms.decrypt(
            DecryptRequest.newBuilder()
                .setKeyId(rsaEncryptKey)
                .setCiphertextBlob(ByteString.copyFrom(ciphertext))
                .setEncryptionAlgorithm(algorithm)
                .build())
        .getPlaintext()
        .toByteArray();
  }

  private static GenerateDataKeyPairResponse dataKeyPair(String keyId, KeySpec spec) {
    return kms.generateDataKeyPair(
        GenerateDataKeyPairRequest.newBuilder().setKeyId(keyId).setKeyPairSpec(spec).build());
  }

  private static PublicKey rsaEncryptionPublicKey() throws Exception {
    GetPublicKeyResponse response =
        kms.getPublicKey(GetPublicKeyRequest.newBuilder().setKeyId(rsaEncryptKey).build());
    assertThat(response.getKeyUsage()).isEqualTo(KeyUsage.ENCRYPT_DECRYPT);
    assertThat(response.getEncryptionAlgorithmsList())
        .containsExactly(
            EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1, EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256);
    return publicKey(response.getPublicKey().toByteArray(), KeySpec.RSA_2048);
  }

  /** The JDK has no secp256k1 since 16: Bouncy Castle's provider reads and verifies those. */
  private static PublicKey publicKey(byte[] spki, KeySpec spec) throws Exception {
    KeyFactory factory =
        switch (spec) {
          case RSA_2048, RSA_3072, RSA_4096 -> KeyFactory.getInstance("RSA");
          case ECC_SECG_P256K1 -> KeyFactory.getInstance("EC", new BouncyCastleProvider());
          default -> KeyFactory.getInstance("EC");
        };
    return factory.generatePublic(new X509EncodedKeySpec(spki));
  }

  private static Signature jdkSignature(SigningAlgorithmSpec algorithm, KeySpec spec)
      throws Exception {
    String hash = algorithm.name().substring(algorithm.name().lastIndexOf('_') + 1);
    String name = algorithm.name();
    if (name.startsWith("RSASSA_PSS")) {
      Signature pss = Signature.getInstance("RSASSA-PSS");
      int length = Integer.parseInt(hash) / 8;
      pss.setParameter(
          new PSSParameterSpec(
              "SHA-" + hash, "MGF1", new MGF1ParameterSpec("SHA-" + hash), length, 1));
      return pss;
    }
    if (name.startsWith("RSASSA_PKCS1")) {
      return Signature.getInstance("SHA" + hash + "withRSA");
    }
    return spec == KeySpec.ECC_SECG_P256K1
        ? Signature.getInstance("SHA" + hash + "withECDSA", new BouncyCastleProvider())
        : Signature.getInstance("SHA" + hash + "withECDSA");
  }

  private static byte[] digest(SigningAlgorithmSpec algorithm, byte[] message) {
    String hash = algorithm.name().substring(algorithm.name().lastIndexOf('_') + 1);
    try {
      return MessageDigest.getInstance("SHA-" + hash).digest(message);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The PKCS#8 private key signs what the public key verifies (and, for RSA, shares it). */
  private static void assertKeyPairMatches(KeySpec spec, byte[] pkcs8, byte[] spki)
      throws Exception {
    boolean rsa = spec.name().startsWith("RSA");
    KeyFactory factory = KeyFactory.getInstance(rsa ? "RSA" : "EC");
    PrivateKey privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    PublicKey publicKey = factory.generatePublic(new X509EncodedKeySpec(spki));
    if (rsa) {
      assertThat(((RSAPrivateCrtKey) privateKey).getModulus())
          .isEqualTo(((RSAPublicKey) publicKey).getModulus());
    }
    Signature signer = Signature.getInstance(rsa ? "SHA256withRSA" : "SHA256withECDSA");
    signer.initSign(privateKey);
    signer.update(MESSAGE);
    byte[] signature = signer.sign();
    signer.initVerify(publicKey);
    signer.update(MESSAGE);
    assertThat(signer.verify(signature)).as(spec + " pair matches").isTrue();
  }
}
