package io.p11kms.server.service;

import io.p11kms.hsm.AsymmetricKeys;
import io.p11kms.server.store.KeyStore;
import java.security.MessageDigest;

/**
 * GenerateMac and VerifyMac. The HMAC is computed in the token under the key's wrapped HMAC key;
 * VerifyMac computes it again and compares in constant time, so the HMAC key never leaves the
 * token.
 */
public final class MacService {
  private final AsymmetricKeys hsm;
  private final KeyStore store;
  private final KeyService keys;

  public MacService(AsymmetricKeys hsm, KeyStore store, KeyService keys) {
    this.hsm = hsm;
    this.store = store;
    this.keys = keys;
  }

  /** What GenerateMac and VerifyMac return. */
  public record Mac(String keyArn, byte[] mac, MacAlgorithm algorithm) {
    public Mac {
      mac = mac.clone();
    }

    @Override
    public byte[] mac() {
      return mac.clone();
    }
  }

  public Mac generateMac(String keyId, byte[] message, MacAlgorithm algorithm) {
    return generateMac(keys.lookup(), keyId, message, algorithm);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public Mac generateMac(KeyLookup lookup, String keyId, byte[] message, MacAlgorithm algorithm) {
    requireRequest(keyId, message, algorithm);
    KeyMaterial key = macKey(lookup, keyId, algorithm, "GenerateMac");
    return new Mac(keys.arn(key.key()), mac(key, algorithm, message), algorithm);
  }

  /**
   * @throws KmsException KMSInvalidMacException when {@code mac} is not the message's HMAC
   */
  public Mac verifyMac(String keyId, byte[] message, byte[] mac, MacAlgorithm algorithm) {
    return verifyMac(keys.lookup(), keyId, message, mac, algorithm);
  }

  /** As above, with the key read through the request's {@code lookup}. */
  public Mac verifyMac(
      KeyLookup lookup, String keyId, byte[] message, byte[] mac, MacAlgorithm algorithm) {
    requireRequest(keyId, message, algorithm);
    if (mac == null || mac.length == 0 || mac.length > 6144) {
      throw KmsException.validation("Mac is required and must be 1-6144 bytes");
    }
    KeyMaterial key = macKey(lookup, keyId, algorithm, "VerifyMac");
    if (!MessageDigest.isEqual(mac(key, algorithm, message), mac)) {
      throw new KmsException(
          KmsError.INVALID_MAC, "The MAC is not valid for this key, algorithm and message");
    }
    return new Mac(keys.arn(key.key()), mac, algorithm);
  }

  private byte[] mac(KeyMaterial key, MacAlgorithm algorithm, byte[] message) {
    return TokenCalls.call(
        "GenerateMac", () -> hsm.generateMac(key.wrapped(), algorithm.hmacType(), message));
  }

  private static void requireRequest(String keyId, byte[] message, MacAlgorithm algorithm) {
    Requests.requireKeyId(keyId, "KeyId");
    if (message == null || message.length == 0 || message.length > Requests.MAX_PLAINTEXT_BYTES) {
      throw KmsException.validation("Message is required and must be 1-4096 bytes");
    }
    if (algorithm == null) {
      throw KmsException.validation("MacAlgorithm is required");
    }
  }

  /** An enabled GENERATE_VERIFY_MAC key whose spec is {@code algorithm}'s. */
  private KeyMaterial macKey(
      KeyLookup lookup, String keyId, MacAlgorithm algorithm, String operation) {
    KeyMaterial key =
        KeyMaterial.of(KeyService.enabledKey(lookup, keyId, "KeyId"), store)
            .requireUsage(KeyUsage.GENERATE_VERIFY_MAC, operation);
    if (!MacAlgorithm.of(key.spec(), key.usage()).contains(algorithm)) {
      throw new KmsException(
          KmsError.INVALID_KEY_USAGE,
          operation
              + ": MacAlgorithm "
              + algorithm
              + " is not valid with KeySpec "
              + key.spec()
              + "; valid: "
              + MacAlgorithm.of(key.spec(), key.usage()));
    }
    return key;
  }
}
