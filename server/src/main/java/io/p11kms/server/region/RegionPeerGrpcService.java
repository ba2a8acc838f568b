package io.p11kms.server.region;

import io.grpc.stub.StreamObserver;
import io.p11kms.proto.region.v1.GetTransportKeyRequest;
import io.p11kms.proto.region.v1.GetTransportKeyResponse;
import io.p11kms.proto.region.v1.ReceiveReplicaRequest;
import io.p11kms.proto.region.v1.ReceiveReplicaResponse;
import io.p11kms.proto.region.v1.RegionPeerGrpc;
import io.p11kms.proto.region.v1.ReplicaDeletedRequest;
import io.p11kms.proto.region.v1.ReplicaDeletedResponse;
import io.p11kms.proto.region.v1.UpdatePrimaryRequest;
import io.p11kms.proto.region.v1.UpdatePrimaryResponse;
import io.p11kms.server.config.RegionConfig;
import io.p11kms.server.grpc.ErrorStatus;
import io.p11kms.server.grpc.PrincipalInterceptor;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.MultiRegionService;
import io.p11kms.server.service.RegionPeers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of the peer channel: only a caller whose client certificate names a configured
 * peer region's principal is served (AccessDeniedException for anyone else, logged), and it can
 * only send replicas of keys whose primary is in its own region, and change a key's primary region
 * only while it is that key's primary (or names itself as the new one to a replica that has heard
 * of the change already).
 */
public final class RegionPeerGrpcService extends RegionPeerGrpc.RegionPeerImplBase {
  private static final Logger log = LoggerFactory.getLogger(RegionPeerGrpcService.class);

  private final RegionConfig config;
  private final MultiRegionService regions;

  public RegionPeerGrpcService(RegionConfig config, MultiRegionService regions) {
    this.config = config;
    this.regions = regions;
  }

  @Override
  public void receiveReplica(
      ReceiveReplicaRequest request, StreamObserver<ReceiveReplicaResponse> response) {
    try {
      String from = peerRegion();
      RegionPeers.Received received = regions.receive(from, RegionMessages.fromProto(request));
      response.onNext(
          ReceiveReplicaResponse.newBuilder()
              .setCreated(received.created())
              .setVersionsAdded(received.versionsAdded())
              .build());
      response.onCompleted();
    } catch (RuntimeException e) {
      response.onError(ErrorStatus.of(e));
    }
  }

  @Override
  public void getTransportKey(
      GetTransportKeyRequest request, StreamObserver<GetTransportKeyResponse> response) {
    try {
      peerRegion();
      response.onNext(
          GetTransportKeyResponse.newBuilder()
              .setFingerprint(regions.transportFingerprint())
              .build());
      response.onCompleted();
    } catch (RuntimeException e) {
      response.onError(ErrorStatus.of(e));
    }
  }

  @Override
  public void updatePrimary(
      UpdatePrimaryRequest request, StreamObserver<UpdatePrimaryResponse> response) {
    try {
      regions.acceptPrimaryChange(peerRegion(), RegionMessages.fromProto(request));
      response.onNext(UpdatePrimaryResponse.getDefaultInstance());
      response.onCompleted();
    } catch (RuntimeException e) {
      response.onError(ErrorStatus.of(e));
    }
  }

  @Override
  public void replicaDeleted(
      ReplicaDeletedRequest request, StreamObserver<ReplicaDeletedResponse> response) {
    try {
      String from = peerRegion();
      regions.replicaDeleted(from, RegionMessages.keyId(request.getKeyId()));
      response.onNext(ReplicaDeletedResponse.getDefaultInstance());
      response.onCompleted();
    } catch (RuntimeException e) {
      response.onError(ErrorStatus.of(e));
    }
  }

  private String peerRegion() {
    String principal = PrincipalInterceptor.current();
    RegionConfig.Peer peer = config.byPrincipal(principal);
    if (peer == null) {
      log.warn("peer region call refused: {} is no peer region's principal", principal);
      throw new KmsException(KmsError.ACCESS_DENIED, "not a peer region");
    }
    return peer.region();
  }
}
