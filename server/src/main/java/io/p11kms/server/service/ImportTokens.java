package io.p11kms.server.service;

import io.p11kms.hsm.TokenAdministration;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;

/**
 * Import tokens: what GetParametersForImport hands out and ImportKeyMaterial takes back. Opaque to
 * the caller and unforgeable: the key it was made for, the wrapping algorithm, the wrapping key's
 * id on the token and its expiry, authenticated by an HMAC-SHA256 computed in the token under a key
 * that never leaves it ({@value #KEY_LABEL}). A token altered, made up, or made by another
 * deployment's token fails the HMAC: InvalidImportTokenException.
 *
 * <pre>
 * version (1) | key id (16) | algorithm (1) | modulus bits (2) | expiry, epoch seconds (8)
 *   | wrapping key id (2-byte length, UTF-8) | HMAC-SHA256 (32)
 * </pre>
 */
final class ImportTokens {
  /** The label of the token's HMAC key for import tokens. */
  static final String KEY_LABEL = "import-token-key";

  private static final int VERSION = 1;
  private static final int MAC_BYTES = 32;
  private static final int MAX_TOKEN_BYTES = 1024;

  /** What an import token says. */
  record Contents(
      UUID keyId,
      WrappingAlgorithm algorithm,
      int modulusBits,
      Instant expiresAt,
      String wrappingKeyId) {}

  private final TokenAdministration hsm;
  private volatile boolean keyReady;

  ImportTokens(TokenAdministration hsm) {
    this.hsm = hsm;
  }

  byte[] issue(Contents contents) {
    byte[] body = encode(contents);
    byte[] mac = TokenCalls.call("GetParametersForImport", () -> hsm.sign(key(), body));
    byte[] token = Arrays.copyOf(body, body.length + mac.length);
    System.arraycopy(mac, 0, token, body.length, mac.length);
    return token;
  }

  /**
   * What {@code token} says, once its HMAC verifies.
   *
   * @throws KmsException INVALID_IMPORT_TOKEN when it is not a token this service made
   */
  Contents open(byte[] token) {
    if (token == null || token.length <= MAC_BYTES || token.length > MAX_TOKEN_BYTES) {
      throw invalid();
    }
    byte[] body = Arrays.copyOf(token, token.length - MAC_BYTES);
    byte[] mac = Arrays.copyOfRange(token, body.length, token.length);
    if (!TokenCalls.call("ImportKeyMaterial", () -> hsm.verify(key(), body, mac))) {
      throw invalid();
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(body))) {
      if (in.readUnsignedByte() != VERSION) {
        throw invalid();
      }
      UUID keyId = new UUID(in.readLong(), in.readLong());
      WrappingAlgorithm algorithm = WrappingAlgorithm.values()[in.readUnsignedByte()];
      int bits = in.readUnsignedShort();
      Instant expiresAt = Instant.ofEpochSecond(in.readLong());
      String wrappingKeyId = in.readUTF();
      if (in.available() != 0) {
        throw invalid();
      }
      return new Contents(keyId, algorithm, bits, expiresAt, wrappingKeyId);
    } catch (IOException | ArrayIndexOutOfBoundsException e) {
      throw invalid();
    }
  }

  private static byte[] encode(Contents c) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeLong(c.keyId().getMostSignificantBits());
      out.writeLong(c.keyId().getLeastSignificantBits());
      out.writeByte(c.algorithm().ordinal());
      out.writeShort(c.modulusBits());
      out.writeLong(c.expiresAt().getEpochSecond());
      out.writeUTF(c.wrappingKeyId());
    } catch (IOException e) {
      throw new IllegalStateException("writing to memory failed", e);
    }
    return bytes.toByteArray();
  }

  /** The HMAC key's label, made in the token on first use (once: two keys would be ambiguous). */
  private String key() {
    if (!keyReady) {
      synchronized (this) {
        if (!keyReady) {
          TokenCalls.call(
              "import token key",
              () -> {
                hsm.createSigningKeyIfAbsent(KEY_LABEL);
                return null;
              });
          keyReady = true;
        }
      }
    }
    return KEY_LABEL;
  }

  private static KmsException invalid() {
    return new KmsException(
        KmsError.INVALID_IMPORT_TOKEN,
        "The import token is not valid: call GetParametersForImport for this key and use the token"
            + " it returns");
  }
}
