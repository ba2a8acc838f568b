package io.p11kms.hsm;

import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.keys.KeyTemplates;
import java.nio.file.Path;
import java.util.List;
import org.xipki.pkcs11.wrapper.AttributeVector;

/**
 * Domain key ceremonies other than the project's, for tests: the one the project ran before its
 * templates pinned class, type and usage (backing keys that derive), and a deliberately weak one
 * that replayed attacks must defeat. Run as the SO, like the real ceremony.
 */
public final class TestCeremonies {
  private TestCeremonies() {}

  /** How a test token got its domain keys. */
  public enum Kind {
    /** The project's ceremony ({@link DomainKeyCeremony}). */
    PROJECT,
    /** The ceremony before: {@code domain-key/<n>} and {@code domain-key-asym/<n>} only. */
    PREVIOUS,
    /**
     * Every role's domain key without WRAP_TEMPLATE or UNWRAP_TEMPLATE, not SENSITIVE, and able to
     * ENCRYPT and DECRYPT: what every PKCS#11 API attack succeeds against.
     */
    WEAK
  }

  /** Creates the domain keys of {@code generation} as {@code kind} does; the labels made. */
  public static List<String> run(
      Kind kind, Path modulePath, String tokenLabel, char[] soPin, int generation) {
    return DomainKeyCeremony.createDomainKey(
        modulePath, tokenLabel, soPin, generation, role -> template(kind, role, generation));
  }

  private static AttributeVector template(Kind kind, DomainKeyRole role, int generation) {
    return switch (kind) {
      case PROJECT -> KeyTemplates.domainKey(role, generation);
      case PREVIOUS ->
          role == DomainKeyRole.HMAC ? null : KeyTemplates.previousDomainKey(role, generation);
      case WEAK ->
          AttributeVector.newAESSecretKey()
              .valueLen(KeyTemplates.AES_256_BYTES)
              .label(role.label(generation))
              .token(true)
              .private_(false)
              .trusted(true)
              .sensitive(false)
              .extractable(true)
              .wrap(true)
              .unwrap(true)
              .encrypt(true)
              .decrypt(true);
    };
  }
}
