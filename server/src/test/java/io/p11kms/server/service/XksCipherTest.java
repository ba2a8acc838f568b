package io.p11kms.server.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.Hsm;
import io.p11kms.server.store.KeyVersionRecord;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The XKS proxy API's byte layouts (the token's AAD, ciphertextMetadata, the integrity value), and
 * the token calls of an Encrypt.
 */
class XksCipherTest {
  private static final HexFormat HEX = HexFormat.of();

  @Test
  void encrypt_takesItsIvAndCiphertextFromOneTokenCall() {
    List<String> calls = new ArrayList<>();
    byte[] iv = HEX.parseHex("000102030405060708090a0b");
    byte[] ciphertext = {1, 2, 3};
    byte[] tag = new byte[XksCipher.TAG_LENGTH];
    Hsm hsm =
        (Hsm)
            Proxy.newProxyInstance(
                Hsm.class.getClassLoader(),
                new Class<?>[] {Hsm.class},
                (proxy, method, args) -> {
                  calls.add(method.getName());
                  return switch (method.getName()) {
                    case "derivationFor" -> Derivation.NONE_AES_GCM;
                    case "encryptWithTokenIv" -> concat(iv, ciphertext, tag);
                    default -> throw new AssertionError("unexpected token call " + method);
                  };
                });
    KeyVersionRecord version =
        new KeyVersionRecord(
            UUID.randomUUID(), UUID.randomUUID(), 1, Instant.EPOCH, 1, 1, new byte[40]);

    XksEncrypted out = new XksCipher(hsm).encrypt(version, new byte[3], null, false, "k");

    assertThat(out.initializationVector()).isEqualTo(iv);
    assertThat(out.ciphertext()).isEqualTo(ciphertext);
    assertThat(out.authenticationTag()).isEqualTo(tag);
    // derivationFor answers from memory; the one round trip to the token is the encryption.
    assertThat(calls).containsExactly("derivationFor", "encryptWithTokenIv");
  }

  private static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  @Test
  void integrityValue_isTheSpecificationsAppendixCExample() {
    byte[] aad = "project=nile,department=marketing".getBytes(StandardCharsets.US_ASCII);
    byte[] metadata = "key_version=1".getBytes(StandardCharsets.US_ASCII);
    byte[] iv = HEX.parseHex("1ccae5470f39700254779031");
    byte[] ciphertext = HEX.parseHex("821c642b5b71783367deaf18");
    byte[] tag = HEX.parseHex("bc1c4dda7707d6812447c5955e99b261");

    byte[] value = XksCipher.integrityValue(aad, metadata, iv, ciphertext, tag);

    assertThat(HEX.formatHex(value))
        .isEqualTo("a8703f2260bd8791ec2d15ea0b23e65a0631eedcf2a13a65cc82db3f47cf5ec7");
    assertThat(Base64.getEncoder().encodeToString(value))
        .isEqualTo("qHA/ImC9h5HsLRXqCyPmWgYx7tzyoTplzILbP0fPXsc=");
  }

  @Test
  void integrityValue_takesAnAbsentPartAsEmpty() {
    byte[] iv = new byte[12];
    byte[] ciphertext = {1, 2, 3};
    byte[] tag = new byte[16];
    assertThat(XksCipher.integrityValue(null, null, iv, ciphertext, tag))
        .isEqualTo(XksCipher.integrityValue(new byte[0], new byte[0], iv, ciphertext, tag));
  }

  @Test
  void tokenAad_carriesBothLengths_soMovingMetadataIntoTheAadChangesIt() {
    byte[] aad = {(byte) 0xAA, (byte) 0xBB};
    byte[] metadata = {7};
    assertThat(HEX.formatHex(XksCipher.tokenAad(aad, metadata))).isEqualTo("0002aabb0107");
    assertThat(HEX.formatHex(XksCipher.tokenAad(null, null))).isEqualTo("000000");
    // Encrypt without AAD, then Decrypt passing the metadata as AAD and no metadata: differs.
    assertThat(XksCipher.tokenAad(null, metadata)).isNotEqualTo(XksCipher.tokenAad(metadata, null));
    assertThat(XksCipher.tokenAad(new byte[8192], null)).hasSize(2 + 8192 + 1);
    assertThat(XksCipher.tokenAad(new byte[8192], null)[0]).isEqualTo((byte) 0x20);
  }

  @Test
  void metadata_namesTheKeyVersion_in17Bytes_andOnlyOurFormatParses() {
    UUID version = UUID.randomUUID();
    byte[] metadata = XksCipher.metadata(version);
    assertThat(metadata).hasSize(17);
    assertThat(metadata.length).isLessThanOrEqualTo(XksService.MAX_METADATA);
    assertThat(XksCipher.versionOf(metadata)).contains(version);

    byte[] otherFormat = metadata.clone();
    otherFormat[0] = 2;
    assertThat(XksCipher.versionOf(otherFormat)).isEmpty();
    assertThat(XksCipher.versionOf(new byte[16])).isEmpty();
    assertThat(XksCipher.versionOf(null)).isEmpty();
  }
}
