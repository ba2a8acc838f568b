package io.p11kms.server.region;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.proto.region.v1.GetTransportKeyRequest;
import io.p11kms.proto.region.v1.ReceiveReplicaResponse;
import io.p11kms.proto.region.v1.RegionPeerGrpc;
import io.p11kms.proto.region.v1.ReplicaDeletedRequest;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.config.RegionConfig;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.RegionPeers;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The peer regions over gRPC with mutual TLS: this region presents its own certificate ({@code
 * region.tls.*}), and a peer's server must present a certificate for the name configured for it,
 * chained to the configured CA. One channel per peer, made at start.
 */
public final class GrpcRegionPeers implements RegionPeers, AutoCloseable {
  private static final long DEADLINE_SECONDS = 60;

  private final Map<String, ManagedChannel> channels = new TreeMap<>();

  public GrpcRegionPeers(RegionConfig config) {
    try {
      for (RegionConfig.Peer peer : config.peers().values()) {
        channels.put(
            peer.region(),
            NettyChannelBuilder.forTarget(peer.endpoint())
                .overrideAuthority(peer.serverName())
                .sslContext(
                    GrpcSslContexts.forClient()
                        .keyManager(config.cert().toFile(), config.key().toFile())
                        .trustManager(config.caFile().toFile())
                        .build())
                .build());
      }
    } catch (SSLException | IllegalArgumentException e) {
      close();
      throw new IllegalArgumentException(
          "cannot set up TLS towards the peer regions: " + e.getMessage(), e);
    }
  }

  @Override
  public Set<String> regions() {
    return channels.keySet();
  }

  @Override
  public String transportFingerprint(String region) {
    try {
      return stub(region)
          .getTransportKey(GetTransportKeyRequest.getDefaultInstance())
          .getFingerprint();
    } catch (StatusRuntimeException e) {
      throw unreachable(region, e);
    }
  }

  @Override
  public Received send(String region, Replica replica) {
    try {
      ReceiveReplicaResponse response =
          stub(region).receiveReplica(RegionMessages.toProto(replica));
      return new Received(response.getCreated(), response.getVersionsAdded());
    } catch (StatusRuntimeException e) {
      throw unreachable(region, e);
    }
  }

  @Override
  public void updatePrimary(String region, PrimaryChange change) {
    try {
      stub(region).updatePrimary(RegionMessages.toProto(change));
    } catch (StatusRuntimeException e) {
      throw unreachable(region, e);
    }
  }

  @Override
  public void replicaDeleted(String region, UUID keyId) {
    try {
      stub(region)
          .replicaDeleted(
              ReplicaDeletedRequest.newBuilder().setKeyId(KeyArns.keyIdText(keyId)).build());
    } catch (StatusRuntimeException e) {
      throw unreachable(region, e);
    }
  }

  private RegionPeerGrpc.RegionPeerBlockingStub stub(String region) {
    ManagedChannel channel = channels.get(region);
    if (channel == null) {
      throw new KmsException(
          KmsError.VALIDATION, "region " + region + " is not a peer of this region");
    }
    return RegionPeerGrpc.newBlockingStub(channel)
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * The failure of a call to {@code region}: the region's own error when it refused (it changed
   * nothing), or DEPENDENCY_TIMEOUT when it could not be reached or failed inside, which leaves
   * open whether it did what was asked.
   */
  private static KmsException unreachable(String region, StatusRuntimeException e) {
    KmsError refused = RegionMessages.refusal(e);
    if (refused != null) {
      return new KmsException(
          refused, "region " + region + " refused: " + e.getStatus().getDescription());
    }
    return new KmsException(
        KmsError.DEPENDENCY_TIMEOUT,
        "region "
            + region
            + " did not complete the call ("
            + e.getStatus().getCode()
            + "); nothing is half-made: retry");
  }

  @Override
  public void close() {
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow();
    }
  }

  static ByteString bytes(byte[] b) {
    return ByteString.copyFrom(b);
  }
}
