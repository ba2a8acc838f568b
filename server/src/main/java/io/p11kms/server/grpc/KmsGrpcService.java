package io.p11kms.server.grpc;

import io.grpc.stub.StreamObserver;
import io.p11kms.proto.v1.BatchDecryptRequest;
import io.p11kms.proto.v1.BatchDecryptResponse;
import io.p11kms.proto.v1.BatchEncryptRequest;
import io.p11kms.proto.v1.BatchEncryptResponse;
import io.p11kms.proto.v1.CancelKeyDeletionRequest;
import io.p11kms.proto.v1.CancelKeyDeletionResponse;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateAliasResponse;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.CreateKeyResponse;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DecryptResponse;
import io.p11kms.proto.v1.DeleteAliasRequest;
import io.p11kms.proto.v1.DeleteAliasResponse;
import io.p11kms.proto.v1.DeleteImportedKeyMaterialRequest;
import io.p11kms.proto.v1.DeleteImportedKeyMaterialResponse;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.DescribeKeyResponse;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.DisableKeyResponse;
import io.p11kms.proto.v1.DisableKeyRotationRequest;
import io.p11kms.proto.v1.DisableKeyRotationResponse;
import io.p11kms.proto.v1.EnableKeyRequest;
import io.p11kms.proto.v1.EnableKeyResponse;
import io.p11kms.proto.v1.EnableKeyRotationRequest;
import io.p11kms.proto.v1.EnableKeyRotationResponse;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptResponse;
import io.p11kms.proto.v1.GenerateDataKeyPairRequest;
import io.p11kms.proto.v1.GenerateDataKeyPairResponse;
import io.p11kms.proto.v1.GenerateDataKeyPairWithoutPlaintextRequest;
import io.p11kms.proto.v1.GenerateDataKeyPairWithoutPlaintextResponse;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GenerateDataKeyResponse;
import io.p11kms.proto.v1.GenerateDataKeyWithoutPlaintextRequest;
import io.p11kms.proto.v1.GenerateDataKeyWithoutPlaintextResponse;
import io.p11kms.proto.v1.GenerateMacRequest;
import io.p11kms.proto.v1.GenerateMacResponse;
import io.p11kms.proto.v1.GenerateRandomRequest;
import io.p11kms.proto.v1.GenerateRandomResponse;
import io.p11kms.proto.v1.GetKeyRotationStatusRequest;
import io.p11kms.proto.v1.GetKeyRotationStatusResponse;
import io.p11kms.proto.v1.GetParametersForImportRequest;
import io.p11kms.proto.v1.GetParametersForImportResponse;
import io.p11kms.proto.v1.GetPublicKeyRequest;
import io.p11kms.proto.v1.GetPublicKeyResponse;
import io.p11kms.proto.v1.ImportKeyMaterialRequest;
import io.p11kms.proto.v1.ImportKeyMaterialResponse;
import io.p11kms.proto.v1.KeyListEntry;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.ListAliasesRequest;
import io.p11kms.proto.v1.ListAliasesResponse;
import io.p11kms.proto.v1.ListKeyRotationsRequest;
import io.p11kms.proto.v1.ListKeyRotationsResponse;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.ListKeysResponse;
import io.p11kms.proto.v1.ListResourceTagsRequest;
import io.p11kms.proto.v1.ListResourceTagsResponse;
import io.p11kms.proto.v1.ReEncryptRequest;
import io.p11kms.proto.v1.ReEncryptResponse;
import io.p11kms.proto.v1.ReplicateKeyRequest;
import io.p11kms.proto.v1.ReplicateKeyResponse;
import io.p11kms.proto.v1.RotateKeyOnDemandRequest;
import io.p11kms.proto.v1.RotateKeyOnDemandResponse;
import io.p11kms.proto.v1.ScheduleKeyDeletionRequest;
import io.p11kms.proto.v1.ScheduleKeyDeletionResponse;
import io.p11kms.proto.v1.SignRequest;
import io.p11kms.proto.v1.SignResponse;
import io.p11kms.proto.v1.TagResourceRequest;
import io.p11kms.proto.v1.TagResourceResponse;
import io.p11kms.proto.v1.UntagResourceRequest;
import io.p11kms.proto.v1.UntagResourceResponse;
import io.p11kms.proto.v1.UpdateAliasRequest;
import io.p11kms.proto.v1.UpdateAliasResponse;
import io.p11kms.proto.v1.UpdateKeyDescriptionRequest;
import io.p11kms.proto.v1.UpdateKeyDescriptionResponse;
import io.p11kms.proto.v1.UpdatePrimaryRegionRequest;
import io.p11kms.proto.v1.UpdatePrimaryRegionResponse;
import io.p11kms.proto.v1.VerifyMacRequest;
import io.p11kms.proto.v1.VerifyMacResponse;
import io.p11kms.proto.v1.VerifyRequest;
import io.p11kms.proto.v1.VerifyResponse;
import io.p11kms.server.service.KeyListing;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.KmsServices;
import io.p11kms.server.service.MultiRegionService;
import java.util.function.Supplier;

