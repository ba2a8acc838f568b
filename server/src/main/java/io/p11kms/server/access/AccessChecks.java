package io.p11kms.server.access;

import io.p11kms.server.service.KeyResolver;
import io.p11kms.server.service.Operation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The checks a request needs: its operation's actions, on the keys its {@link Operation.KeySource}
 * finds. A key that does not exist yields no check: the operation then fails on its own, before any
 * token call. An empty list means any authenticated principal.
 */
final class AccessChecks {
  private AccessChecks() {}

  static List<Check> of(Operation op, OperationRequest request, KeyResolver keys) {
    return switch (op.keySource()) {
      case NONE, GRANT, ITEMS -> List.of();
      case KEY_ID ->
          keys.key(request.keyId(), "KeyId")
              .map(k -> List.of(check(op, 0, k, request.encryptionContext())))
              .orElse(List.of());
      case CIPHERTEXT ->
          ciphertextKey(request, keys, "KeyId")
              .map(k -> List.of(check(op, 0, k, request.encryptionContext())))
              .orElse(List.of());
      case CIPHERTEXT_AND_DESTINATION -> reEncrypt(op, request, keys);
      case ALIAS -> alias(op, request, keys);
      case EXTERNAL_KEY_ID ->
          keys.exposedKey(request.externalKeyId())
              .map(k -> List.of(check(op, 0, k, Map.of())))
              .orElse(List.of());
    };
  }

  private static Check check(Operation op, int action, UUID key, Map<String, String> context) {
    return new Check(op.policyActions().get(action), key, context);
  }

  /** ReEncryptFrom on the key the ciphertext is decrypted under, ReEncryptTo on the destination. */
  private static List<Check> reEncrypt(Operation op, OperationRequest request, KeyResolver keys) {
    List<Check> checks = new ArrayList<>(2);
    ciphertextKey(request, keys, "SourceKeyId")
        .ifPresent(k -> checks.add(check(op, 0, k, request.encryptionContext())));
    keys.key(request.destinationKeyId(), "DestinationKeyId")
        .ifPresent(k -> checks.add(check(op, 1, k, request.destinationEncryptionContext())));
    return checks;
  }

  /** The action on the key the alias points to now (Update, Delete) and on the target key. */
  private static List<Check> alias(Operation op, OperationRequest request, KeyResolver keys) {
    List<Check> checks = new ArrayList<>(2);
    String alias = request.aliasName();
    if (op != Operation.CREATE_ALIAS && alias.startsWith("alias/")) {
      keys.key(alias, "AliasName").ifPresent(k -> checks.add(check(op, 0, k, Map.of())));
    }
    String target = request.targetKeyId();
    if (!target.isEmpty()) {
      keys.key(target, "TargetKeyId").ifPresent(k -> checks.add(check(op, 0, k, Map.of())));
    }
    return checks;
  }

  /**
   * The key a ciphertext is decrypted under. With an RSAES_OAEP_* algorithm it is the key KeyId
   * names (an RSA ciphertext names none, and is decrypted under that key whatever its bytes look
   * like); otherwise the key the symmetric ciphertext names, or, when it names no existing key, the
   * one KeyId names. Empty when there is none.
   */
  private static Optional<UUID> ciphertextKey(
      OperationRequest request, KeyResolver keys, String keyParameter) {
    if (!request.asymmetricAlgorithm()) {
      Optional<UUID> named = keys.keyOfCiphertext(request.ciphertextBlob());
      if (named.isPresent()) {
        return named;
      }
    }
    String keyId = request.keyId();
    return keyId.isEmpty() ? Optional.empty() : keys.key(keyId, keyParameter);
  }
}
