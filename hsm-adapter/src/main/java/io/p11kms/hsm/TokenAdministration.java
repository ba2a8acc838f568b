package io.p11kms.hsm;

/**
 * The token's upkeep: its health and identity, the service's own signing keys and private data
 * objects on it (the audit log's anchor, import tokens), and moving backing keys between domain key
 * generations.
 *
 * <p>Failures: {@link HsmUnavailableException} when the token cannot be reached in time; any other
 * {@link HsmException} is an internal fault.
 */
public interface TokenAdministration {

  /**
   * Whether the token can be used now. May make a token call (and a recovery) bounded by the call
   * deadline; meant for a periodic health probe, not for the request path.
   */
  boolean isHealthy();

  /** What the token says it is (manufacturer, model, serial number, label), read when opened. */
  TokenIdentity identity();

  /**
   * Creates an HMAC-SHA256 key labelled {@code label} in the token (a private, sensitive,
   * non-extractable token object that can only sign and verify) unless one exists. A key counts
   * only if it was generated in the token and was never readable (PRIVATE, ALWAYS_SENSITIVE,
   * NEVER_EXTRACTABLE, LOCAL): another object with the label, imported or once extractable, is
   * ignored here and by {@link #sign}.
   */
  void createSigningKeyIfAbsent(String label);

  /** HMAC-SHA256 of {@code data} under the token key labelled {@code label}. */
  byte[] sign(String label, byte[] data);

  /** Whether {@code mac} is the HMAC-SHA256 of {@code data} under the key {@code label}. */
  default boolean verify(String label, byte[] data, byte[] mac) {
    return java.security.MessageDigest.isEqual(sign(label, data), mac);
  }

  /**
   * The values of the private data objects labelled {@code label} (token objects only a logged-in
   * user can read or change): none, one, or two when a {@link #replacePrivateData} stopped
   * half-way.
   */
  java.util.List<byte[]> readPrivateData(String label);

  /**
   * Makes a private data object labelled {@code label} holding {@code value}, then destroys the
   * ones labelled so before.
   */
  void replacePrivateData(String label, byte[] value);

  /**
   * Looks for domain keys on the token again (another process may have created a generation) and
   * returns the newest generation, which new backing keys are wrapped under from now on.
   */
  int currentDomainKeyGeneration();

  /**
   * Moves an EKT to domain key generation {@code toGeneration} inside the token: unwraps it under
   * its own generation as a session object, wraps that under the new one and destroys it. The
   * backing key never leaves the token in plaintext.
   *
   * @throws EktCannotMoveException when the two generations' domain keys pin different uses for a
   *     backing key (one that derives stays under its generation)
   * @throws HsmException when either generation is not on the token
   */
  WrappedKey rewrap(WrappedKey ekt, int toGeneration);
}
