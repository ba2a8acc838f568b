package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.p11kms.hsm.testing.CustomerKeyWrap;
import io.p11kms.proto.v1.CancelKeyDeletionRequest;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DeleteImportedKeyMaterialRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.EnableKeyRequest;
import io.p11kms.proto.v1.EnableKeyRotationRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.ExpirationModelType;
import io.p11kms.proto.v1.GetParametersForImportRequest;
import io.p11kms.proto.v1.GetParametersForImportResponse;
import io.p11kms.proto.v1.ImportKeyMaterialRequest;
import io.p11kms.proto.v1.ImportKeyMaterialResponse;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.KeySpec;
import io.p11kms.proto.v1.KeyState;
import io.p11kms.proto.v1.Origin;
import io.p11kms.proto.v1.RotateKeyOnDemandRequest;
import io.p11kms.proto.v1.ScheduleKeyDeletionRequest;
import io.p11kms.proto.v1.WrappingAlgorithmSpec;
import java.security.KeyFactory;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Imported key material end to end: a real server on a real port, a real SoftHSM2 token, a real
 * gRPC client, and material made and wrapped here with the JDK as a customer would. The clock is
 * the test's; no test sleeps. Every test ends with the token holding what it held at start plus the
 * import token's HMAC key: no wrapping key, backing key or ephemeral key left behind.
 */
class ImportedKeyIT {
  private static final Instant START = Instant.parse("2030-01-01T00:00:00Z");
  private static final ByteString PLAINTEXT = ByteString.copyFromUtf8("the customer's secret");

  private MutableClock clock;
  private KmsTestServer server;
  private KeyManagementServiceBlockingStub kms;
  private int objectsAtStart;

  @BeforeEach
  void startServer() throws Exception {
    clock = new MutableClock(START);
    server = KmsTestServer.start(clock);
    kms = server.client();
    objectsAtStart = server.tokenObjects();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.close();
  }

  @Test
  void eachWrappingAlgorithmAndKeySize_importsTheMaterial_andTheKeyIsUsable() throws Exception {
    record Case(WrappingAlgorithmSpec algorithm, KeySpec spec, int bits) {}
    for (Case c :
        new Case[] {
          new Case(WrappingAlgorithmSpec.WRAPPING_RSAES_OAEP_SHA_1, KeySpec.RSA_2048, 2048),
          new Case(WrappingAlgorithmSpec.RSA_AES_KEY_WRAP_SHA_1, KeySpec.RSA_3072, 3072),
          new Case(WrappingAlgorithmSpec.RSA_AES_KEY_WRAP_SHA_1, KeySpec.RSA_4096, 4096)
        }) {
      String keyId = newExternalKey();
      KeyMetadata pending = describe(keyId);
      assertThat(pending.getKeyState()).isEqualTo(KeyState.PENDING_IMPORT);
      assertThat(pending.getOrigin()).isEqualTo(Origin.EXTERNAL);
      assertThat(pending.getEnabled()).isFalse();
      assertThat(pending.hasValidTo()).isFalse();
      Rpc.assertFails(
          () -> encrypt(keyId), Status.Code.FAILED_PRECONDITION, "KMSInvalidStateException");

      GetParametersForImportResponse parameters = parameters(keyId, c.algorithm(), c.spec());
      assertThat(parameters.getKeyId()).endsWith(":key/" + keyId);
      assertThat(instant(parameters.getParametersValidTo()))
          .isEqualTo(START.plus(Duration.ofDays(1)));
      RSAPublicKey publicKey =
          (RSAPublicKey)
              KeyFactory.getInstance("RSA")
                  .generatePublic(new X509EncodedKeySpec(parameters.getPublicKey().toByteArray()));
      assertThat(publicKey.getModulus().bitLength()).isEqualTo(c.bits());

      ImportKeyMaterialResponse imported =
          importMaterial(keyId, parameters, c.algorithm(), CustomerKeyWrap.newMaterial(), null);
      assertThat(imported.getKeyId()).endsWith(":key/" + keyId);
      KeyMetadata enabled = describe(keyId);
      assertThat(enabled.getKeyState()).isEqualTo(KeyState.ENABLED);
      assertThat(enabled.getExpirationModel())
          .isEqualTo(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE);
      assertThat(decrypt(encrypt(keyId))).isEqualTo(PLAINTEXT);
    }
    assertNoTokenObjectLeft();
  }

