package io.p11kms.hsm;

/**
 * The kinds of domain key a generation has, one per kind of key wrapped under it. Each role has its
 * own label and its own WRAP_TEMPLATE and UNWRAP_TEMPLATE ({@link KeyTemplates#domainKey}), which
 * pin the class, type and usage of what it wraps and unwraps: a key of one kind can neither be
 * wrapped under another kind's domain key nor unwrapped as another kind.
 */
public enum DomainKeyRole {
  /** {@code domain-key/<n>}: HSM backing keys (HBKs) of symmetric keys, CKM_AES_KEY_WRAP. */
  BACKING_KEYS("domain-key/"),
  /** {@code domain-key-asym/<n>}: private keys, CKM_AES_KEY_WRAP_PAD. */
  PRIVATE_KEYS("domain-key-asym/"),
  /** {@code domain-key-hmac/<n>}: HMAC keys, CKM_AES_KEY_WRAP_PAD. */
  HMAC_KEYS("domain-key-hmac/");

  private final String labelPrefix;

  DomainKeyRole(String labelPrefix) {
    this.labelPrefix = labelPrefix;
  }

  /** The label prefix; the label is the prefix followed by the generation. */
  public String labelPrefix() {
    return labelPrefix;
  }

  /** The label of this role's domain key of {@code generation}. */
  public String label(int generation) {
    return labelPrefix + generation;
  }

  /** The generation in {@code label} if it names a domain key of this role, else 0. */
  public int generationOf(String label) {
    return DomainKeys.generationOf(label, labelPrefix);
  }

  /** The role whose label {@code label} is, if any. */
  public static java.util.Optional<DomainKeyRole> ofLabel(String label) {
    for (DomainKeyRole role : values()) {
      if (role.generationOf(label) > 0) {
        return java.util.Optional.of(role);
      }
    }
    return java.util.Optional.empty();
  }
}
