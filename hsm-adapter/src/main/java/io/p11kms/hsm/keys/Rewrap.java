package io.p11kms.hsm.keys;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Function;
import io.p11kms.hsm.session.Step;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Moves an EKT from one domain key generation to another inside the token: C_UnwrapKey under the
 * old domain key into a session object, C_WrapKey under the new one, C_DestroyObject in {@code
 * finally}. The unwrapped backing key is EXTRACTABLE (else it could not be wrapped again) and,
 * forced by the domain key's UNWRAP_TEMPLATE, SENSITIVE and WRAP_WITH_TRUSTED: only a trusted key
 * (a domain key) can wrap it, and only one whose WRAP_TEMPLATE admits a backing key of its {@code
 * use}; its value cannot be read.
 */
public final class Rewrap {
  private Rewrap() {}

  public static WrappedKey rewrap(
      Session session,
      Calls calls,
      BackingKeys backingKeys,
      long fromDomainKey,
      long toDomainKey,
      BackingKeyUse use,
      WrappedKey ekt,
      int toGeneration,
      Step step)
      throws PKCS11Exception {
    if (ekt.wrapMechanism() != WrapMechanism.AES_KEY_WRAP) {
      throw new HsmException("unsupported wrap mechanism " + ekt.wrapMechanism());
    }
    calls.before(step.enter(Pkcs11Function.C_UNWRAP_KEY));
    long hbk =
        session.unwrapKey(
            new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP),
            fromDomainKey,
            ekt.ekt(),
            KeyTemplates.rewrappableBackingKey(use));
    try {
      calls.before(step.enter(Pkcs11Function.C_WRAP_KEY));
      byte[] wrapped =
          session.wrapKey(new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP), toDomainKey, hbk);
      return new WrappedKey(toGeneration, WrapMechanism.AES_KEY_WRAP, wrapped);
    } finally {
      backingKeys.destroyQuietly(session, hbk);
    }
  }
}
