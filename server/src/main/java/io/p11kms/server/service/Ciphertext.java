package io.p11kms.server.service;

import java.util.UUID;

/**
 * A ciphertext blob and the key that made it, on its way from the service to a front end's
 * response. The blob is kept and handed out as it is, not copied (it is the largest part of a
 * response): the service makes it and keeps no reference to it, and nobody changes it after (a
 * front end writes it to the wire as it is).
 */
public record Ciphertext(UUID keyId, String keyArn, byte[] blob) {

  @Override
  public String toString() {
    return "Ciphertext[keyId=" + keyId + ", " + blob.length + " bytes]";
  }
}