  @Test
  void theSha256Algorithms_areRefusedOnATokenThatCannotUnwrapThemInside() {
    String keyId = newExternalKey();
    for (WrappingAlgorithmSpec algorithm :
        new WrappingAlgorithmSpec[] {
          WrappingAlgorithmSpec.WRAPPING_RSAES_OAEP_SHA_256,
          WrappingAlgorithmSpec.RSA_AES_KEY_WRAP_SHA_256
        }) {
      Rpc.assertFails(
          () -> parameters(keyId, algorithm, KeySpec.RSA_2048),
          Status.Code.UNIMPLEMENTED,
          "UnsupportedOperationException");
    }
    // Refused before an import token was made: not even its HMAC key is on the token.
    assertThat(server.tokenObjects()).isEqualTo(objectsAtStart);
  }

  @Test
  void deleteAndReimportOfTheSameMaterial_decryptsWhatWasEncryptedBefore() throws Exception {
    String keyId = newExternalKey();
    byte[] material = CustomerKeyWrap.newMaterial();
    String materialId = importFresh(keyId, material, null).getKeyMaterialId();
    ByteString blob = encrypt(keyId);

    assertThat(
            kms.deleteImportedKeyMaterial(
                    DeleteImportedKeyMaterialRequest.newBuilder().setKeyId(keyId).build())
                .getKeyMaterialId())
        .isEqualTo(materialId);
    assertThat(describe(keyId).getKeyState()).isEqualTo(KeyState.PENDING_IMPORT);
    assertThat(describe(keyId).hasValidTo()).isFalse();
    Rpc.assertFails(
        () -> decrypt(blob), Status.Code.FAILED_PRECONDITION, "KMSInvalidStateException");
    Rpc.assertFails(
        () -> kms.enableKey(EnableKeyRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.FAILED_PRECONDITION,
        "KMSInvalidStateException");

    assertThat(importFresh(keyId, material, null).getKeyMaterialId()).isEqualTo(materialId);
    assertThat(describe(keyId).getKeyState()).isEqualTo(KeyState.ENABLED);
    assertThat(decrypt(blob)).isEqualTo(PLAINTEXT);
    assertNoTokenObjectLeft();
  }

  @Test
  void otherMaterial_isIncorrectKeyMaterial_withMaterialOrAfterItsDeletion() throws Exception {
    String keyId = newExternalKey();
    byte[] material = CustomerKeyWrap.newMaterial();
    importFresh(keyId, material, null);
    ByteString blob = encrypt(keyId);

    Rpc.assertFails(
        () -> importFresh(keyId, CustomerKeyWrap.newMaterial(), null),
        Status.Code.INVALID_ARGUMENT,
        "IncorrectKeyMaterialException");
    kms.deleteImportedKeyMaterial(
        DeleteImportedKeyMaterialRequest.newBuilder().setKeyId(keyId).build());
    Rpc.assertFails(
        () -> importFresh(keyId, CustomerKeyWrap.newMaterial(), null),
        Status.Code.INVALID_ARGUMENT,
        "IncorrectKeyMaterialException");
    assertThat(describe(keyId).getKeyState()).isEqualTo(KeyState.PENDING_IMPORT);

    // The same material, imported again into a Disabled key, changes only its expiry.
    importFresh(keyId, material, null);
    kms.disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build());
    importFresh(keyId, material, START.plus(Duration.ofDays(30)));
    KeyMetadata disabled = describe(keyId);
    assertThat(disabled.getKeyState()).isEqualTo(KeyState.DISABLED);
    assertThat(disabled.getExpirationModel()).isEqualTo(ExpirationModelType.KEY_MATERIAL_EXPIRES);
    assertThat(instant(disabled.getValidTo())).isEqualTo(START.plus(Duration.ofDays(30)));
    kms.enableKey(EnableKeyRequest.newBuilder().setKeyId(keyId).build());
    assertThat(decrypt(blob)).isEqualTo(PLAINTEXT);

    // Material that does not unwrap under the wrapping key.
    GetParametersForImportResponse parameters = oaepParameters(keyId);
    Rpc.assertFails(
        () ->
            kms.importKeyMaterial(
                request(keyId, parameters)
                    .setEncryptedKeyMaterial(ByteString.copyFrom(new byte[256]))
                    .setExpirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "InvalidCiphertextException");
    // Material that unwrapped spent its parameters, even when refused; this one did not, and its
    // wrapping key stays for another try until its 24 hours are over.
    clock.advance(Duration.ofDays(1));
    assertThat(server.destroyExpiredImportWrappingKeys()).isEqualTo(1);
    assertNoTokenObjectLeft();
  }

  @Test
  void twoFirstImportsAtOnce_ofDifferentMaterial_oneWinsAndTheOtherIsIncorrect() throws Exception {
    String keyId = newExternalKey();
    byte[][] materials = {CustomerKeyWrap.newMaterial(), CustomerKeyWrap.newMaterial()};
    ImportKeyMaterialRequest[] requests = new ImportKeyMaterialRequest[2];
    for (int i = 0; i < 2; i++) {
      GetParametersForImportResponse parameters = oaepParameters(keyId);
      requests[i] =
          request(keyId, parameters)
              .setEncryptedKeyMaterial(ByteString.copyFrom(wrap(parameters, materials[i])))
              .setExpirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
              .build();
    }
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      List<Future<String>> outcomes = new ArrayList<>();
      for (ImportKeyMaterialRequest r : requests) {
        outcomes.add(
            threads.submit(
                () -> {
                  start.await();
                  try {
                    kms.importKeyMaterial(r);
                    return "imported";
                  } catch (StatusRuntimeException e) {
                    return Rpc.failure(
                            () -> {
                              throw e;
                            })
                        .reason();
                  }
                }));
      }
      String first = outcomes.get(0).get();
      String second = outcomes.get(1).get();
      assertThat(List.of(first, second))
          .containsExactlyInAnyOrder("imported", "IncorrectKeyMaterialException");
      // The loser's material unwrapped (its parameters are spent) and was refused: only the
      // winner's material imports into the key from now on.
      int winner = first.equals("imported") ? 0 : 1;
      assertThat(importFresh(keyId, materials[winner], null).getKeyId()).endsWith(keyId);
      Rpc.assertFails(
          () -> importFresh(keyId, materials[1 - winner], null),
          Status.Code.INVALID_ARGUMENT,
          "IncorrectKeyMaterialException");
    } finally {
      threads.shutdownNow();
    }
    assertNoTokenObjectLeft();
  }

