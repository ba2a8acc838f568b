package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DataKeySpec;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GenerateDataKeyWithoutPlaintextRequest;
import io.p11kms.proto.v1.GenerateRandomRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.ReEncryptRequest;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad input gets the AWS exception, and is refused before any token call. */
class BadInputIT {
  private static final String VALIDATION = "ValidationException";

  private static KmsTestServer server;
  private static KeyManagementServiceBlockingStub kms;
  private static String keyId;

  @BeforeAll
  static void startServer() throws Exception {
    server = KmsTestServer.start();
    kms = server.client();
    keyId = kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  @Test
  void encrypt_emptyPlaintext_isValidation() {
    refusedBeforeTheToken(
        () -> kms.encrypt(EncryptRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
  }

  @Test
  void encrypt_4097Bytes_isValidation() {
    refusedBeforeTheToken(
        () ->
            kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(keyId)
                    .setPlaintext(ByteString.copyFrom(new byte[4097]))
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
  }

  @Test
  void encrypt_missingKeyId_isValidation() {
    refusedBeforeTheToken(
        () ->
            kms.encrypt(
                EncryptRequest.newBuilder().setPlaintext(ByteString.copyFromUtf8("x")).build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
  }

  @Test
  void encrypt_unknownKey_isNotFound() {
    refusedBeforeTheToken(
        () ->
            kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(UUID.randomUUID().toString())
                    .setPlaintext(ByteString.copyFromUtf8("x"))
                    .build()),
        Status.Code.NOT_FOUND,
        "NotFoundException");
  }

  @Test
  void encrypt_malformedKeyId_isValidation() {
    for (String malformed :
        new String[] {"not-a-key", "1234", "arn:aws:kms:local-1:111122223333:key/nope", "alias"}) {
      refusedBeforeTheToken(
          () ->
              kms.encrypt(
                  EncryptRequest.newBuilder()
                      .setKeyId(malformed)
                      .setPlaintext(ByteString.copyFromUtf8("x"))
                      .build()),
          Status.Code.INVALID_ARGUMENT,
          VALIDATION);
    }
  }

  @Test
  void encrypt_emptyContextKey_isValidation() {
    refusedBeforeTheToken(
        () ->
            kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(keyId)
                    .setPlaintext(ByteString.copyFromUtf8("x"))
                    .putEncryptionContext("", "v")
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
  }

  @Test
  void describeKey_unknownOrMissing() {
    refusedBeforeTheToken(
        () ->
            kms.describeKey(
                DescribeKeyRequest.newBuilder().setKeyId(UUID.randomUUID().toString()).build()),
        Status.Code.NOT_FOUND,
        "NotFoundException");
    refusedBeforeTheToken(
        () -> kms.describeKey(DescribeKeyRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
  }

  @Test
  void decrypt_missingBlob_isValidation() {
    refusedBeforeTheToken(
        () -> kms.decrypt(DecryptRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
  }

  @Test
  void decrypt_garbage_isInvalidCiphertext_withoutATokenCall() {
    refusedBeforeTheToken(
        () ->
            kms.decrypt(
                DecryptRequest.newBuilder()
                    .setCiphertextBlob(ByteString.copyFromUtf8("not a ciphertext"))
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "InvalidCiphertextException");
  }

  @Test
  void reEncrypt_missingDestination_isValidation() {
    refusedBeforeTheToken(
        () ->
            kms.reEncrypt(
                ReEncryptRequest.newBuilder()
                    .setCiphertextBlob(ByteString.copyFromUtf8("x"))
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
  }

  @Test
  void generateDataKey_numberOfBytesOutOfRange_isValidation() {
    for (int bad : new int[] {0, -1, 1025}) {
      refusedBeforeTheToken(
          () ->
              kms.generateDataKey(
                  GenerateDataKeyRequest.newBuilder()
                      .setKeyId(keyId)
                      .setNumberOfBytes(bad)
                      .build()),
          Status.Code.INVALID_ARGUMENT,
          VALIDATION);
    }
  }

  @Test
  void generateDataKey_neitherOrBothLengths_isValidation() {
    refusedBeforeTheToken(
        () -> kms.generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
    refusedBeforeTheToken(
        () ->
            kms.generateDataKey(
                GenerateDataKeyRequest.newBuilder()
                    .setKeyId(keyId)
                    .setKeySpec(DataKeySpec.AES_256)
                    .setNumberOfBytes(32)
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
    refusedBeforeTheToken(
        () ->
            kms.generateDataKeyWithoutPlaintext(
                GenerateDataKeyWithoutPlaintextRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
  }

  @Test
  void generateRandom_outOfRange_isValidation() {
    refusedBeforeTheToken(
        () -> kms.generateRandom(GenerateRandomRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
    for (int bad : new int[] {0, 1025}) {
      refusedBeforeTheToken(
          () ->
              kms.generateRandom(GenerateRandomRequest.newBuilder().setNumberOfBytes(bad).build()),
          Status.Code.INVALID_ARGUMENT,
          VALIDATION);
    }
  }

  @Test
  void listKeys_badLimitOrMarker() {
    refusedBeforeTheToken(
        () -> kms.listKeys(ListKeysRequest.newBuilder().setLimit(0).build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
    refusedBeforeTheToken(
        () -> kms.listKeys(ListKeysRequest.newBuilder().setLimit(1001).build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
    refusedBeforeTheToken(
        () -> kms.listKeys(ListKeysRequest.newBuilder().setMarker("forged!").build()),
        Status.Code.INVALID_ARGUMENT,
        "InvalidMarkerException");
  }

  @Test
  void createKey_tooLongDescription_isValidation_andMakesNoKey() {
    long keysBefore =
        kms.listKeys(ListKeysRequest.newBuilder().setLimit(1000).build()).getKeysCount();
    refusedBeforeTheToken(
        () -> kms.createKey(CreateKeyRequest.newBuilder().setDescription("d".repeat(8193)).build()),
        Status.Code.INVALID_ARGUMENT,
        VALIDATION);
    assertThat(kms.listKeys(ListKeysRequest.newBuilder().setLimit(1000).build()).getKeysCount())
        .isEqualTo(keysBefore);
  }

  private static void refusedBeforeTheToken(
      ThrowingCallable call, Status.Code code, String awsException) {
    long before = server.tokenCalls();
    Rpc.assertFails(call, code, awsException);
    assertThat(server.tokenCalls()).as("token calls made for a refused request").isEqualTo(before);
  }
}
