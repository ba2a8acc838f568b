package io.p11kms.server.service;

/**
 * An XKS proxy API Encrypt request's parameters, decoded from Base64.
 *
 * @param additionalAuthenticatedData null when the request has none
 * @param integrityAlgorithm ciphertextDataIntegrityValueAlgorithm; null when the request has none
 */
public record XksEncryptInput(
    byte[] plaintext,
    String encryptionAlgorithm,
    byte[] additionalAuthenticatedData,
    String integrityAlgorithm) {}
