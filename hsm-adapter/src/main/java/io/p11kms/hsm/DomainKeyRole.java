package io.p11kms.hsm;

import java.util.Optional;
import org.xipki.pkcs11.wrapper.AttributeVector;

/**
 * The kinds of domain key, each tied to its label and to the one template the SO ceremony ({@link
 * DomainKeyCeremony}) generates it with. The domain join lands a copy from the same template (see
 * {@link DomainJoin#finish}), never from what a bundle says: a kind of domain key is defined here
 * once, by its {@link KeyTemplates} method.
 */
enum DomainKeyRole {
  /** {@code domain-key/<n>}: wraps HSM backing keys. */
  SYMMETRIC(KeyTemplates.DOMAIN_KEY_PREFIX) {
    @Override
    AttributeVector template(int generation) {
      return KeyTemplates.domainKey(generation);
    }
  },
  /** {@code domain-key-asym/<n>}: wraps private keys and HMAC keys. */
  ASYMMETRIC(KeyTemplates.ASYM_DOMAIN_KEY_PREFIX) {
    @Override
    AttributeVector template(int generation) {
      return KeyTemplates.asymDomainKey(generation);
    }
  };

  private final String labelPrefix;

  DomainKeyRole(String labelPrefix) {
    this.labelPrefix = labelPrefix;
  }

  /** The template the ceremony generates this kind's key of {@code generation} with. */
  abstract AttributeVector template(int generation);

  String label(int generation) {
    return labelPrefix + generation;
  }

  /** One domain key: its kind and generation. */
  record Key(DomainKeyRole role, int generation) {
    String label() {
      return role.label(generation);
    }

    /** A fresh copy of the ceremony's template for this key (the caller may change it). */
    AttributeVector template() {
      return role.template(generation);
    }
  }

  /**
   * The kind and generation that {@code label} names, exactly as the ceremony writes it ({@code
   * domain-key/2}, not {@code domain-key/02}), or empty when it names no kind of domain key.
   */
  static Optional<Key> of(String label) {
    for (DomainKeyRole role : values()) {
      int generation = DomainKeys.generationOf(label, role.labelPrefix);
      if (generation > 0 && role.label(generation).equals(label)) {
        return Optional.of(new Key(role, generation));
      }
    }
    return Optional.empty();
  }
}
