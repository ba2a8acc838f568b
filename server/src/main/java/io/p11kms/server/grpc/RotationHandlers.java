package io.p11kms.server.grpc;

import io.p11kms.proto.v1.DisableKeyRotationRequest;
import io.p11kms.proto.v1.DisableKeyRotationResponse;
import io.p11kms.proto.v1.EnableKeyRotationRequest;
import io.p11kms.proto.v1.EnableKeyRotationResponse;
import io.p11kms.proto.v1.GetKeyRotationStatusRequest;
import io.p11kms.proto.v1.GetKeyRotationStatusResponse;
import io.p11kms.proto.v1.ListKeyRotationsRequest;
import io.p11kms.proto.v1.ListKeyRotationsResponse;
import io.p11kms.proto.v1.RotateKeyOnDemandRequest;
import io.p11kms.proto.v1.RotateKeyOnDemandResponse;
import io.p11kms.proto.v1.RotationType;
import io.p11kms.proto.v1.RotationsListEntry;
import io.p11kms.server.service.KeyRotationService;

/**
 * The messages of the key rotation operations, to and from service calls. {@link KmsGrpcService}
 * registers them; failures become statuses there.
 */
public final class RotationHandlers {
  private final KeyRotationService rotation;

  public RotationHandlers(KeyRotationService rotation) {
    this.rotation = rotation;
  }

  EnableKeyRotationResponse enableKeyRotation(EnableKeyRotationRequest request) {
    rotation.enableKeyRotation(
        request.getKeyId(),
        request.hasRotationPeriodInDays() ? request.getRotationPeriodInDays() : null);
    return EnableKeyRotationResponse.getDefaultInstance();
  }

  DisableKeyRotationResponse disableKeyRotation(DisableKeyRotationRequest request) {
    rotation.disableKeyRotation(request.getKeyId());
    return DisableKeyRotationResponse.getDefaultInstance();
  }

  GetKeyRotationStatusResponse getKeyRotationStatus(GetKeyRotationStatusRequest request) {
    KeyRotationService.Status status = rotation.getKeyRotationStatus(request.getKeyId());
    GetKeyRotationStatusResponse.Builder builder =
        GetKeyRotationStatusResponse.newBuilder()
            .setKeyId(status.keyArn())
            .setKeyRotationEnabled(status.enabled());
    status.periodDays().ifPresent(builder::setRotationPeriodInDays);
    status
        .nextRotationDate()
        .ifPresent(d -> builder.setNextRotationDate(ProtoMapping.timestamp(d)));
    status
        .onDemandRotationStartDate()
        .ifPresent(d -> builder.setOnDemandRotationStartDate(ProtoMapping.timestamp(d)));
    return builder.build();
  }

  RotateKeyOnDemandResponse rotateKeyOnDemand(RotateKeyOnDemandRequest request) {
    return RotateKeyOnDemandResponse.newBuilder()
        .setKeyId(rotation.rotateKeyOnDemand(request.getKeyId()))
        .build();
  }

  ListKeyRotationsResponse listKeyRotations(ListKeyRotationsRequest request) {
    KeyRotationService.Listing listing =
        rotation.listKeyRotations(
            request.getKeyId(),
            request.hasLimit() ? request.getLimit() : null,
            request.getMarker());
    ListKeyRotationsResponse.Builder builder =
        ListKeyRotationsResponse.newBuilder().setTruncated(listing.truncated());
    listing.nextMarker().ifPresent(builder::setNextMarker);
    for (KeyRotationService.Rotation r : listing.rotations()) {
      builder.addRotations(
          RotationsListEntry.newBuilder()
              .setKeyId(io.p11kms.server.config.KeyArns.keyIdText(r.keyId()))
              .setKeyMaterialId(r.keyMaterialId().toString())
              .setRotationDate(ProtoMapping.timestamp(r.rotationDate()))
              .setRotationType(RotationType.valueOf(r.rotationType().name())));
    }
    return builder.build();
  }
}
