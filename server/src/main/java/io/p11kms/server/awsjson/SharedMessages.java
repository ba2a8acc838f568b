package io.p11kms.server.awsjson;

import static io.p11kms.server.awsjson.Members.orEmpty;

import io.p11kms.server.access.OperationRequest;

/** Request and response shapes several operations share. */
final class SharedMessages {
  private SharedMessages() {}

  /** A request of a KeyId alone (EnableKey, DisableKey, CancelKeyDeletion, ...). */
  record KeyIdRequest(String keyId) implements OperationRequest {
    KeyIdRequest {
      keyId = orEmpty(keyId);
    }
  }

  /** A page of a key's list (ListAliases, ListResourceTags, ListKeyRotations, ...). */
  record KeyPageRequest(String keyId, Integer limit, String marker) implements OperationRequest {
    KeyPageRequest {
      keyId = orEmpty(keyId);
      marker = orEmpty(marker);
    }
  }

  /** A response of the key's ARN alone (CancelKeyDeletion, RotateKeyOnDemand). */
  record KeyIdResponse(String keyId) {}
}