  @Test
  void forgedOtherKeysUsedAndExpiredImportTokens_areRefused() throws Exception {
    String keyId = newExternalKey();
    String otherKeyId = newExternalKey();
    GetParametersForImportResponse parameters = oaepParameters(keyId);
    byte[] wrapped = wrap(parameters, CustomerKeyWrap.newMaterial());

    byte[] forged = parameters.getImportToken().toByteArray();
    forged[5] ^= 1;
    Rpc.assertFails(
        () -> importWith(keyId, forged, wrapped),
        Status.Code.INVALID_ARGUMENT,
        "InvalidImportTokenException");
    Rpc.assertFails(
        () -> importWith(keyId, new byte[] {1, 2, 3}, wrapped),
        Status.Code.INVALID_ARGUMENT,
        "InvalidImportTokenException");
    Rpc.assertFails(
        () -> importWith(otherKeyId, parameters.getImportToken().toByteArray(), wrapped),
        Status.Code.INVALID_ARGUMENT,
        "InvalidImportTokenException");

    clock.advance(Duration.ofDays(1));
    Rpc.assertFails(
        () -> importWith(keyId, parameters.getImportToken().toByteArray(), wrapped),
        Status.Code.INVALID_ARGUMENT,
        "ExpiredImportTokenException");
    clock.advance(Duration.ofMinutes(-1));
    assertThat(server.destroyExpiredImportWrappingKeys()).isZero();
    importWith(keyId, parameters.getImportToken().toByteArray(), wrapped);
    assertThat(describe(keyId).getKeyState()).isEqualTo(KeyState.ENABLED);
    // Used: its wrapping key is gone from the token.
    Rpc.assertFails(
        () -> importWith(keyId, parameters.getImportToken().toByteArray(), wrapped),
        Status.Code.INVALID_ARGUMENT,
        "InvalidImportTokenException");

    // Parameters never used are destroyed once their 24 hours are over.
    oaepParameters(otherKeyId);
    oaepParameters(otherKeyId);
    assertThat(server.tokenObjects()).isEqualTo(objectsAtStart + 1 + 2);
    clock.advance(Duration.ofDays(1));
    assertThat(server.destroyExpiredImportWrappingKeys()).isEqualTo(2);
    assertNoTokenObjectLeft();
  }

