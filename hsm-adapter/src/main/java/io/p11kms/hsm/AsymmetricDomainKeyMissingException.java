package io.p11kms.hsm;

/**
 * The token holds no asymmetric domain key ({@code domain-key-asym/<n>}) for the generation asked
 * for: the SO has not run the ceremony that adds it. Symmetric operations still work; asymmetric
 * and HMAC ones cannot until the ceremony runs (an operator fix, not a retry).
 */
public class AsymmetricDomainKeyMissingException extends HsmException {
  private static final long serialVersionUID = 1L;

  public AsymmetricDomainKeyMissingException(String message) {
    super(message);
  }
}