/**
 * The gRPC front end: turns messages into service calls and results into messages. Rules live in
 * the service; failures become statuses in {@link ErrorStatus}.
 */
public final class KmsGrpcService extends KeyManagementServiceGrpc.KeyManagementServiceImplBase {
  private final KeyService keys;
  private final MultiRegionService multiRegion;
  private final CryptoHandlers cryptoHandlers;
  private final LifecycleHandlers lifecycle;
  private final RotationHandlers rotation;
  private final AsymmetricHandlers asymmetric;
  private final ImportHandlers imports;
  private final BatchHandlers batches;

  /** The RPCs over the operations' services. */
  public KmsGrpcService(KmsServices services) {
    this.keys = services.keys();
    this.multiRegion = services.multiRegion();
    this.cryptoHandlers = new CryptoHandlers(services.crypto());
    this.lifecycle =
        new LifecycleHandlers(keys, services.lifecycle(), services.aliases(), services.tags());
    this.rotation = new RotationHandlers(services.rotations());
    this.asymmetric =
        new AsymmetricHandlers(keys, services.signing(), services.macs(), services.dataKeyPairs());
    this.imports = new ImportHandlers(services.imports());
    this.batches = new BatchHandlers(keys, cryptoHandlers::encrypt, cryptoHandlers::decrypt);
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
                            RequestLookups.current(keys), ProtoMapping.createKey(request))))
                .build());
  }

  @Override
  public void describeKey(
      DescribeKeyRequest request, StreamObserver<DescribeKeyResponse> response) {
    unary(
        response,
        () ->
            DescribeKeyResponse.newBuilder()
                .setKeyMetadata(
                    ProtoMapping.keyMetadata(
                        keys.describeKey(RequestLookups.current(keys), request.getKeyId())))
                .build());
  }

  @Override
  public void listKeys(ListKeysRequest request, StreamObserver<ListKeysResponse> response) {
    unary(
        response,
        () -> {
          KeyListing listing =
              keys.listKeys(
                  RequestLookups.current(keys).account(),
                  request.hasLimit() ? request.getLimit() : null,
                  request.getMarker());
          ListKeysResponse.Builder builder =
              ListKeysResponse.newBuilder().setTruncated(listing.truncated());
          listing.nextMarker().ifPresent(builder::setNextMarker);
          for (KeyListing.Entry entry : listing.keys()) {
            builder.addKeys(
                KeyListEntry.newBuilder()
                    .setKeyId(io.p11kms.server.config.KeyArns.keyIdText(entry.keyId()))
                    .setKeyArn(entry.arn()));
          }
          return builder.build();
        });
  }

  @Override
  public void replicateKey(
      ReplicateKeyRequest request, StreamObserver<ReplicateKeyResponse> response) {
    unary(
        response,
        () ->
            ProtoMapping.replicated(
                multiRegion.replicate(
                    request.getKeyId(),
                    request.getReplicaRegion(),
                    request.getPolicy(),
                    request.getTagsCount() == 0 ? null : ProtoMapping.tags(request.getTagsList()),
                    request.hasDescription() ? request.getDescription() : null)));
  }

  @Override
  public void updatePrimaryRegion(
      UpdatePrimaryRegionRequest request, StreamObserver<UpdatePrimaryRegionResponse> response) {
    unary(
        response,
        () -> {
          multiRegion.updatePrimaryRegion(request.getKeyId(), request.getPrimaryRegion());
          return UpdatePrimaryRegionResponse.getDefaultInstance();
        });
  }

  // Symmetric encryption, data keys and random bytes: the messages are mapped in CryptoHandlers.

  @Override
  public void encrypt(EncryptRequest request, StreamObserver<EncryptResponse> response) {
    unary(response, () -> cryptoHandlers.encrypt(RequestLookups.current(keys), request));
  }

  @Override
  public void decrypt(DecryptRequest request, StreamObserver<DecryptResponse> response) {
    unary(response, () -> cryptoHandlers.decrypt(RequestLookups.current(keys), request));
  }

  @Override
  public void batchEncrypt(
      BatchEncryptRequest request, StreamObserver<BatchEncryptResponse> response) {
    unary(response, () -> batches.encrypt(request));
  }

  @Override
  public void batchDecrypt(
      BatchDecryptRequest request, StreamObserver<BatchDecryptResponse> response) {
    unary(response, () -> batches.decrypt(request));
  }

  @Override
  public void reEncrypt(ReEncryptRequest request, StreamObserver<ReEncryptResponse> response) {
    unary(response, () -> cryptoHandlers.reEncrypt(RequestLookups.current(keys), request));
  }

  @Override
  public void generateDataKey(
      GenerateDataKeyRequest request, StreamObserver<GenerateDataKeyResponse> response) {
    unary(response, () -> cryptoHandlers.generateDataKey(RequestLookups.current(keys), request));
  }

  @Override
  public void generateDataKeyWithoutPlaintext(
      GenerateDataKeyWithoutPlaintextRequest request,
      StreamObserver<GenerateDataKeyWithoutPlaintextResponse> response) {
    unary(
        response,
        () ->
            cryptoHandlers.generateDataKeyWithoutPlaintext(RequestLookups.current(keys), request));
  }

  @Override
  public void generateRandom(
      GenerateRandomRequest request, StreamObserver<GenerateRandomResponse> response) {
    unary(response, () -> cryptoHandlers.generateRandom(request));
  }

  // Key life cycle, aliases and tags: the messages are mapped in LifecycleHandlers.

  @Override
  public void updateKeyDescription(
      UpdateKeyDescriptionRequest request, StreamObserver<UpdateKeyDescriptionResponse> response) {
    unary(response, () -> lifecycle.updateKeyDescription(request));
  }

  @Override
  public void enableKey(EnableKeyRequest request, StreamObserver<EnableKeyResponse> response) {
    unary(response, () -> lifecycle.enableKey(request));
  }

  @Override
  public void disableKey(DisableKeyRequest request, StreamObserver<DisableKeyResponse> response) {
    unary(response, () -> lifecycle.disableKey(request));
  }

  @Override
  public void scheduleKeyDeletion(
      ScheduleKeyDeletionRequest request, StreamObserver<ScheduleKeyDeletionResponse> response) {
    unary(response, () -> lifecycle.scheduleKeyDeletion(request));
  }

  @Override
  public void cancelKeyDeletion(
      CancelKeyDeletionRequest request, StreamObserver<CancelKeyDeletionResponse> response) {
    unary(response, () -> lifecycle.cancelKeyDeletion(request));
  }

  @Override
  public void createAlias(
      CreateAliasRequest request, StreamObserver<CreateAliasResponse> response) {
    unary(response, () -> lifecycle.createAlias(request));
  }

  @Override
  public void updateAlias(
      UpdateAliasRequest request, StreamObserver<UpdateAliasResponse> response) {
    unary(response, () -> lifecycle.updateAlias(request));
  }

  @Override
  public void deleteAlias(
      DeleteAliasRequest request, StreamObserver<DeleteAliasResponse> response) {
    unary(response, () -> lifecycle.deleteAlias(request));
  }

  @Override
  public void listAliases(
      ListAliasesRequest request, StreamObserver<ListAliasesResponse> response) {
    unary(response, () -> lifecycle.listAliases(request));
  }

  @Override
  public void tagResource(
      TagResourceRequest request, StreamObserver<TagResourceResponse> response) {
    unary(response, () -> lifecycle.tagResource(request));
  }

  @Override
  public void untagResource(
      UntagResourceRequest request, StreamObserver<UntagResourceResponse> response) {
    unary(response, () -> lifecycle.untagResource(request));
  }

  @Override
  public void listResourceTags(
      ListResourceTagsRequest request, StreamObserver<ListResourceTagsResponse> response) {
    unary(response, () -> lifecycle.listResourceTags(request));
  }

  // Key rotation: the messages are mapped in RotationHandlers.

  @Override
  public void enableKeyRotation(
      EnableKeyRotationRequest request, StreamObserver<EnableKeyRotationResponse> response) {
    unary(response, () -> rotation.enableKeyRotation(request));
  }

  @Override
  public void disableKeyRotation(
      DisableKeyRotationRequest request, StreamObserver<DisableKeyRotationResponse> response) {
    unary(response, () -> rotation.disableKeyRotation(request));
  }

  @Override
  public void getKeyRotationStatus(
      GetKeyRotationStatusRequest request, StreamObserver<GetKeyRotationStatusResponse> response) {
    unary(response, () -> rotation.getKeyRotationStatus(request));
  }

  @Override
  public void rotateKeyOnDemand(
      RotateKeyOnDemandRequest request, StreamObserver<RotateKeyOnDemandResponse> response) {
    unary(response, () -> rotation.rotateKeyOnDemand(request));
  }

  @Override
  public void listKeyRotations(
      ListKeyRotationsRequest request, StreamObserver<ListKeyRotationsResponse> response) {
    unary(response, () -> rotation.listKeyRotations(request));
  }

  // Asymmetric and HMAC keys: the messages are mapped in AsymmetricHandlers.

  @Override
  public void sign(SignRequest request, StreamObserver<SignResponse> response) {
    unary(response, () -> asymmetric.sign(request));
  }

  @Override
  public void verify(VerifyRequest request, StreamObserver<VerifyResponse> response) {
    unary(response, () -> asymmetric.verify(request));
  }

  @Override
  public void getPublicKey(
      GetPublicKeyRequest request, StreamObserver<GetPublicKeyResponse> response) {
    unary(response, () -> asymmetric.getPublicKey(request));
  }

  @Override
  public void generateMac(
      GenerateMacRequest request, StreamObserver<GenerateMacResponse> response) {
    unary(response, () -> asymmetric.generateMac(request));
  }

  @Override
  public void verifyMac(VerifyMacRequest request, StreamObserver<VerifyMacResponse> response) {
    unary(response, () -> asymmetric.verifyMac(request));
  }

  @Override
  public void generateDataKeyPair(
      GenerateDataKeyPairRequest request, StreamObserver<GenerateDataKeyPairResponse> response) {
    unary(response, () -> asymmetric.generateDataKeyPair(request));
  }

  @Override
  public void generateDataKeyPairWithoutPlaintext(
      GenerateDataKeyPairWithoutPlaintextRequest request,
      StreamObserver<GenerateDataKeyPairWithoutPlaintextResponse> response) {
    unary(response, () -> asymmetric.generateDataKeyPairWithoutPlaintext(request));
  }

  // Imported key material: the messages are mapped in ImportHandlers.

  @Override
  public void getParametersForImport(
      GetParametersForImportRequest request,
      StreamObserver<GetParametersForImportResponse> response) {
    unary(response, () -> imports.getParametersForImport(request));
  }

  @Override
  public void importKeyMaterial(
      ImportKeyMaterialRequest request, StreamObserver<ImportKeyMaterialResponse> response) {
    unary(response, () -> imports.importKeyMaterial(request));
  }

  @Override
  public void deleteImportedKeyMaterial(
      DeleteImportedKeyMaterialRequest request,
      StreamObserver<DeleteImportedKeyMaterialResponse> response) {
    unary(response, () -> imports.deleteImportedKeyMaterial(request));
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
