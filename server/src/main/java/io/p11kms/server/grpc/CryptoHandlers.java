package io.p11kms.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DecryptResponse;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptResponse;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GenerateDataKeyResponse;
import io.p11kms.proto.v1.GenerateDataKeyWithoutPlaintextRequest;
import io.p11kms.proto.v1.GenerateDataKeyWithoutPlaintextResponse;
import io.p11kms.proto.v1.GenerateRandomRequest;
import io.p11kms.proto.v1.GenerateRandomResponse;
import io.p11kms.proto.v1.ReEncryptRequest;
import io.p11kms.proto.v1.ReEncryptResponse;
import io.p11kms.server.service.Ciphertext;
import io.p11kms.server.service.CryptoService;
import io.p11kms.server.service.DataKey;
import io.p11kms.server.service.EncryptionAlgorithm;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.Plaintext;

/**
 * The messages of symmetric encryption, data keys and random bytes, to and from service calls, each
 * with its keys read through the request's {@link KeyLookup}. {@link KmsGrpcService} registers them
 * (and {@link BatchHandlers} runs Encrypt and Decrypt per item); failures become statuses there.
 * Plaintext the service returns is wiped once it is in the message.
 */
final class CryptoHandlers {
  private static final EncryptionAlgorithmSpec SYMMETRIC =
      EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM;

  private final CryptoService crypto;

  CryptoHandlers(CryptoService crypto) {
    this.crypto = crypto;
  }

  /** One Encrypt, with its keys read through {@code lookup}; also a BatchEncrypt item. */
  EncryptResponse encrypt(KeyLookup lookup, EncryptRequest request) {
    EncryptionAlgorithm algorithm =
        ProtoMapping.encryptionAlgorithm(request.getEncryptionAlgorithm(), "EncryptionAlgorithm");
    Ciphertext ciphertext =
        crypto.encrypt(
            lookup,
            request.getKeyId(),
            request.getPlaintext().toByteArray(),
            request.getEncryptionContextMap(),
            algorithm);
    return EncryptResponse.newBuilder()
        .setCiphertextBlob(wrap(ciphertext.blob()))
        .setKeyId(ciphertext.keyArn())
        .setEncryptionAlgorithm(orSymmetric(algorithm))
        .build();
  }

  /** One Decrypt, with its keys read through {@code lookup}; also a BatchDecrypt item. */
  DecryptResponse decrypt(KeyLookup lookup, DecryptRequest request) {
    EncryptionAlgorithm algorithm =
        ProtoMapping.encryptionAlgorithm(request.getEncryptionAlgorithm(), "EncryptionAlgorithm");
    Plaintext plaintext =
        crypto.decrypt(
            lookup,
            request.getCiphertextBlob().toByteArray(),
            request.getEncryptionContextMap(),
            request.getKeyId(),
            algorithm);
    try {
      return DecryptResponse.newBuilder()
          .setKeyId(plaintext.keyArn())
          .setPlaintext(ByteString.copyFrom(plaintext.bytes()))
          .setEncryptionAlgorithm(orSymmetric(algorithm))
          .build();
    } finally {
      plaintext.wipe();
    }
  }

  ReEncryptResponse reEncrypt(KeyLookup lookup, ReEncryptRequest request) {
    EncryptionAlgorithm source =
        ProtoMapping.encryptionAlgorithm(
            request.getSourceEncryptionAlgorithm(), "SourceEncryptionAlgorithm");
    EncryptionAlgorithm destination =
        ProtoMapping.encryptionAlgorithm(
            request.getDestinationEncryptionAlgorithm(), "DestinationEncryptionAlgorithm");
    CryptoService.ReEncrypted result =
        crypto.reEncrypt(
            lookup,
            request.getCiphertextBlob().toByteArray(),
            request.getSourceEncryptionContextMap(),
            request.getSourceKeyId(),
            source,
            request.getDestinationKeyId(),
            request.getDestinationEncryptionContextMap(),
            destination);
    return ReEncryptResponse.newBuilder()
        .setCiphertextBlob(wrap(result.ciphertext().blob()))
        .setSourceKeyId(result.sourceKeyArn())
        .setKeyId(result.ciphertext().keyArn())
        .setSourceEncryptionAlgorithm(orSymmetric(source))
        .setDestinationEncryptionAlgorithm(orSymmetric(destination))
        .build();
  }

  GenerateDataKeyResponse generateDataKey(KeyLookup lookup, GenerateDataKeyRequest request) {
    DataKey dataKey =
        crypto.generateDataKey(
            lookup,
            request.getKeyId(),
            request.getEncryptionContextMap(),
            ProtoMapping.dataKeySpec(request.getKeySpec()),
            request.hasNumberOfBytes() ? request.getNumberOfBytes() : null);
    try {
      return GenerateDataKeyResponse.newBuilder()
          .setCiphertextBlob(wrap(dataKey.ciphertext().blob()))
          .setPlaintext(ByteString.copyFrom(dataKey.plaintext().bytes()))
          .setKeyId(dataKey.ciphertext().keyArn())
          .build();
    } finally {
      dataKey.plaintext().wipe();
    }
  }

  GenerateDataKeyWithoutPlaintextResponse generateDataKeyWithoutPlaintext(
      KeyLookup lookup, GenerateDataKeyWithoutPlaintextRequest request) {
    Ciphertext ciphertext =
        crypto.generateDataKeyWithoutPlaintext(
            lookup,
            request.getKeyId(),
            request.getEncryptionContextMap(),
            ProtoMapping.dataKeySpec(request.getKeySpec()),
            request.hasNumberOfBytes() ? request.getNumberOfBytes() : null);
    return GenerateDataKeyWithoutPlaintextResponse.newBuilder()
        .setCiphertextBlob(wrap(ciphertext.blob()))
        .setKeyId(ciphertext.keyArn())
        .build();
  }

  GenerateRandomResponse generateRandom(GenerateRandomRequest request) {
    return GenerateRandomResponse.newBuilder()
        .setPlaintext(
            wrap(
                crypto.generateRandom(
                    request.hasNumberOfBytes() ? request.getNumberOfBytes() : null)))
        .build();
  }

  private static EncryptionAlgorithmSpec orSymmetric(EncryptionAlgorithm algorithm) {
    return algorithm == null ? SYMMETRIC : ProtoMapping.encryptionAlgorithm(algorithm);
  }

  /** The array is fresh and owned by nobody else, so it need not be copied again. */
  private static ByteString wrap(byte[] fresh) {
    return UnsafeByteOperations.unsafeWrap(fresh);
  }
}
