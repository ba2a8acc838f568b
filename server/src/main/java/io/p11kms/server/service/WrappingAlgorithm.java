package io.p11kms.server.service;

import io.p11kms.hsm.ImportWrappingAlgorithm;

/**
 * GetParametersForImport's WrappingAlgorithm, as AWS KMS names it: how the customer wraps the key
 * material for the token ({@link ImportWrappingAlgorithm} says how each is laid out).
 */
public enum WrappingAlgorithm {
  RSAES_OAEP_SHA_1(ImportWrappingAlgorithm.RSAES_OAEP_SHA_1),
  RSAES_OAEP_SHA_256(ImportWrappingAlgorithm.RSAES_OAEP_SHA_256),
  RSA_AES_KEY_WRAP_SHA_1(ImportWrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1),
  RSA_AES_KEY_WRAP_SHA_256(ImportWrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256);

  private final ImportWrappingAlgorithm token;

  WrappingAlgorithm(ImportWrappingAlgorithm token) {
    this.token = token;
  }

  ImportWrappingAlgorithm token() {
    return token;
  }

  static WrappingAlgorithm of(ImportWrappingAlgorithm token) {
    for (WrappingAlgorithm a : values()) {
      if (a.token == token) {
        return a;
      }
    }
    throw new IllegalArgumentException("no wrapping algorithm for " + token);
  }
}
