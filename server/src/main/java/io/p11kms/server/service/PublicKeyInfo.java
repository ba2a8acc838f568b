package io.p11kms.server.service;

import java.util.List;
import java.util.UUID;

/** What GetPublicKey returns: the DER SubjectPublicKeyInfo and what the key is for. */
public record PublicKeyInfo(
    UUID keyId,
    String keyArn,
    byte[] publicKey,
    KeySpec keySpec,
    KeyUsage keyUsage,
    List<EncryptionAlgorithm> encryptionAlgorithms,
    List<SigningAlgorithm> signingAlgorithms) {

  public PublicKeyInfo {
    publicKey = publicKey.clone();
  }

  @Override
  public byte[] publicKey() {
    return publicKey.clone();
  }
}
