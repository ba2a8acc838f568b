package io.p11kms.server.grpc;

import io.p11kms.proto.v1.AliasListEntry;
import io.p11kms.proto.v1.CancelKeyDeletionRequest;
import io.p11kms.proto.v1.CancelKeyDeletionResponse;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateAliasResponse;
import io.p11kms.proto.v1.DeleteAliasRequest;
import io.p11kms.proto.v1.DeleteAliasResponse;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.DisableKeyResponse;
import io.p11kms.proto.v1.EnableKeyRequest;
import io.p11kms.proto.v1.EnableKeyResponse;
import io.p11kms.proto.v1.KeyState;
import io.p11kms.proto.v1.ListAliasesRequest;
import io.p11kms.proto.v1.ListAliasesResponse;
import io.p11kms.proto.v1.ListResourceTagsRequest;
import io.p11kms.proto.v1.ListResourceTagsResponse;
import io.p11kms.proto.v1.ScheduleKeyDeletionRequest;
import io.p11kms.proto.v1.ScheduleKeyDeletionResponse;
import io.p11kms.proto.v1.TagResourceRequest;
import io.p11kms.proto.v1.TagResourceResponse;
import io.p11kms.proto.v1.UntagResourceRequest;
import io.p11kms.proto.v1.UntagResourceResponse;
import io.p11kms.proto.v1.UpdateAliasRequest;
import io.p11kms.proto.v1.UpdateAliasResponse;
import io.p11kms.proto.v1.UpdateKeyDescriptionRequest;
import io.p11kms.proto.v1.UpdateKeyDescriptionResponse;
import io.p11kms.server.service.AliasListing;
import io.p11kms.server.service.AliasService;
import io.p11kms.server.service.KeyLifecycleService;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.TagListing;
import io.p11kms.server.service.TagService;

/**
 * The messages of the key life-cycle, alias and tag operations, to and from service calls. {@link
 * KmsGrpcService} registers them; failures become statuses there.
 */
public final class LifecycleHandlers {
  private final KeyService keys;
  private final KeyLifecycleService lifecycle;
  private final AliasService aliases;
  private final TagService tags;

  public LifecycleHandlers(
      KeyService keys, KeyLifecycleService lifecycle, AliasService aliases, TagService tags) {
    this.keys = keys;
    this.lifecycle = lifecycle;
    this.aliases = aliases;
    this.tags = tags;
  }

  UpdateKeyDescriptionResponse updateKeyDescription(UpdateKeyDescriptionRequest request) {
    lifecycle.updateKeyDescription(request.getKeyId(), request.getDescription());
    return UpdateKeyDescriptionResponse.getDefaultInstance();
  }

  EnableKeyResponse enableKey(EnableKeyRequest request) {
    lifecycle.enableKey(request.getKeyId());
    return EnableKeyResponse.getDefaultInstance();
  }

  DisableKeyResponse disableKey(DisableKeyRequest request) {
    lifecycle.disableKey(request.getKeyId());
    return DisableKeyResponse.getDefaultInstance();
  }

  ScheduleKeyDeletionResponse scheduleKeyDeletion(ScheduleKeyDeletionRequest request) {
    KeyLifecycleService.ScheduledDeletion scheduled =
        lifecycle.scheduleKeyDeletion(
            request.getKeyId(),
            request.hasPendingWindowInDays() ? request.getPendingWindowInDays() : null);
    ScheduleKeyDeletionResponse.Builder response =
        ScheduleKeyDeletionResponse.newBuilder()
            .setKeyId(scheduled.keyArn())
            .setKeyState(KeyState.valueOf(scheduled.keyState().name()))
            .setPendingWindowInDays(scheduled.pendingWindowInDays());
    if (scheduled.deletionDate() != null) {
      response.setDeletionDate(ProtoMapping.timestamp(scheduled.deletionDate()));
    }
    return response.build();
  }

  CancelKeyDeletionResponse cancelKeyDeletion(CancelKeyDeletionRequest request) {
    return CancelKeyDeletionResponse.newBuilder()
        .setKeyId(lifecycle.cancelKeyDeletion(request.getKeyId()))
        .build();
  }

  CreateAliasResponse createAlias(CreateAliasRequest request) {
    aliases.createAlias(account(), request.getAliasName(), request.getTargetKeyId());
    return CreateAliasResponse.getDefaultInstance();
  }

  UpdateAliasResponse updateAlias(UpdateAliasRequest request) {
    aliases.updateAlias(account(), request.getAliasName(), request.getTargetKeyId());
    return UpdateAliasResponse.getDefaultInstance();
  }

  DeleteAliasResponse deleteAlias(DeleteAliasRequest request) {
    aliases.deleteAlias(account(), request.getAliasName());
    return DeleteAliasResponse.getDefaultInstance();
  }

  ListAliasesResponse listAliases(ListAliasesRequest request) {
    AliasListing listing =
        aliases.listAliases(
            account(),
            request.getKeyId(),
            request.hasLimit() ? request.getLimit() : null,
            request.getMarker());
    ListAliasesResponse.Builder builder =
        ListAliasesResponse.newBuilder().setTruncated(listing.truncated());
    listing.nextMarker().ifPresent(builder::setNextMarker);
    for (AliasListing.Entry entry : listing.aliases()) {
      AliasListEntry.Builder listed =
          AliasListEntry.newBuilder().setAliasName(entry.aliasName()).setAliasArn(entry.aliasArn());
      if (entry.targetKeyId() != null) {
        listed
            .setTargetKeyId(io.p11kms.server.config.KeyArns.keyIdText(entry.targetKeyId()))
            .setCreationDate(ProtoMapping.timestamp(entry.creationDate()))
            .setLastUpdatedDate(ProtoMapping.timestamp(entry.lastUpdatedDate()));
      }
      builder.addAliases(listed);
    }
    return builder.build();
  }

  /** The caller's account. */
  private String account() {
    return RequestLookups.current(keys).account();
  }

  TagResourceResponse tagResource(TagResourceRequest request) {
    tags.tagResource(request.getKeyId(), ProtoMapping.tags(request.getTagsList()));
    return TagResourceResponse.getDefaultInstance();
  }

  UntagResourceResponse untagResource(UntagResourceRequest request) {
    tags.untagResource(request.getKeyId(), request.getTagKeysList());
    return UntagResourceResponse.getDefaultInstance();
  }

  ListResourceTagsResponse listResourceTags(ListResourceTagsRequest request) {
    TagListing listing =
        tags.listResourceTags(
            request.getKeyId(),
            request.hasLimit() ? request.getLimit() : null,
            request.getMarker());
    ListResourceTagsResponse.Builder builder =
        ListResourceTagsResponse.newBuilder().setTruncated(listing.truncated());
    listing.nextMarker().ifPresent(builder::setNextMarker);
    listing.tags().forEach(t -> builder.addTags(ProtoMapping.tag(t)));
    return builder.build();
  }
}
