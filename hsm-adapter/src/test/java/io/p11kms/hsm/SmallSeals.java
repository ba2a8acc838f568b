package io.p11kms.hsm;

/**
 * The load of the library recycle tests: the two bytes {7, 8} sealed over and over under one key,
 * each seal beside one backing key made and destroyed (one object towards the recycle bound:
 * AES-GCM under a cached backing key makes none).
 */
public final class SmallSeals {
  private SmallSeals() {}

  /**
   * Encrypts {7, 8} {@code times} times under {@code key}.
   *
   * @return the salt, the IV and the last ciphertext
   */
  public static byte[][] encrypt(Pkcs11Hsm hsm, WrappedKey key, int times) {
    byte[] salt = new byte[Hsm.SALT_LENGTH];
    byte[] iv = new byte[Hsm.IV_LENGTH];
    byte[] last = null;
    for (int i = 0; i < times; i++) {
      last = hsm.encrypt(key, hsm.preferredDerivation(), salt, iv, null, new byte[] {7, 8});
      hsm.generateBackingKey();
    }
    return new byte[][] {salt, iv, last};
  }

  /** Decrypts what {@link #encrypt} returned. */
  public static byte[] decrypt(Pkcs11Hsm hsm, WrappedKey key, byte[][] sealed) {
    return hsm.decrypt(key, hsm.preferredDerivation(), sealed[0], sealed[1], null, sealed[2]);
  }
}
