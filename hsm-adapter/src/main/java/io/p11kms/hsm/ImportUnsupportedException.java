package io.p11kms.hsm;

/**
 * The token cannot unwrap key material wrapped so inside itself (SoftHSM2 2.6.1, for one, does
 * RSAES-OAEP with SHA-1 only), so the adapter will not import it at all.
 */
public class ImportUnsupportedException extends HsmException {
  private static final long serialVersionUID = 1L;

  public ImportUnsupportedException(String message) {
    super(message);
  }
}
