package io.p11kms.hsm.session;

/**
 * The PKCS#11 functions the adapter calls, each with its PKCS#11 name (what a {@link
 * TokenCallInterceptor} is told) and the objects a call makes (what {@link LibraryRecycling}
 * counts).
 */
public enum Pkcs11Function implements TokenStep {
  C_INITIALIZE("C_Initialize", 0),
  C_FINALIZE("C_Finalize", 0),
  C_GET_SLOT_LIST("C_GetSlotList", 0),
  C_OPEN_SESSION("C_OpenSession", 0),
  C_CLOSE_ALL_SESSIONS("C_CloseAllSessions", 0),
  C_GET_SESSION_INFO("C_GetSessionInfo", 0),
  C_LOGIN("C_Login", 0),
  C_FIND_OBJECTS("C_FindObjects", 0),
  C_GET_ATTRIBUTE_VALUE("C_GetAttributeValue", 0),
  C_CREATE_OBJECT("C_CreateObject", 1),
  C_COPY_OBJECT("C_CopyObject", 1),
  C_DESTROY_OBJECT("C_DestroyObject", 0),
  C_GENERATE_KEY("C_GenerateKey", 1),
  C_GENERATE_KEY_PAIR("C_GenerateKeyPair", 2),
  C_WRAP_KEY("C_WrapKey", 0),
  C_UNWRAP_KEY("C_UnwrapKey", 1),
  C_DERIVE_KEY("C_DeriveKey", 1),
  C_ENCRYPT("C_Encrypt", 0),
  C_DECRYPT_INIT("C_DecryptInit", 0),
  C_DECRYPT("C_Decrypt", 0),
  C_SIGN("C_Sign", 0),
  C_GENERATE_RANDOM("C_GenerateRandom", 0);

  private final String pkcs11Name;
  private final int objectsMade;

  Pkcs11Function(String pkcs11Name, int objectsMade) {
    this.pkcs11Name = pkcs11Name;
    this.objectsMade = objectsMade;
  }

  /** The function's name in the PKCS#11 specification, e.g. {@code C_DeriveKey}. */
  String pkcs11Name() {
    return pkcs11Name;
  }

  /** Objects a call makes: one key, two for a key pair, or none. */
  int objectsMade() {
    return objectsMade;
  }

  @Override
  public String label() {
    return pkcs11Name;
  }
}
