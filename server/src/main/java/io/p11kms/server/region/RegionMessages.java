package io.p11kms.server.region;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.p11kms.hsm.DigestAlgorithm;
import io.p11kms.hsm.RegionWrappedKey;
import io.p11kms.proto.region.v1.ReceiveReplicaRequest;
import io.p11kms.proto.region.v1.UpdatePrimaryRequest;
import io.p11kms.proto.region.v1.WrappedVersion;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.RegionPeers;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/** A replica between its service form and its wire form. */
final class RegionMessages {
  private RegionMessages() {}

  static ReceiveReplicaRequest toProto(RegionPeers.Replica r) {
    ReceiveReplicaRequest.Builder b =
        ReceiveReplicaRequest.newBuilder()
            .setKeyId(KeyArns.keyIdText(r.keyId()))
            .setSourceRegion(r.sourceRegion())
            .setPrimaryRegion(r.primaryRegion())
            .addAllReplicaRegions(r.replicaRegions())
            .setDescription(r.description())
            .setKeyUsage(r.keyUsage())
            .setKeySpec(r.keySpec())
            .setCreationDateMicros(micros(r.creationDate()))
            .setAccount(r.account())
            .setPolicy(r.policy() == null ? "" : r.policy())
            .putAllTags(r.tags());
    for (RegionPeers.Version v : r.versions()) {
      b.addVersions(
          WrappedVersion.newBuilder()
              .setVersionId(v.versionId().toString())
              .setVersionNumber(v.versionNumber())
              .setCreatedAtMicros(micros(v.createdAt()))
              .setTransportFingerprint(v.wrapped().transportFingerprint())
              .setOaepHash(v.wrapped().oaepHash().name())
              .setWrapped(ByteString.copyFrom(v.wrapped().wrapped())));
    }
    return b.build();
  }

  /**
   * @throws KmsException VALIDATION when a field is malformed
   */
  static RegionPeers.Replica fromProto(ReceiveReplicaRequest r) {
    try {
      UUID keyId =
          KeyArns.parseKeyId(r.getKeyId())
              .filter(KeyArns::isMultiRegion)
              .orElseThrow(
                  () -> new KmsException(KmsError.VALIDATION, "not a multi-Region key id"));
      return new RegionPeers.Replica(
          keyId,
          r.getSourceRegion(),
          r.getPrimaryRegion(),
          r.getReplicaRegionsList(),
          r.getDescription(),
          r.getKeyUsage(),
          r.getKeySpec(),
          instant(r.getCreationDateMicros()),
          r.getAccount(),
          r.getPolicy().isEmpty() ? null : r.getPolicy(),
          r.getTagsMap(),
          r.getVersionsList().stream()
              .map(
                  v ->
                      new RegionPeers.Version(
                          UUID.fromString(v.getVersionId()),
                          v.getVersionNumber(),
                          instant(v.getCreatedAtMicros()),
                          new RegionWrappedKey(
                              v.getTransportFingerprint(),
                              DigestAlgorithm.valueOf(v.getOaepHash()),
                              v.getWrapped().toByteArray())))
              .toList());
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.VALIDATION, "malformed replica: " + e.getMessage());
    }
  }

  /**
   * @throws KmsException VALIDATION unless {@code text} is a multi-Region key id
   */
  static UUID keyId(String text) {
    return KeyArns.parseKeyId(text)
        .filter(KeyArns::isMultiRegion)
        .orElseThrow(() -> new KmsException(KmsError.VALIDATION, "not a multi-Region key id"));
  }

  static UpdatePrimaryRequest toProto(RegionPeers.PrimaryChange c) {
    return UpdatePrimaryRequest.newBuilder()
        .setKeyId(KeyArns.keyIdText(c.keyId()))
        .setPrimaryRegion(c.primaryRegion())
        .addAllReplicaRegions(c.replicaRegions())
        .setRotationPeriodDays(c.rotationPeriodDays() == null ? 0 : c.rotationPeriodDays())
        .setNextRotationMicros(c.nextRotation() == null ? 0 : micros(c.nextRotation()))
        .build();
  }

  /**
   * @throws KmsException VALIDATION when a field is malformed
   */
  static RegionPeers.PrimaryChange fromProto(UpdatePrimaryRequest r) {
    UUID keyId = keyId(r.getKeyId());
    if (r.getPrimaryRegion().isEmpty()
        || (r.getRotationPeriodDays() == 0) != (r.getNextRotationMicros() == 0)) {
      throw new KmsException(KmsError.VALIDATION, "malformed primary region update");
    }
    boolean rotates = r.getRotationPeriodDays() > 0;
    return new RegionPeers.PrimaryChange(
        keyId,
        r.getPrimaryRegion(),
        r.getReplicaRegionsList(),
        rotates ? r.getRotationPeriodDays() : null,
        rotates ? instant(r.getNextRotationMicros()) : null);
  }

  /**
   * The error a peer region refused a call with, when it is one that says the region did nothing
   * (its key's state, a malformed or unexpected request); null when the call may or may not have
   * taken effect there (unreachable, timed out, failed inside). A peer that refuses this region's
   * identity is KMSInvalidStateException here: the regions' peering must be set up again.
   */
  static KmsError refusal(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status == null) {
      return null;
    }
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        String reason;
        try {
          reason = detail.unpack(ErrorInfo.class).getReason();
        } catch (InvalidProtocolBufferException invalid) {
          return null;
        }
        for (KmsError error : KmsError.values()) {
          if (error.awsName().equals(reason)) {
            return switch (error) {
              case DEPENDENCY_TIMEOUT, INTERNAL -> null;
              case ACCESS_DENIED -> KmsError.INVALID_STATE;
              default -> error;
            };
          }
        }
      }
    }
    return null;
  }

  private static long micros(Instant t) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, t);
  }

  private static Instant instant(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }
}
