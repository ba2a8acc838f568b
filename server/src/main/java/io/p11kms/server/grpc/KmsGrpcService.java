package io.p11kms.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.StreamObserver;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.CreateKeyResponse;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DecryptResponse;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.DescribeKeyResponse;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptResponse;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GenerateDataKeyResponse;
import io.p11kms.proto.v1.GenerateDataKeyWithoutPlaintextRequest;
import io.p11kms.proto.v1.GenerateDataKeyWithoutPlaintextResponse;
import io.p11kms.proto.v1.GenerateRandomRequest;
import io.p11kms.proto.v1.GenerateRandomResponse;
import io.p11kms.proto.v1.KeyListEntry;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.ListKeysResponse;
import io.p11kms.proto.v1.ReEncryptRequest;
import io.p11kms.proto.v1.ReEncryptResponse;
import io.p11kms.server.service.Ciphertext;
import io.p11kms.server.service.CryptoService;
import io.p11kms.server.service.DataKey;
import io.p11kms.server.service.KeyListing;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.Plaintext;
import java.util.function.Supplier;

/**
 * The gRPC front end: turns messages into service calls and results into messages. Rules live in
 * the service; failures become statuses in {@link ErrorStatus}.
 */
public final class KmsGrpcService extends KeyManagementServiceGrpc.KeyManagementServiceImplBase {
  private static final EncryptionAlgorithmSpec SYMMETRIC =
      EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM;

  private final KeyService keys;
  private final CryptoService crypto;

  public KmsGrpcService(KeyService keys, CryptoService crypto) {
    this.keys = keys;
    this.crypto = crypto;
  }

  @Override
  public void createKey(CreateKeyRequest request, StreamObserver<CreateKeyResponse> response) {
    unary(
        response,
        () ->
            CreateKeyResponse.newBuilder()
                .setKeyMetadata(
                    ProtoMapping.keyMetadata(
                        keys.createKey(
                            request.getDescription(),
                            ProtoMapping.keyUsage(request.getKeyUsage()),
                            ProtoMapping.keySpec(request.getKeySpec()))))
                .build());
  }

  @Override
  public void describeKey(
      DescribeKeyRequest request, StreamObserver<DescribeKeyResponse> response) {
    unary(
        response,
        () ->
            DescribeKeyResponse.newBuilder()
                .setKeyMetadata(ProtoMapping.keyMetadata(keys.describeKey(request.getKeyId())))
                .build());
  }

  @Override
  public void listKeys(ListKeysRequest request, StreamObserver<ListKeysResponse> response) {
    unary(
        response,
        () -> {
          KeyListing listing =
              keys.listKeys(request.hasLimit() ? request.getLimit() : null, request.getMarker());
          ListKeysResponse.Builder builder =
              ListKeysResponse.newBuilder().setTruncated(listing.truncated());
          listing.nextMarker().ifPresent(builder::setNextMarker);
          for (KeyListing.Entry entry : listing.keys()) {
            builder.addKeys(
                KeyListEntry.newBuilder()
                    .setKeyId(entry.keyId().toString())
                    .setKeyArn(entry.arn()));
          }
          return builder.build();
        });
  }

  @Override
  public void encrypt(EncryptRequest request, StreamObserver<EncryptResponse> response) {
    unary(
        response,
        () -> {
          ProtoMapping.requireSymmetricAlgorithm(
              request.getEncryptionAlgorithm(), "EncryptionAlgorithm");
          Ciphertext ciphertext =
              crypto.encrypt(
                  request.getKeyId(),
                  request.getPlaintext().toByteArray(),
                  request.getEncryptionContextMap());
          return EncryptResponse.newBuilder()
              .setCiphertextBlob(wrap(ciphertext.blob()))
              .setKeyId(ciphertext.keyArn())
              .setEncryptionAlgorithm(SYMMETRIC)
              .build();
        });
  }

  @Override
  public void decrypt(DecryptRequest request, StreamObserver<DecryptResponse> response) {
    unary(
        response,
        () -> {
          ProtoMapping.requireSymmetricAlgorithm(
              request.getEncryptionAlgorithm(), "EncryptionAlgorithm");
          Plaintext plaintext =
              crypto.decrypt(
                  request.getCiphertextBlob().toByteArray(),
                  request.getEncryptionContextMap(),
                  request.getKeyId());
          try {
            return DecryptResponse.newBuilder()
                .setKeyId(plaintext.keyArn())
                .setPlaintext(ByteString.copyFrom(plaintext.bytes()))
                .setEncryptionAlgorithm(SYMMETRIC)
                .build();
          } finally {
            plaintext.wipe();
          }
        });
  }

  @Override
  public void reEncrypt(ReEncryptRequest request, StreamObserver<ReEncryptResponse> response) {
    unary(
        response,
        () -> {
          ProtoMapping.requireSymmetricAlgorithm(
              request.getSourceEncryptionAlgorithm(), "SourceEncryptionAlgorithm");
          ProtoMapping.requireSymmetricAlgorithm(
              request.getDestinationEncryptionAlgorithm(), "DestinationEncryptionAlgorithm");
          CryptoService.ReEncrypted result =
              crypto.reEncrypt(
                  request.getCiphertextBlob().toByteArray(),
                  request.getSourceEncryptionContextMap(),
                  request.getSourceKeyId(),
                  request.getDestinationKeyId(),
                  request.getDestinationEncryptionContextMap());
          return ReEncryptResponse.newBuilder()
              .setCiphertextBlob(wrap(result.ciphertext().blob()))
              .setSourceKeyId(result.sourceKeyArn())
              .setKeyId(result.ciphertext().keyArn())
              .setSourceEncryptionAlgorithm(SYMMETRIC)
              .setDestinationEncryptionAlgorithm(SYMMETRIC)
              .build();
        });
  }

  @Override
  public void generateDataKey(
      GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> response) {
    unary(
        response,
        () -> {
          DataKey dataKey =
              crypto.generateDataKey(
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
        });
  }

  @Override
  public void generateDataKeyWithoutPlaintext(
      GenerateDataKeyWithoutPlaintextRequest request,
      StreamObserver<GenerateDataKeyWithoutPlaintextResponse> response) {
    unary(
        response,
        () -> {
          Ciphertext ciphertext =
              crypto.generateDataKeyWithoutPlaintext(
                  request.getKeyId(),
                  request.getEncryptionContextMap(),
                  ProtoMapping.dataKeySpec(request.getKeySpec()),
                  request.hasNumberOfBytes() ? request.getNumberOfBytes() : null);
          return GenerateDataKeyWithoutPlaintextResponse.newBuilder()
              .setCiphertextBlob(wrap(ciphertext.blob()))
              .setKeyId(ciphertext.keyArn())
              .build();
        });
  }

  @Override
  public void generateRandom(
      GenerateRandomRequest request, StreamObserver<GenerateRandomResponse> response) {
    unary(
        response,
        () ->
            GenerateRandomResponse.newBuilder()
                .setPlaintext(
                    wrap(
                        crypto.generateRandom(
                            request.hasNumberOfBytes() ? request.getNumberOfBytes() : null)))
                .build());
  }

  /** The array is fresh and owned by nobody else, so it need not be copied again. */
  private static ByteString wrap(byte[] fresh) {
    return UnsafeByteOperations.unsafeWrap(fresh);
  }

  private static <T> void unary(StreamObserver<T> response, Supplier<T> call) {
    T result;
    try {
      result = call.get();
    } catch (RuntimeException e) {
      response.onError(ErrorStatus.of(e));
      return;
    }
    response.onNext(result);
    response.onCompleted();
  }
}
