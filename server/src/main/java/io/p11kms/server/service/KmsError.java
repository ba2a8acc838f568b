package io.p11kms.server.service;

/**
 * The errors a caller can see, named as AWS KMS names its exceptions. The front end maps each to
 * its wire status; the service never speaks of transport codes.
 */
public enum KmsError {
  /** The named key, alias or version does not exist. */
  NOT_FOUND("NotFoundException"),
  /** A parameter is missing, malformed or out of range. */
  VALIDATION("ValidationException"),
  /** A ListKeys-style marker was not one this service handed out. */
  INVALID_MARKER("InvalidMarkerException"),
  /** A ciphertext blob is malformed, tampered with, or does not match the encryption context. */
  INVALID_CIPHERTEXT("InvalidCiphertextException"),
  /** The ciphertext was made under another key than the one the caller named. */
  INCORRECT_KEY("IncorrectKeyException"),
  /** The key's usage or spec does not allow the operation. */
  INVALID_KEY_USAGE("InvalidKeyUsageException"),
  /** The operation does not apply to this kind of key (GetPublicKey of a symmetric key). */
  UNSUPPORTED_OPERATION("UnsupportedOperationException"),
  /** Verify: the signature does not verify with the key and algorithm. */
  INVALID_SIGNATURE("KMSInvalidSignatureException"),
  /** VerifyMac: the MAC is not the message's under the key and algorithm. */
  INVALID_MAC("KMSInvalidMacException"),
  /** The key is disabled. */
  DISABLED("DisabledException"),
  /** The key's state does not allow the operation (for example, pending deletion). */
  INVALID_STATE("KMSInvalidStateException"),
  /** The caller may not perform the operation. */
  ACCESS_DENIED("AccessDeniedException"),
  /** A key policy document is not valid JSON, not in the supported grammar, or too large. */
  MALFORMED_POLICY("MalformedPolicyDocumentException"),
  /** A quota would be exceeded. */
  LIMIT_EXCEEDED("LimitExceededException"),
  /** The resource already exists. */
  ALREADY_EXISTS("AlreadyExistsException"),
  /** ImportKeyMaterial: the import token is not one this service made for the key. */
  INVALID_IMPORT_TOKEN("InvalidImportTokenException"),
  /** ImportKeyMaterial: the import token's 24 hours are over. */
  EXPIRED_IMPORT_TOKEN("ExpiredImportTokenException"),
  /** ImportKeyMaterial: the key had other material before; only that one imports again. */
  INCORRECT_KEY_MATERIAL("IncorrectKeyMaterialException"),
  /** The token did not answer in time; retrying later may succeed. */
  DEPENDENCY_TIMEOUT("DependencyTimeoutException"),
  /** An internal fault. Details are logged, never returned. */
  INTERNAL("KMSInternalException");

  private final String awsName;

  KmsError(String awsName) {
    this.awsName = awsName;
  }

  /** The AWS KMS exception name, as callers see it in {@code ErrorInfo.reason}. */
  public String awsName() {
    return awsName;
  }
}
