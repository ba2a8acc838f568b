package io.p11kms.hsm;

import io.p11kms.hsm.keys.BackingKeyUse;

/**
 * An EKT cannot move to the domain key generation asked for: the two generations' domain keys pin
 * different uses for the key ({@link BackingKeyUse}). A backing key that derives stays under the
 * generation it is wrapped under, so that the ciphertexts derived from it still decrypt; see
 * docs/key-rotation.md.
 */
public class EktCannotMoveException extends HsmException {
  private static final long serialVersionUID = 1L;

  public EktCannotMoveException(String message) {
    super(message);
  }
}
