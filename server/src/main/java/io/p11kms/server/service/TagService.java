package io.p11kms.server.service;

import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.Page;
import io.p11kms.server.store.TagLimitExceededException;
import io.p11kms.server.store.TagRecord;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * TagResource, UntagResource and ListResourceTags. The 50-tag limit is checked by the store inside
 * the transaction that writes the tags, so two concurrent TagResource calls cannot pass it
 * together.
 */
public final class TagService {
  private final KeyStore store;
  private final KeyService keys;

  public TagService(KeyStore store, KeyService keys) {
    this.store = store;
    this.keys = keys;
  }

  /** Adds the tags; a tag key the key already has gets the new value. */
  public void tagResource(String keyId, List<Tag> tags) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    Map<String, String> checked = Tags.require(tags, true);
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      KeyRecord key = KeyStates.requireNotPendingDeletion(keys.find(id), "TagResource");
      try {
        if (store.tagKey(id, key.keyState(), checked, Tags.MAX_TAGS_PER_KEY)) {
          return;
        }
      } catch (TagLimitExceededException e) {
        throw Tags.limitExceeded();
      }
    }
    throw KeyLifecycleService.contended(id);
  }

  /** Removes the tags named; tag keys the key does not have are ignored. */
  public void untagResource(String keyId, List<String> tagKeys) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    List<String> checked = Tags.requireTagKeys(tagKeys);
    for (int attempt = 0; attempt < KeyLifecycleService.MAX_ATTEMPTS; attempt++) {
      KeyRecord key = KeyStates.requireNotPendingDeletion(keys.find(id), "UntagResource");
      if (store.untagKey(id, key.keyState(), checked)) {
        return;
      }
    }
    throw KeyLifecycleService.contended(id);
  }

  /** The key's tags in tag-key order. Any key state. */
  public TagListing listResourceTags(String keyId, Integer limit, String marker) {
    UUID id = keys.resolveKey(keyId, "KeyId");
    int pageSize = Requests.tagListLimit(limit);
    keys.find(id);
    Page<TagRecord> page;
    try {
      page = store.listTags(id, pageSize, Optional.ofNullable(marker).filter(m -> !m.isEmpty()));
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.INVALID_MARKER, "Marker is not valid");
    }
    return new TagListing(
        page.items().stream().map(t -> new Tag(t.tagKey(), t.tagValue())).toList(),
        page.nextMarker());
  }
}