  @Test
  void materialExpires_atValidTo_andNotBefore() throws Exception {
    String keyId = newExternalKey();
    Instant validTo = START.plus(Duration.ofHours(5));
    byte[] material = CustomerKeyWrap.newMaterial();
    importFresh(keyId, material, validTo);
    ByteString blob = encrypt(keyId);
    assertThat(instant(describe(keyId).getValidTo())).isEqualTo(validTo);

    clock.set(validTo.minusNanos(1000));
    assertThat(server.runDueImportExpiries()).isZero();
    assertThat(describe(keyId).getKeyState()).isEqualTo(KeyState.ENABLED);

    clock.set(validTo);
    assertThat(server.runDueImportExpiries()).isEqualTo(1);
    KeyMetadata expired = describe(keyId);
    assertThat(expired.getKeyState()).isEqualTo(KeyState.PENDING_IMPORT);
    assertThat(expired.hasValidTo()).isFalse();
    Rpc.assertFails(
        () -> decrypt(blob), Status.Code.FAILED_PRECONDITION, "KMSInvalidStateException");
    assertThat(server.runDueImportExpiries()).isZero();

    importFresh(keyId, material, null);
    assertThat(decrypt(blob)).isEqualTo(PLAINTEXT);
    assertNoTokenObjectLeft();
  }

