package io.p11kms.hsm.domain;

import io.p11kms.hsm.keys.KeyTemplates;
import java.util.Optional;
import org.xipki.pkcs11.wrapper.AttributeVector;

/**
 * The kinds of domain key a generation has, one per kind of key wrapped under it, each tied to its
 * label and to the one template the SO ceremony ({@link DomainKeyCeremony}) generates it with
 * ({@link KeyTemplates#domainKey(DomainKeyRole, int)}): its WRAP_TEMPLATE and UNWRAP_TEMPLATE pin
 * the class, type and usage of what it wraps and unwraps, so a key of one kind can neither be
 * wrapped under another kind's domain key nor unwrapped as another kind. The domain join lands a
 * copy from the same template (see {@link DomainJoin#finish}), never from what a bundle says.
 */
public enum DomainKeyRole {
  /** {@code domain-key/<n>}: HSM backing keys (HBKs) of symmetric keys, CKM_AES_KEY_WRAP. */
  SYMMETRIC("domain-key/"),
  /** {@code domain-key-asym/<n>}: private keys, CKM_AES_KEY_WRAP_PAD. */
  ASYMMETRIC("domain-key-asym/"),
  /** {@code domain-key-hmac/<n>}: HMAC keys, CKM_AES_KEY_WRAP_PAD. */
  HMAC("domain-key-hmac/");

  private final String labelPrefix;

  DomainKeyRole(String labelPrefix) {
    this.labelPrefix = labelPrefix;
  }

  /** The label prefix; the label is the prefix followed by the generation. */
  public String labelPrefix() {
    return labelPrefix;
  }

  /** The template the ceremony generates this kind's key of {@code generation} with. */
  AttributeVector template(int generation) {
    return KeyTemplates.domainKey(this, generation);
  }

  /**
   * The template an older ceremony generated this kind's key with (its backing keys derive, and its
   * templates pin no class or type), for a generation made before; empty for {@link #HMAC}, which
   * did not exist then. A domain join of such a generation must land it as it was, or the EKTs
   * under it no longer unwrap for what they were made for.
   */
  Optional<AttributeVector> previousTemplate(int generation) {
    return this == HMAC
        ? Optional.empty()
        : Optional.of(KeyTemplates.previousDomainKey(this, generation));
  }

  /** The label of this role's domain key of {@code generation}. */
  public String label(int generation) {
    return labelPrefix + generation;
  }

  /** The generation in {@code label} if it names a domain key of this role, else 0. */
  public int generationOf(String label) {
    return DomainKeys.generationOf(label, labelPrefix);
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
  public static Optional<Key> of(String label) {
    for (DomainKeyRole role : values()) {
      int generation = DomainKeys.generationOf(label, role.labelPrefix);
      if (generation > 0 && role.label(generation).equals(label)) {
        return Optional.of(new Key(role, generation));
      }
    }
    return Optional.empty();
  }
}
