package io.p11kms.hsm;

/** The one thing a private key in the token may do: sign, or decrypt. Never both. */
public enum PrivateKeyUsage {
  SIGN,
  DECRYPT
}
