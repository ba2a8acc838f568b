package io.p11kms.hsm.session;

/**
 * The adapter's own steps, between its PKCS#11 calls, and the security officer's login, named apart
 * from the user's.
 */
public enum AdapterStep implements TokenStep {
  FIND_DOMAIN_KEY("find domain key"),
  FIND_ASYMMETRIC_DOMAIN_KEY("find asymmetric domain key"),
  FIND_HMAC_DOMAIN_KEY("find HMAC domain key"),
  FIND_IMPORT_WRAPPING_KEY("find import wrapping key"),
  CHECK_DERIVATION("derivation"),
  PROBE_OAEP("probe OAEP"),
  FIND_REGION_TRANSPORT_KEY("find region transport key"),
  FIND_REGION_PEER_KEY("find region peer key"),
  PROBE_TOKEN("probe"),
  /** C_Login as the security officer, named apart from the user's login. */
  SO_LOGIN("C_Login (SO)");

  private final String label;

  AdapterStep(String label) {
    this.label = label;
  }

  @Override
  public String label() {
    return label;
  }
}
