package io.p11kms.server.grpc;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.server.service.KeyResolver;
import io.p11kms.server.service.Operation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * What each RPC needs: the {@code kms:} actions of its {@link Operation} and the keys they are
 * checked on, found as the operation's key source says. A method that is no operation is for the
 * administrators only.
 */
final class AccessRules {
  /** One authorisation check: an action on a key, with the request's encryption context. */
  record Check(String action, UUID keyId, Map<String, String> context) {}

  /** The checks one request needs; an empty list means any authenticated principal. */
  @FunctionalInterface
  interface Rule {
    List<Check> checks(String method, Message request, KeyResolver keys);
  }

  /** Any authenticated principal (as IAM would allow for this deployment). */
  static final Rule OPEN = (method, request, keys) -> List.of();

  /** {@code kms:<Method>} on the key in {@code key_id}, with {@code encryption_context}. */
  static final Rule KEY_ID = field("key_id", "encryption_context", null);

  /** Decrypt: kms:Decrypt on the key the ciphertext is decrypted under ({@link #ciphertextKey}). */
  static final Rule DECRYPT =
      (method, request, keys) ->
          ciphertextKey(request, keys, "encryption_algorithm", "key_id", "KeyId")
              .map(
                  k -> List.of(new Check("kms:Decrypt", k, context(request, "encryption_context"))))
              .orElse(List.of());

  /**
   * ReEncrypt: kms:ReEncryptFrom on the key the ciphertext is decrypted under ({@link
   * #ciphertextKey}), kms:ReEncryptTo on the destination.
   */
  static final Rule RE_ENCRYPT =
      (method, request, keys) -> {
        List<Check> checks = new ArrayList<>();
        ciphertextKey(request, keys, "source_encryption_algorithm", "source_key_id", "SourceKeyId")
            .ifPresent(
                k ->
                    checks.add(
                        new Check(
                            "kms:ReEncryptFrom",
                            k,
                            context(request, "source_encryption_context"))));
        keys.key(string(request, "destination_key_id"), "DestinationKeyId")
            .ifPresent(
                k ->
                    checks.add(
                        new Check(
                            "kms:ReEncryptTo",
                            k,
                            context(request, "destination_encryption_context"))));
        return checks;
      };

  /** Aliases: the action on the key the alias points to now and, for a target, on the target. */
  static final Rule ALIAS =
      (method, request, keys) -> {
        List<Check> checks = new ArrayList<>();
        String alias = string(request, "alias_name");
        if (method.equals("UpdateAlias") || method.equals("DeleteAlias")) {
          if (alias.startsWith("alias/")) {
            keys.key(alias, "AliasName")
                .ifPresent(k -> checks.add(new Check("kms:" + method, k, Map.of())));
          }
        }
        String target = string(request, "target_key_id");
        if (!target.isEmpty()) {
          keys.key(target, "TargetKeyId")
              .ifPresent(k -> checks.add(new Check("kms:" + method, k, Map.of())));
        }
        return checks;
      };

  private AccessRules() {}

  /** The rule of a method, by its operation's key source; empty when it is no operation. */
  static Optional<Rule> rule(String method) {
    Operation op = Operation.byName(method);
    if (op == null) {
      return Optional.empty();
    }
    return Optional.of(
        switch (op.keySource()) {
          case NONE, GRANT, ITEMS -> OPEN;
          case KEY_ID -> KEY_ID;
          case CIPHERTEXT -> DECRYPT;
          case CIPHERTEXT_AND_DESTINATION -> RE_ENCRYPT;
          case ALIAS -> ALIAS;
        });
  }

  private static Rule field(String keyField, String contextField, String action) {
    return (method, request, keys) -> {
      String keyId = string(request, keyField);
      return keys.key(keyId, "KeyId")
          .map(
              k ->
                  List.of(
                      new Check(
                          action == null ? "kms:" + method : action,
                          k,
                          context(request, contextField))))
          .orElse(List.of());
    };
  }

  /**
   * The key a ciphertext is decrypted under. With an RSAES_OAEP_* algorithm it is the key in {@code
   * keyField} (an RSA ciphertext names none, and is decrypted under that key whatever its bytes
   * look like); otherwise the key the symmetric ciphertext names, or, when it names no existing
   * key, the one in {@code keyField}. Empty when there is none: the operation then fails on its
   * own, before any token call.
   */
  private static Optional<UUID> ciphertextKey(
      Message request,
      KeyResolver keys,
      String algorithmField,
      String keyField,
      String keyParameter) {
    String keyId = string(request, keyField);
    if (!asymmetricAlgorithm(request, algorithmField)) {
      Optional<UUID> named = blobKey(request, keys);
      if (named.isPresent()) {
        return named;
      }
    }
    return keyId.isEmpty() ? Optional.empty() : keys.key(keyId, keyParameter);
  }

  /** Whether the encryption algorithm field {@code name} is set to other than SYMMETRIC_DEFAULT. */
  private static boolean asymmetricAlgorithm(Message request, String name) {
    FieldDescriptor f = request.getDescriptorForType().findFieldByName(name);
    if (f == null || f.getJavaType() != FieldDescriptor.JavaType.ENUM) {
      return false;
    }
    int number = ((EnumValueDescriptor) request.getField(f)).getNumber();
    return number != EncryptionAlgorithmSpec.ENCRYPTION_ALGORITHM_SPEC_UNSPECIFIED_VALUE
        && number != EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM_VALUE;
  }

  private static Optional<UUID> blobKey(Message request, KeyResolver keys) {
    FieldDescriptor f = request.getDescriptorForType().findFieldByName("ciphertext_blob");
    if (f == null) {
      return Optional.empty();
    }
    return keys.keyOfCiphertext(
        ((com.google.protobuf.ByteString) request.getField(f)).toByteArray());
  }

  static String string(Message request, String name) {
    FieldDescriptor f = request.getDescriptorForType().findFieldByName(name);
    return f == null || f.getJavaType() != FieldDescriptor.JavaType.STRING
        ? ""
        : (String) request.getField(f);
  }

  /** A {@code map<string, string>} field of the request; empty when it has none. */
  static Map<String, String> context(Message request, String name) {
    FieldDescriptor f = request.getDescriptorForType().findFieldByName(name);
    if (f == null || !f.isMapField()) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Object entry : (List<?>) request.getField(f)) {
      Message m = (Message) entry;
      FieldDescriptor k = m.getDescriptorForType().findFieldByName("key");
      FieldDescriptor v = m.getDescriptorForType().findFieldByName("value");
      out.put(String.valueOf(m.getField(k)), String.valueOf(m.getField(v)));
    }
    return out;
  }
}
