package io.p11kms.server.service;

/** The kind of key material. Stored by name. */
public enum KeySpec {
  /** A 256-bit AES backing key used through per-request derived AES-GCM keys. */
  SYMMETRIC_DEFAULT
}
