package io.p11kms.server.awsjson;

import static io.p11kms.server.awsjson.Members.orEmpty;

import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.awsjson.KeyRoutes.TagJson;
import io.p11kms.server.awsjson.SharedMessages.KeyIdRequest;
import io.p11kms.server.awsjson.SharedMessages.KeyIdResponse;
import io.p11kms.server.awsjson.SharedMessages.KeyPageRequest;
import io.p11kms.server.service.AliasListing;
import io.p11kms.server.service.AliasService;
import io.p11kms.server.service.KeyLifecycleService;
import io.p11kms.server.service.Operation;
import io.p11kms.server.service.TagListing;
import io.p11kms.server.service.TagService;
import java.time.Instant;
import java.util.List;

/** The key life cycle, aliases and tags: their members as the KMS service model names them. */
final class LifecycleRoutes {
  private LifecycleRoutes() {}

  record UpdateKeyDescriptionRequest(String keyId, String description) implements OperationRequest {
    UpdateKeyDescriptionRequest {
      keyId = orEmpty(keyId);
      description = orEmpty(description);
    }
  }

  record ScheduleKeyDeletionRequest(String keyId, Integer pendingWindowInDays)
      implements OperationRequest {
    ScheduleKeyDeletionRequest {
      keyId = orEmpty(keyId);
    }
  }

  record AliasRequest(String aliasName, String targetKeyId) implements OperationRequest {
    AliasRequest {
      aliasName = orEmpty(aliasName);
      targetKeyId = orEmpty(targetKeyId);
    }
  }

  record TagResourceRequest(String keyId, List<TagJson> tags) implements OperationRequest {
    TagResourceRequest {
      keyId = orEmpty(keyId);
      tags = orEmpty(tags);
    }
  }

  record UntagResourceRequest(String keyId, List<String> tagKeys) implements OperationRequest {
    UntagResourceRequest {
      keyId = orEmpty(keyId);
      tagKeys = orEmpty(tagKeys);
    }
  }

  record ScheduleKeyDeletionResponse(
      String keyId, Instant deletionDate, String keyState, Integer pendingWindowInDays) {}

  record ListAliasesResponse(List<AliasEntry> aliases, String nextMarker, Boolean truncated) {}

  record AliasEntry(
      String aliasName,
      String aliasArn,
      String targetKeyId,
      Instant creationDate,
      Instant lastUpdatedDate) {}

  record ListResourceTagsResponse(List<TagJson> tags, String nextMarker, Boolean truncated) {}

  static List<Route<?, ?>> routes(
      KeyLifecycleService lifecycle, AliasService aliases, TagService tags) {
    return List.of(
        Route.empty(
            Operation.UPDATE_KEY_DESCRIPTION,
            UpdateKeyDescriptionRequest.class,
            r -> lifecycle.updateKeyDescription(r.keyId(), r.description())),
        Route.empty(Operation.ENABLE_KEY, KeyIdRequest.class, r -> lifecycle.enableKey(r.keyId())),
        Route.empty(
            Operation.DISABLE_KEY, KeyIdRequest.class, r -> lifecycle.disableKey(r.keyId())),
        Route.of(
            Operation.SCHEDULE_KEY_DELETION,
            ScheduleKeyDeletionRequest.class,
            (c, r) -> {
              KeyLifecycleService.ScheduledDeletion s =
                  lifecycle.scheduleKeyDeletion(r.keyId(), r.pendingWindowInDays());
              return new ScheduleKeyDeletionResponse(
                  s.keyArn(),
                  s.deletionDate(),
                  AwsEnums.keyState(s.keyState()),
                  s.pendingWindowInDays());
            }),
        Route.of(
            Operation.CANCEL_KEY_DELETION,
            KeyIdRequest.class,
            (c, r) -> new KeyIdResponse(lifecycle.cancelKeyDeletion(r.keyId()))),
        Route.of(
            Operation.CREATE_ALIAS,
            AliasRequest.class,
            (c, r) -> {
              aliases.createAlias(c.lookup().account(), r.aliasName(), r.targetKeyId());
              return Route.Empty.INSTANCE;
            }),
        Route.of(
            Operation.UPDATE_ALIAS,
            AliasRequest.class,
            (c, r) -> {
              aliases.updateAlias(c.lookup().account(), r.aliasName(), r.targetKeyId());
              return Route.Empty.INSTANCE;
            }),
        Route.of(
            Operation.DELETE_ALIAS,
            AliasRequest.class,
            (c, r) -> {
              aliases.deleteAlias(c.lookup().account(), r.aliasName());
              return Route.Empty.INSTANCE;
            }),
        Route.of(
            Operation.LIST_ALIASES,
            KeyPageRequest.class,
            (c, r) -> {
              AliasListing listing =
                  aliases.listAliases(c.lookup().account(), r.keyId(), r.limit(), r.marker());
              return new ListAliasesResponse(
                  listing.aliases().stream()
                      .map(
                          a ->
                              new AliasEntry(
                                  a.aliasName(),
                                  a.aliasArn(),
                                  a.targetKeyId() == null
                                      ? null
                                      : io.p11kms.server.config.KeyArns.keyIdText(a.targetKeyId()),
                                  a.creationDate(),
                                  a.lastUpdatedDate()))
                      .toList(),
                  listing.nextMarker().orElse(null),
                  listing.truncated());
            }),
        Route.empty(
            Operation.TAG_RESOURCE,
            TagResourceRequest.class,
            r -> tags.tagResource(r.keyId(), r.tags().stream().map(KeyRoutes::tag).toList())),
        Route.empty(
            Operation.UNTAG_RESOURCE,
            UntagResourceRequest.class,
            r -> tags.untagResource(r.keyId(), r.tagKeys())),
        Route.of(
            Operation.LIST_RESOURCE_TAGS,
            KeyPageRequest.class,
            (c, r) -> {
              TagListing listing = tags.listResourceTags(r.keyId(), r.limit(), r.marker());
              return new ListResourceTagsResponse(
                  listing.tags().stream().map(KeyRoutes::tag).toList(),
                  listing.nextMarker().orElse(null),
                  listing.truncated());
            }));
  }
}
