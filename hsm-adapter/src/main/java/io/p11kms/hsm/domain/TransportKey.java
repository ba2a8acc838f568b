package io.p11kms.hsm.domain;

import io.p11kms.hsm.HsmException;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Properties;

/**
 * The public half of the RSA transport key a joining token made ({@code domain-join begin}): all
 * that travels from the target to the source. Public values only.
 *
 * @param modulus the RSA modulus, unsigned big-endian
 * @param publicExponent the RSA public exponent, unsigned big-endian
 */
public record TransportKey(byte[] modulus, byte[] publicExponent) {
  static final String FORMAT = "p11kms-domain-join-transport-key/1";

  public TransportKey {
    modulus = unsigned(modulus);
    publicExponent = unsigned(publicExponent);
    if (modulus.length < 256) {
      throw new IllegalArgumentException(
          "transport key modulus of " + modulus.length * 8 + " bits; at least 2048 required");
    }
  }

  private static byte[] unsigned(byte[] value) {
    if (value == null || value.length == 0) {
      throw new IllegalArgumentException("transport key modulus and exponent are required");
    }
    return strip(new BigInteger(1, value).toByteArray());
  }

  /** Drops the sign byte of a minimal two's-complement encoding. */
  private static byte[] strip(byte[] twosComplement) {
    if (twosComplement.length > 1 && twosComplement[0] == 0) {
      byte[] out = new byte[twosComplement.length - 1];
      System.arraycopy(twosComplement, 1, out, 0, out.length);
      return out;
    }
    return twosComplement;
  }

  /**
   * {@code sha256:<hex>} over the modulus and exponent: the operators of both machines read it out
   * to each other, so that a transport key swapped on the way is noticed before the export.
   */
  public String fingerprint() {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      sha256.update(modulus);
      sha256.update((byte) 0);
      sha256.update(publicExponent);
      return "sha256:" + HexFormat.of().formatHex(sha256.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** Writes the key as a properties file. */
  public void write(Path file) {
    Properties p = new Properties();
    p.setProperty("format", FORMAT);
    p.setProperty("modulus", Base64.getEncoder().encodeToString(modulus));
    p.setProperty("publicExponent", Base64.getEncoder().encodeToString(publicExponent));
    p.setProperty("fingerprint", fingerprint());
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      p.store(out, "p11kms domain join: the joining token's transport public key");
    } catch (IOException e) {
      throw new HsmException("cannot write " + file + ": " + e.getClass().getSimpleName());
    }
  }

  /**
   * Reads a file written by {@link #write}. The fingerprint in the file is not trusted: it is
   * computed again from the key.
   */
  public static TransportKey read(Path file) {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (IOException e) {
      throw new HsmException("cannot read " + file + ": " + e.getClass().getSimpleName());
    }
    if (!FORMAT.equals(p.getProperty("format"))) {
      throw new HsmException(file + " is not a p11kms transport key (format " + FORMAT + ")");
    }
    try {
      return new TransportKey(
          Base64.getDecoder().decode(p.getProperty("modulus", "")),
          Base64.getDecoder().decode(p.getProperty("publicExponent", "")));
    } catch (IllegalArgumentException e) {
      throw new HsmException(file + ": " + e.getMessage());
    }
  }
}
