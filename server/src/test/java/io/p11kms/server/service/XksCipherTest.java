package io.p11kms.server.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The XKS proxy API's byte layouts: the token's AAD, ciphertextMetadata, the integrity value. */
class XksCipherTest {
  private static final HexFormat HEX = HexFormat.of();

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
