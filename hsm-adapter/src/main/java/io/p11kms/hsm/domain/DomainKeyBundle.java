package io.p11kms.hsm.domain;

import io.p11kms.hsm.HsmException;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;

/**
 * What {@code domain-join export} writes and {@code domain-join finish} reads: every domain key of
 * the source token wrapped under the target's transport key, with its attributes on the source and
 * a proof EKT per key. Wrapped bytes and attributes only; no key in plaintext.
 *
 * <p>The bundle is authenticated by its {@link #fingerprint()}: export prints it on the source, and
 * finish refuses, before any token call, a bundle whose fingerprint is not the one the target's
 * operator was told. The attributes are never turned into a template: the target lands each key
 * from its own template for that kind of domain key and refuses a bundle whose attributes differ
 * from it.
 *
 * @param transportFingerprint the fingerprint of the transport key the keys are wrapped under
 * @param oaepHash the OAEP hash used ({@code SHA-256} or {@code SHA-1}; MGF1 with the same hash)
 * @param keys the wrapped domain keys
 */
public record DomainKeyBundle(String transportFingerprint, String oaepHash, List<Entry> keys) {
  static final String FORMAT = "p11kms-domain-join-bundle/2";
  private static final String OLD_FORMAT = "p11kms-domain-join-bundle/1";
  private static final String MECHANISM = "CKM_RSA_PKCS_OAEP";

  /**
   * One domain key.
   *
   * @param attributes its attributes on the source
   * @param wrapped the key, {@code C_WrapKey(CKM_RSA_PKCS_OAEP, transport key, domain key)}
   * @param proofEkt a fresh key wrapped under the domain key on the source with {@code
   *     CKM_AES_KEY_WRAP}: it unwraps (RFC 3394 checks integrity) only under the same key material
   */
  public record Entry(DomainKeyAttributes attributes, byte[] wrapped, byte[] proofEkt) {
    public Entry {
      if (attributes == null || wrapped == null || proofEkt == null) {
        throw new IllegalArgumentException("attributes, wrapped key and proof EKT are required");
      }
      wrapped = wrapped.clone();
      proofEkt = proofEkt.clone();
    }

    @Override
    public byte[] wrapped() {
      return wrapped.clone();
    }

    @Override
    public byte[] proofEkt() {
      return proofEkt.clone();
    }
  }

  public DomainKeyBundle {
    if (transportFingerprint == null || oaepHash == null || keys == null) {
      throw new IllegalArgumentException("transport fingerprint, OAEP hash and keys are required");
    }
    keys = List.copyOf(keys);
  }

  /**
   * {@code sha256:<hex>} over everything the bundle says (format, transport key fingerprint,
   * mechanism, OAEP hash, and each key's label, attributes, wrapped bytes and proof EKT, each
   * length-prefixed, in order): a bundle with any of them changed has another fingerprint.
   */
  public String fingerprint() {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      field(sha256, FORMAT);
      field(sha256, transportFingerprint);
      field(sha256, MECHANISM);
      field(sha256, oaepHash);
      field(sha256, Integer.toString(keys.size()));
      for (Entry entry : keys) {
        field(sha256, entry.attributes().label());
        field(sha256, entry.attributes().text());
        field(sha256, entry.wrapped());
        field(sha256, entry.proofEkt());
      }
      return "sha256:" + HexFormat.of().formatHex(sha256.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static void field(MessageDigest digest, String value) {
    field(digest, value.getBytes(StandardCharsets.UTF_8));
  }

  private static void field(MessageDigest digest, byte[] value) {
    digest.update(ByteBuffer.allocate(4).putInt(value.length).array());
    digest.update(value);
  }

  /** Writes the bundle as a properties file. */
  public void write(Path file) {
    Properties p = new Properties();
    p.setProperty("format", FORMAT);
    p.setProperty("transportFingerprint", transportFingerprint);
    p.setProperty("mechanism", MECHANISM);
    p.setProperty("oaepHash", oaepHash);
    p.setProperty("keys", Integer.toString(keys.size()));
    Base64.Encoder base64 = Base64.getEncoder();
    for (int i = 0; i < keys.size(); i++) {
      Entry entry = keys.get(i);
      String prefix = "key." + (i + 1) + ".";
      p.setProperty(prefix + "label", entry.attributes().label());
      p.setProperty(prefix + "attributes", entry.attributes().text());
      p.setProperty(prefix + "wrapped", base64.encodeToString(entry.wrapped()));
      p.setProperty(prefix + "proofEkt", base64.encodeToString(entry.proofEkt()));
    }
    try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      p.store(out, "p11kms domain join: domain keys wrapped for one joining token");
    } catch (IOException e) {
      throw new HsmException("cannot write " + file + ": " + e.getClass().getSimpleName());
    }
  }

  /**
   * Reads a file written by {@link #write}. Nothing in it is trusted until its {@link
   * #fingerprint()} is the one the source printed.
   *
   * @throws HsmException naming the file and what is malformed
   */
  public static DomainKeyBundle read(Path file) {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (IOException e) {
      throw new HsmException("cannot read " + file + ": " + e.getClass().getSimpleName());
    }
    try {
      if (OLD_FORMAT.equals(p.getProperty("format"))) {
        throw new IllegalArgumentException(
            "made by an older p11kms (format " + OLD_FORMAT + "): export it again with this one");
      }
      if (!FORMAT.equals(p.getProperty("format"))) {
        throw new IllegalArgumentException(
            "not a p11kms domain key bundle (format " + FORMAT + ")");
      }
      if (!MECHANISM.equals(p.getProperty("mechanism"))) {
        throw new IllegalArgumentException("mechanism must be " + MECHANISM);
      }
      int count = Integer.parseInt(required(p, "keys"));
      if (count < 1 || count > 1000) {
        throw new IllegalArgumentException("keys must be 1 to 1000, was " + count);
      }
      Base64.Decoder base64 = Base64.getDecoder();
      List<Entry> keys = new ArrayList<>();
      for (int i = 1; i <= count; i++) {
        String prefix = "key." + i + ".";
        keys.add(
            new Entry(
                new DomainKeyAttributes(
                    required(p, prefix + "label"), required(p, prefix + "attributes")),
                base64.decode(required(p, prefix + "wrapped")),
                base64.decode(required(p, prefix + "proofEkt"))));
      }
      return new DomainKeyBundle(
          required(p, "transportFingerprint"), required(p, "oaepHash"), keys);
    } catch (IllegalArgumentException e) {
      throw new HsmException(file + ": " + e.getMessage());
    }
  }

  private static String required(Properties p, String name) {
    String value = p.getProperty(name);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + " is missing");
    }
    return value.trim();
  }
}
