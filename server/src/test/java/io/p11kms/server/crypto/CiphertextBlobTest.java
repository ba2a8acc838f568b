package io.p11kms.server.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.Derivation;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class CiphertextBlobTest {
  /** The example in docs/ciphertext-format.md; keep the two in step. */
  static final String DOC_EXAMPLE_HEX =
      "01"
          + "1234abcd12ab34cd56ef1234567890ab"
          + "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
          + "02"
          + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
          + "a0a1a2a3a4a5a6a7a8a9aaab"
          + "c0c1c2"
          + "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

  static final UUID KEY_ID = UUID.fromString("1234abcd-12ab-34cd-56ef-1234567890ab");
  static final UUID VERSION_ID = UUID.fromString("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");

  static CiphertextBlob example() {
    return new CiphertextBlob(
        KEY_ID,
        VERSION_ID,
        2,
        range(0x00, 32),
        range(0xa0, 12),
        HexFormat.of().parseHex("c0c1c2f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"));
  }

  static byte[] range(int start, int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (start + i);
    }
    return b;
  }

  @Test
  void toBytes_docExample_matchesDocumentedHex() {
    assertThat(HexFormat.of().formatHex(example().toBytes())).isEqualTo(DOC_EXAMPLE_HEX);
  }

  @Test
  void parse_docExample_readsEveryField() throws Exception {
    CiphertextBlob blob = CiphertextBlob.parse(HexFormat.of().parseHex(DOC_EXAMPLE_HEX));
    assertThat(blob.keyId()).isEqualTo(KEY_ID);
    assertThat(blob.keyVersionId()).isEqualTo(VERSION_ID);
    assertThat(blob.derivationCode()).isEqualTo(2);
    assertThat(blob.derivation()).contains(Derivation.AES_ECB_ENCRYPT_DATA);
    assertThat(blob.salt()).isEqualTo(range(0x00, 32));
    assertThat(blob.iv()).isEqualTo(range(0xa0, 12));
    assertThat(blob.ciphertextAndTag()).hasSize(19);
    assertThat(blob).isEqualTo(example());
  }

  @Test
  void header_isFirst78BytesOfBlob() {
    CiphertextBlob blob = example();
    assertThat(blob.header()).hasSize(CiphertextBlob.HEADER_LENGTH);
    assertThat(blob.header())
        .isEqualTo(Arrays.copyOf(blob.toBytes(), CiphertextBlob.HEADER_LENGTH));
  }

  @Test
  void staticHeader_equalsHeaderOfFinishedBlob() {
    CiphertextBlob blob = example();
    assertThat(CiphertextBlob.header(KEY_ID, VERSION_ID, 2, blob.salt(), blob.iv()))
        .isEqualTo(blob.header());
  }

  @Test
  void staticToBytes_equalsTheBlobsBytes_andChecksItsParts() {
    java.util.Random random = new java.util.Random(11);
    for (int i = 0; i < 20; i++) {
      byte[] salt = new byte[32];
      byte[] iv = new byte[12];
      byte[] ct = new byte[16 + random.nextInt(300)];
      random.nextBytes(salt);
      random.nextBytes(iv);
      random.nextBytes(ct);
      int code = 1 + random.nextInt(255);
      assertThat(CiphertextBlob.toBytes(KEY_ID, VERSION_ID, code, salt, iv, ct))
          .isEqualTo(new CiphertextBlob(KEY_ID, VERSION_ID, code, salt, iv, ct).toBytes());
    }
    assertThatThrownBy(
            () ->
                CiphertextBlob.toBytes(
                    KEY_ID, VERSION_ID, 1, range(0, 32), range(0, 12), range(0, 15)))
        .hasMessageContaining("tag");
    assertThatThrownBy(
            () -> CiphertextBlob.header(KEY_ID, VERSION_ID, 0, range(0, 32), range(0, 12)))
        .hasMessageContaining("derivation code");
  }

  @Test
  void constants_addUp() {
    assertThat(1 + 16 + 16 + 1 + CiphertextBlob.SALT_LENGTH + CiphertextBlob.IV_LENGTH)
        .isEqualTo(CiphertextBlob.HEADER_LENGTH);
    assertThat(CiphertextBlob.maxPlaintextOverhead()).isEqualTo(94);
    assertThat(CiphertextBlob.VERSION).isEqualTo(1);
  }

  @Test
  void parse_roundTrip_randomBlobs() throws Exception {
    java.util.Random random = new java.util.Random(7);
    for (int i = 0; i < 50; i++) {
      byte[] salt = new byte[32];
      byte[] iv = new byte[12];
      byte[] ct = new byte[16 + random.nextInt(200)];
      random.nextBytes(salt);
      random.nextBytes(iv);
      random.nextBytes(ct);
      CiphertextBlob blob =
          new CiphertextBlob(UUID.randomUUID(), UUID.randomUUID(), 1, salt, iv, ct);
      assertThat(CiphertextBlob.parse(blob.toBytes())).isEqualTo(blob);
    }
  }

  @Test
  void parse_minimumLength_accepted() throws Exception {
    byte[] bytes = Arrays.copyOf(example().header(), CiphertextBlob.minLength());
    assertThat(CiphertextBlob.parse(bytes).ciphertextAndTagLength()).isEqualTo(16);
  }

  @Test
  void parse_null_fails() {
    assertMalformed(null);
  }

  @Test
  void parse_empty_fails() {
    assertMalformed(new byte[0]);
  }

  @Test
  void parse_truncatedBlob_fails() {
    byte[] full = example().toBytes();
    for (int length = 0; length < CiphertextBlob.minLength(); length++) {
      assertMalformed(Arrays.copyOf(full, length));
    }
  }

  @Test
  void parse_headerWithoutFullTag_fails() {
    assertMalformed(Arrays.copyOf(example().header(), CiphertextBlob.HEADER_LENGTH + 15));
  }

  @Test
  void parse_wrongVersion_fails() {
    for (int version : new int[] {0x00, 0x02, 0x7f, 0x80, 0xff}) {
      byte[] bytes = example().toBytes();
      bytes[0] = (byte) version;
      assertMalformed(bytes);
    }
  }

  @Test
  void parse_derivationCodeZero_fails() {
    byte[] bytes = example().toBytes();
    bytes[33] = 0;
    assertMalformed(bytes);
  }

  @Test
  void parse_unknownDerivationCode_parsesButHasNoDerivation() throws Exception {
    byte[] bytes = example().toBytes();
    bytes[33] = (byte) 0xfe;
    CiphertextBlob blob = CiphertextBlob.parse(bytes);
    assertThat(blob.derivationCode()).isEqualTo(0xfe);
    assertThat(blob.derivation()).isEmpty();
  }

  @Test
  void parse_failures_allCarryTheSameMessage() {
    assertThatThrownBy(() -> CiphertextBlob.parse(new byte[] {9}))
        .isInstanceOf(MalformedCiphertextException.class)
        .hasMessage("ciphertext is malformed")
        .hasNoCause();
  }

  @Test
  void constructor_copiesArraysIn() {
    byte[] salt = range(0, 32);
    byte[] iv = range(0, 12);
    byte[] ct = range(0, 20);
    CiphertextBlob blob = new CiphertextBlob(KEY_ID, VERSION_ID, 1, salt, iv, ct);
    salt[0] = 99;
    iv[0] = 99;
    ct[0] = 99;
    assertThat(blob.salt()[0]).isZero();
    assertThat(blob.iv()[0]).isZero();
    assertThat(blob.ciphertextAndTag()[0]).isZero();
  }

  @Test
  void accessors_copyArraysOut() {
    CiphertextBlob blob = example();
    blob.salt()[0] = 99;
    blob.iv()[0] = 99;
    blob.ciphertextAndTag()[0] = 99;
    assertThat(blob).isEqualTo(example());
  }

  @Test
  void equals_comparesArrayContents() {
    assertThat(example()).isEqualTo(example()).hasSameHashCodeAs(example());
    CiphertextBlob other =
        new CiphertextBlob(KEY_ID, VERSION_ID, 2, range(0, 32), range(0xa0, 12), range(1, 19));
    assertThat(other).isNotEqualTo(example());
  }

  @Test
  void toString_showsNoBytes() {
    String s = example().toString();
    assertThat(s).contains(KEY_ID.toString()).contains("ciphertextAndTagLength=19");
    assertThat(s).doesNotContain("[B@").doesNotContainIgnoringCase("c0c1c2");
  }

  @Test
  void constructor_badFields_fail() {
    byte[] salt = range(0, 32);
    byte[] iv = range(0, 12);
    byte[] ct = range(0, 16);
    assertThatThrownBy(() -> new CiphertextBlob(null, VERSION_ID, 1, salt, iv, ct))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new CiphertextBlob(KEY_ID, VERSION_ID, 0, salt, iv, ct))
        .hasMessageContaining("derivation code must be 1-255, was 0");
    assertThatThrownBy(() -> new CiphertextBlob(KEY_ID, VERSION_ID, 256, salt, iv, ct))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new CiphertextBlob(KEY_ID, VERSION_ID, 1, range(0, 31), iv, ct))
        .hasMessageContaining("salt");
    assertThatThrownBy(() -> new CiphertextBlob(KEY_ID, VERSION_ID, 1, salt, range(0, 16), ct))
        .hasMessageContaining("IV");
    assertThatThrownBy(() -> new CiphertextBlob(KEY_ID, VERSION_ID, 1, salt, iv, range(0, 15)))
        .hasMessageContaining("tag");
  }

  private static void assertMalformed(byte[] bytes) {
    assertThatThrownBy(() -> CiphertextBlob.parse(bytes))
        .isInstanceOf(MalformedCiphertextException.class)
        .hasMessage(MalformedCiphertextException.MESSAGE);
  }
}
