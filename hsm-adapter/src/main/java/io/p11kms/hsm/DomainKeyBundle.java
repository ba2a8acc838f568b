package io.p11kms.hsm;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;

/**
 * What {@code domain-join export} writes and {@code domain-join finish} reads: every domain key of
 * the source token wrapped under the target's transport key, with the attributes to reproduce and a
 * proof EKT per key. Wrapped bytes and attributes only; no key in plaintext.
 *
 * @param transportFingerprint the fingerprint of the transport key the keys are wrapped under
 * @param oaepHash the OAEP hash used ({@code SHA-256} or {@code SHA-1}; MGF1 with the same hash)
 * @param keys the wrapped domain keys
 */
public record DomainKeyBundle(String transportFingerprint, String oaepHash, List<Entry> keys) {
  static final String FORMAT = "p11kms-domain-join-bundle/1";

  /**
   * One domain key.
   *
   * @param attributes the attributes it has on the source
   * @param wrapped the key, {@code C_WrapKey(CKM_RSA_PKCS_OAEP, transport key, domain key)}
   * @param proofEkt a fresh AES key wrapped under the domain key on the source with {@code
   *     CKM_AES_KEY_WRAP}: it unwraps (RFC 3394 checks integrity) only under the same key material
   */
  public record Entry(DomainKeyAttributes attributes, byte[] wrapped, byte[] proofEkt) {}

  public DomainKeyBundle {
    keys = List.copyOf(keys);
  }

  /** Writes the bundle as a properties file. */
  public void write(Path file) {
    Properties p = new Properties();
    p.setProperty("format", FORMAT);
    p.setProperty("transportFingerprint", transportFingerprint);
    p.setProperty("mechanism", "CKM_RSA_PKCS_OAEP");
    p.setProperty("oaepHash", oaepHash);
    p.setProperty("keys", Integer.toString(keys.size()));
    Base64.Encoder base64 = Base64.getEncoder();
    for (int i = 0; i < keys.size(); i++) {
      Entry entry = keys.get(i);
      String prefix = "key." + (i + 1) + ".";
      p.setProperty(prefix + "label", entry.attributes().label());
      p.setProperty(prefix + "keyType", Long.toString(entry.attributes().keyType()));
      p.setProperty(prefix + "attributes", entry.attributes().flagsText());
      p.setProperty(prefix + "wrapTemplate", entry.attributes().wrapTemplateText());
      p.setProperty(prefix + "unwrapTemplate", entry.attributes().unwrapTemplateText());
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
   * Reads a file written by {@link #write}.
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
      if (!FORMAT.equals(p.getProperty("format"))) {
        throw new IllegalArgumentException(
            "not a p11kms domain key bundle (format " + FORMAT + ")");
      }
      if (!"CKM_RSA_PKCS_OAEP".equals(p.getProperty("mechanism"))) {
        throw new IllegalArgumentException("mechanism must be CKM_RSA_PKCS_OAEP");
      }
      int count = Integer.parseInt(required(p, "keys"));
      if (count < 1 || count > 1000) {
        throw new IllegalArgumentException("keys must be 1 to 1000, was " + count);
      }
      Base64.Decoder base64 = Base64.getDecoder();
      List<Entry> keys = new ArrayList<>();
      for (int i = 1; i <= count; i++) {
        String prefix = "key." + i + ".";
        DomainKeyAttributes attributes =
            new DomainKeyAttributes(
                required(p, prefix + "label"),
                Long.parseLong(required(p, prefix + "keyType")),
                DomainKeyAttributes.parseFlags(required(p, prefix + "attributes")),
                DomainKeyAttributes.parseFlags(p.getProperty(prefix + "wrapTemplate", "")),
                DomainKeyAttributes.parseFlags(p.getProperty(prefix + "unwrapTemplate", "")));
        keys.add(
            new Entry(
                attributes,
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