  @Test
  void badValidToAndExpirationModel_areValidationErrors_beforeAnyTokenCall() throws Exception {
    String keyId = newExternalKey();
    GetParametersForImportResponse parameters = oaepParameters(keyId);
    byte[] wrapped = wrap(parameters, CustomerKeyWrap.newMaterial());
    long calls = server.tokenCalls();
    for (ImportKeyMaterialRequest bad :
        new ImportKeyMaterialRequest[] {
          // KEY_MATERIAL_EXPIRES (the default) without ValidTo
          request(keyId, parameters).setEncryptedKeyMaterial(ByteString.copyFrom(wrapped)).build(),
          // in the past, and more than 365 days ahead
          withValidTo(keyId, parameters, wrapped, START.minusSeconds(1)),
          withValidTo(keyId, parameters, wrapped, START.plus(Duration.ofDays(366))),
          // ValidTo with a model that does not expire
          withValidTo(keyId, parameters, wrapped, START.plus(Duration.ofDays(1))).toBuilder()
              .setExpirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
              .build(),
          // no material
          request(keyId, parameters)
              .setExpirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
              .build()
        }) {
      Rpc.assertFails(
          () -> kms.importKeyMaterial(bad), Status.Code.INVALID_ARGUMENT, "ValidationException");
    }
    Rpc.assertFails(
        () ->
            parameters(
                keyId, WrappingAlgorithmSpec.WRAPPING_RSAES_OAEP_SHA_1, KeySpec.ECC_NIST_P256),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    assertThat(server.tokenCalls()).isEqualTo(calls);
    clock.advance(Duration.ofDays(1));
    server.destroyExpiredImportWrappingKeys();
    assertNoTokenObjectLeft();
  }

  @Test
  void keyStatesAndRotation_asAwsHasThemForImportedKeys() throws Exception {
    Rpc.assertFails(
        () ->
            kms.createKey(
                CreateKeyRequest.newBuilder()
                    .setOrigin(Origin.EXTERNAL)
                    .setKeySpec(KeySpec.ECC_NIST_P256)
                    .setKeyUsage(io.p11kms.proto.v1.KeyUsage.SIGN_VERIFY)
                    .build()),
        Status.Code.UNIMPLEMENTED,
        "UnsupportedOperationException");
    String generated =
        kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    assertThat(describe(generated).getOrigin()).isEqualTo(Origin.AWS_KMS);
    Rpc.assertFails(
        () -> oaepParameters(generated),
        Status.Code.UNIMPLEMENTED,
        "UnsupportedOperationException");
    Rpc.assertFails(
        () ->
            kms.deleteImportedKeyMaterial(
                DeleteImportedKeyMaterialRequest.newBuilder().setKeyId(generated).build()),
        Status.Code.UNIMPLEMENTED,
        "UnsupportedOperationException");

    String keyId = newExternalKey();
    Rpc.assertFails(
        () -> kms.disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.FAILED_PRECONDITION,
        "KMSInvalidStateException");
    importFresh(keyId, CustomerKeyWrap.newMaterial(), null);
    Rpc.assertFails(
        () -> kms.enableKeyRotation(EnableKeyRotationRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.UNIMPLEMENTED,
        "UnsupportedOperationException");
    Rpc.assertFails(
        () -> kms.rotateKeyOnDemand(RotateKeyOnDemandRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.UNIMPLEMENTED,
        "UnsupportedOperationException");

    // Deleting the material of a key pending deletion keeps it pending; cancelling the deletion
    // of a key without material leaves it PendingImport, as AWS KMS.
    kms.scheduleKeyDeletion(ScheduleKeyDeletionRequest.newBuilder().setKeyId(keyId).build());
    kms.deleteImportedKeyMaterial(
        DeleteImportedKeyMaterialRequest.newBuilder().setKeyId(keyId).build());
    assertThat(describe(keyId).getKeyState()).isEqualTo(KeyState.PENDING_DELETION);
    Rpc.assertFails(
        () -> oaepParameters(keyId), Status.Code.FAILED_PRECONDITION, "KMSInvalidStateException");
    kms.cancelKeyDeletion(CancelKeyDeletionRequest.newBuilder().setKeyId(keyId).build());
    assertThat(describe(keyId).getKeyState()).isEqualTo(KeyState.PENDING_IMPORT);
    assertNoTokenObjectLeft();
  }

  private String newExternalKey() {
    return kms.createKey(
            CreateKeyRequest.newBuilder()
                .setOrigin(Origin.EXTERNAL)
                .setDescription("imported")
                .build())
        .getKeyMetadata()
        .getKeyId();
  }

  private GetParametersForImportResponse parameters(
      String keyId, WrappingAlgorithmSpec algorithm, KeySpec spec) {
    return kms.getParametersForImport(
        GetParametersForImportRequest.newBuilder()
            .setKeyId(keyId)
            .setWrappingAlgorithm(algorithm)
            .setWrappingKeySpec(spec)
            .build());
  }

  private GetParametersForImportResponse oaepParameters(String keyId) {
    return parameters(keyId, WrappingAlgorithmSpec.WRAPPING_RSAES_OAEP_SHA_1, KeySpec.RSA_2048);
  }

  /** New parameters (RSAES_OAEP_SHA_1) and the material imported under them. */
  private ImportKeyMaterialResponse importFresh(String keyId, byte[] material, Instant validTo)
      throws Exception {
    return importMaterial(
        keyId,
        oaepParameters(keyId),
        WrappingAlgorithmSpec.WRAPPING_RSAES_OAEP_SHA_1,
        material,
        validTo);
  }

  private ImportKeyMaterialResponse importMaterial(
      String keyId,
      GetParametersForImportResponse parameters,
      WrappingAlgorithmSpec algorithm,
      byte[] material,
      Instant validTo)
      throws Exception {
    byte[] wrapped =
        CustomerKeyWrap.wrap(
            parameters.getPublicKey().toByteArray(),
            "SHA-1",
            algorithm == WrappingAlgorithmSpec.RSA_AES_KEY_WRAP_SHA_1,
            material);
    ImportKeyMaterialRequest.Builder request =
        request(keyId, parameters).setEncryptedKeyMaterial(ByteString.copyFrom(wrapped));
    if (validTo == null) {
      request.setExpirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE);
    } else {
      request.setExpirationModel(ExpirationModelType.KEY_MATERIAL_EXPIRES).setValidTo(ts(validTo));
    }
    return kms.importKeyMaterial(request.build());
  }

  private static byte[] wrap(GetParametersForImportResponse parameters, byte[] material)
      throws Exception {
    return CustomerKeyWrap.wrap(parameters.getPublicKey().toByteArray(), "SHA-1", false, material);
  }

  private ImportKeyMaterialResponse importWith(String keyId, byte[] token, byte[] wrapped) {
    return kms.importKeyMaterial(
        ImportKeyMaterialRequest.newBuilder()
            .setKeyId(keyId)
            .setImportToken(ByteString.copyFrom(token))
            .setEncryptedKeyMaterial(ByteString.copyFrom(wrapped))
            .setExpirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
            .build());
  }

  private static ImportKeyMaterialRequest.Builder request(
      String keyId, GetParametersForImportResponse parameters) {
    return ImportKeyMaterialRequest.newBuilder()
        .setKeyId(keyId)
        .setImportToken(parameters.getImportToken());
  }

  private static ImportKeyMaterialRequest withValidTo(
      String keyId, GetParametersForImportResponse parameters, byte[] wrapped, Instant validTo) {
    return request(keyId, parameters)
        .setEncryptedKeyMaterial(ByteString.copyFrom(wrapped))
        .setExpirationModel(ExpirationModelType.KEY_MATERIAL_EXPIRES)
        .setValidTo(ts(validTo))
        .build();
  }

  private ByteString encrypt(String keyId) {
    return kms.encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(PLAINTEXT)
                .putAllEncryptionContext(Map.of("app", "import"))
                .build())
        .getCiphertextBlob();
  }

  private ByteString decrypt(ByteString blob) {
    return kms.decrypt(
            DecryptRequest.newBuilder()
                .setCiphertextBlob(blob)
                .putAllEncryptionContext(Map.of("app", "import"))
                .build())
        .getPlaintext();
  }

  private KeyMetadata describe(String keyId) {
    return kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(keyId).build())
        .getKeyMetadata();
  }

  /** What the token held at start, and the import token's HMAC key (made on first use). */
  private void assertNoTokenObjectLeft() {
    server.pkcs11().evictCachedBackingKeys();
    assertThat(server.tokenObjects()).isEqualTo(objectsAtStart + 1);
  }

  private static Timestamp ts(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  private static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }
}
