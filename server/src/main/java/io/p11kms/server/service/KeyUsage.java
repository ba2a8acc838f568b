package io.p11kms.server.service;

/** What a key may be used for. Stored by name. */
public enum KeyUsage {
  ENCRYPT_DECRYPT
}
