package io.p11kms.server.service;

/**
 * The XKS proxy API Encrypt result.
 *
 * @param ciphertextMetadata this proxy's: which version of the key encrypted (authenticated)
 * @param integrityValue the ciphertextDataIntegrityValue; null when not asked for
 */
public record XksEncrypted(
    byte[] ciphertext,
    byte[] ciphertextMetadata,
    byte[] initializationVector,
    byte[] authenticationTag,
    byte[] integrityValue) {}
