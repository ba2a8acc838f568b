package io.p11kms.server.service;

/** Where a key's material comes from, as AWS KMS names it. Stored by name. */
public enum Origin {
  /** Generated in the token. */
  AWS_KMS,
  /** Imported (ImportKeyMaterial), unwrapped inside the token. */
  EXTERNAL
}
