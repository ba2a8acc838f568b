package io.p11kms.hsm.session;

/**
 * A step of a request in the token: a PKCS#11 function, or one of the adapter's own steps between
 * them. A failure is mapped by the step it happened in.
 */
sealed interface TokenStep permits Pkcs11Function, AdapterStep {

  /** How the step is named in an error message. */
  String label();
}
