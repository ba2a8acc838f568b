package io.p11kms.server.grpc;

import io.p11kms.proto.v1.ReplicateKeyRequest;
import io.p11kms.proto.v1.ReplicateKeyResponse;
import io.p11kms.proto.v1.UpdatePrimaryRegionRequest;
import io.p11kms.proto.v1.UpdatePrimaryRegionResponse;
import io.p11kms.server.service.MultiRegionService;

/**
 * The messages of the multi-Region key operations, to and from service calls. {@link
 * KmsGrpcService} registers them; failures become statuses there.
 */
public final class MultiRegionHandlers {
  private final MultiRegionService multiRegion;

  public MultiRegionHandlers(MultiRegionService multiRegion) {
    this.multiRegion = multiRegion;
  }

  ReplicateKeyResponse replicateKey(ReplicateKeyRequest request) {
    return ProtoMapping.replicated(
        multiRegion.replicate(
            request.getKeyId(),
            request.getReplicaRegion(),
            request.getPolicy(),
            request.getTagsCount() == 0 ? null : ProtoMapping.tags(request.getTagsList()),
            request.hasDescription() ? request.getDescription() : null));
  }

  UpdatePrimaryRegionResponse updatePrimaryRegion(UpdatePrimaryRegionRequest request) {
    multiRegion.updatePrimaryRegion(request.getKeyId(), request.getPrimaryRegion());
    return UpdatePrimaryRegionResponse.getDefaultInstance();
  }
}
