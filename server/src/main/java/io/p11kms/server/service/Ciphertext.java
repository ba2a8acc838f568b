package io.p11kms.server.service;

import java.util.UUID;

/** A ciphertext blob and the key that made it. */
public record Ciphertext(UUID keyId, String keyArn, byte[] blob) {

  public Ciphertext {
    blob = blob.clone();
  }

  @Override
  public byte[] blob() {
    return blob.clone();
  }

  @Override
  public String toString() {
    return "Ciphertext[keyId=" + keyId + ", " + blob.length + " bytes]";
  }
}
