package io.p11kms.server.awsjson;

import static io.p11kms.server.awsjson.Members.orEmpty;

import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.awsjson.SharedMessages.KeyIdRequest;
import io.p11kms.server.awsjson.SharedMessages.KeyIdResponse;
import io.p11kms.server.awsjson.SharedMessages.KeyPageRequest;
import io.p11kms.server.service.KeyRotationService;
import io.p11kms.server.service.Operation;
import java.time.Instant;
import java.util.List;

/** Key rotation: its members as the KMS service model names them. */
final class RotationRoutes {
  private RotationRoutes() {}

  record EnableKeyRotationRequest(String keyId, Integer rotationPeriodInDays)
      implements OperationRequest {
    EnableKeyRotationRequest {
      keyId = orEmpty(keyId);
    }
  }

  record GetKeyRotationStatusResponse(
      Boolean keyRotationEnabled,
      String keyId,
      Integer rotationPeriodInDays,
      Instant nextRotationDate,
      Instant onDemandRotationStartDate) {}

  record ListKeyRotationsResponse(
      List<RotationEntry> rotations, String nextMarker, Boolean truncated) {}

  record RotationEntry(
      String keyId, String keyMaterialId, Instant rotationDate, String rotationType) {}

  static List<Route<?, ?>> routes(KeyRotationService rotation) {
    return List.of(
        Route.empty(
            Operation.ENABLE_KEY_ROTATION,
            EnableKeyRotationRequest.class,
            r -> rotation.enableKeyRotation(r.keyId(), r.rotationPeriodInDays())),
        Route.empty(
            Operation.DISABLE_KEY_ROTATION,
            KeyIdRequest.class,
            r -> rotation.disableKeyRotation(r.keyId())),
        Route.of(
            Operation.GET_KEY_ROTATION_STATUS,
            KeyIdRequest.class,
            (c, r) -> {
              KeyRotationService.Status s = rotation.getKeyRotationStatus(r.keyId());
              return new GetKeyRotationStatusResponse(
                  s.enabled(),
                  s.keyArn(),
                  s.periodDays().orElse(null),
                  s.nextRotationDate().orElse(null),
                  s.onDemandRotationStartDate().orElse(null));
            }),
        Route.of(
            Operation.ROTATE_KEY_ON_DEMAND,
            KeyIdRequest.class,
            (c, r) -> new KeyIdResponse(rotation.rotateKeyOnDemand(r.keyId()))),
        Route.of(
            Operation.LIST_KEY_ROTATIONS,
            KeyPageRequest.class,
            (c, r) -> {
              KeyRotationService.Listing listing =
                  rotation.listKeyRotations(r.keyId(), r.limit(), r.marker());
              return new ListKeyRotationsResponse(
                  listing.rotations().stream()
                      .map(
                          e ->
                              new RotationEntry(
                                  io.p11kms.server.config.KeyArns.keyIdText(e.keyId()),
                                  e.keyMaterialId().toString(),
                                  e.rotationDate(),
                                  e.rotationType().name()))
                      .toList(),
                  listing.nextMarker().orElse(null),
                  listing.truncated());
            }));
  }
}
