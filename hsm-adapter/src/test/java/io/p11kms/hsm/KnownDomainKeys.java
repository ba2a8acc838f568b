package io.p11kms.hsm;

import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.session.SecurityOfficer;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TestToken;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.function.BiFunction;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.attrs.Attribute;

/**
 * Test set-up only: the domain keys of a generation made from key material the test chooses (one
 * value per {@link DomainKeyRole}, from a seed), so that two tokens of different implementations
 * hold the same domain keys. Production never does this: a domain key is generated in the token and
 * moves only by the domain join, which NSS softoken cannot take part in.
 *
 * <p>Each key has the attributes its token's own ceremony gives it ({@link KeyTemplates#domainKey}
 * as the SO where custody is enforced, {@link KeyTemplates#domainKeyWithoutCustody} as the user
 * where it is not), with CKA_VALUE instead of CKA_VALUE_LEN (C_CreateObject refuses the latter).
 */
final class KnownDomainKeys {
  private KnownDomainKeys() {}

  /** On SoftHSM2, as its security officer (only the SO may set CKA_TRUSTED). */
  static void createAsSecurityOfficer(SoftHsmTestToken token, String seed, int generation) {
    char[] soPin = token.soPin();
    try {
      SecurityOfficer.run(
          token.modulePath(),
          token.label(),
          soPin,
          "create known domain keys",
          (t, session) -> {
            create(session, seed, generation, KeyTemplates::domainKey);
            return null;
          });
    } finally {
      Arrays.fill(soPin, '\0');
    }
  }

  /** On a token that does not enforce custody (NSS softoken), as the user. */
  static void createAsUser(TestToken token, String seed, int generation) throws PKCS11Exception {
    try (AttackerSession user = AttackerSession.open(token.hsmConfig())) {
      create(user.session(), seed, generation, KeyTemplates::domainKeyWithoutCustody);
    }
  }

  private static void create(
      Session session,
      String seed,
      int generation,
      BiFunction<DomainKeyRole, Integer, AttributeVector> templates)
      throws PKCS11Exception {
    for (DomainKeyRole role : DomainKeyRole.values()) {
      byte[] value = material(seed, role);
      try {
        session.createObject(withValue(templates.apply(role, generation), value));
      } finally {
        Arrays.fill(value, (byte) 0);
      }
    }
  }

  /** The domain key material of {@code role}: SHA-256 of the seed and the role's name. */
  private static byte[] material(String seed, DomainKeyRole role) {
    try {
      return MessageDigest.getInstance("SHA-256")
          .digest((seed + "/" + role.name()).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static AttributeVector withValue(AttributeVector template, byte[] value) {
    // The value first: SoftHSM2 applies a template in order and refuses what follows MODIFIABLE
    // false.
    AttributeVector copy = new AttributeVector().value(value);
    for (Attribute attribute : template.snapshot()) {
      if (attribute.getType() != PKCS11Constants.CKA_VALUE_LEN) {
        copy.attr(attribute);
      }
    }
    return copy;
  }
}
