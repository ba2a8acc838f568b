package io.p11kms.server.service;

/**
 * An XKS proxy API Decrypt request's parameters, decoded from Base64.
 *
 * @param ciphertextMetadata null when the request has none
 * @param additionalAuthenticatedData null when the request has none
 */
public record XksDecryptInput(
    byte[] ciphertext,
    byte[] ciphertextMetadata,
    String encryptionAlgorithm,
    byte[] additionalAuthenticatedData,
    byte[] initializationVector,
    byte[] authenticationTag) {}
