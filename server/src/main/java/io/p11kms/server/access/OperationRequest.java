package io.p11kms.server.access;

import java.util.List;
import java.util.Map;

/**
 * What the service reads of a request before the operation runs, as plain values: the keys and
 * encryption contexts it is authorised on, and what is validated first. A front end supplies it
 * from its wire format; a value a request does not carry is empty.
 */
public interface OperationRequest {
  byte[] NO_BYTES = new byte[0];

  /** KeyId; for ReEncrypt, SourceKeyId. */
  default String keyId() {
    return "";
  }

  /** EncryptionContext; for ReEncrypt, SourceEncryptionContext. */
  default Map<String, String> encryptionContext() {
    return Map.of();
  }

  /** CiphertextBlob (Decrypt, ReEncrypt). */
  default byte[] ciphertextBlob() {
    return NO_BYTES;
  }

  /**
   * Whether EncryptionAlgorithm (ReEncrypt: SourceEncryptionAlgorithm) names an RSAES_OAEP
   * algorithm, so that the ciphertext is decrypted under the key KeyId names.
   */
  default boolean asymmetricAlgorithm() {
    return false;
  }

  /** ReEncrypt's DestinationKeyId. */
  default String destinationKeyId() {
    return "";
  }

  /** ReEncrypt's DestinationEncryptionContext. */
  default Map<String, String> destinationEncryptionContext() {
    return Map.of();
  }

  /** AliasName (CreateAlias, UpdateAlias, DeleteAlias). */
  default String aliasName() {
    return "";
  }

  /** TargetKeyId (CreateAlias, UpdateAlias). */
  default String targetKeyId() {
    return "";
  }

  /** GrantTokens. */
  default List<String> grantTokens() {
    return List.of();
  }

  /** CreateKey's Policy. */
  default String policy() {
    return "";
  }

  /** The external key id of an external key store (XKS) proxy API request. */
  default String externalKeyId() {
    return "";
  }

  /**
   * The requestMetadata of an external key store (XKS) proxy API request, by the specification's
   * field names ({@code awsPrincipalArn}, {@code kmsKeyArn}, {@code kmsOperation}, ...): written to
   * its audit record, and the values of the {@code xks:<field>} condition keys of key policies.
   */
  default Map<String, String> requestMetadata() {
    return Map.of();
  }
}
