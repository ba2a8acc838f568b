package io.p11kms.hsm;

/** Imported key material unwrapped to a length the key spec does not take; nothing was kept. */
public class ImportedMaterialLengthException extends HsmException {
  private static final long serialVersionUID = 1L;

  public ImportedMaterialLengthException(String message) {
    super(message);
  }
}
