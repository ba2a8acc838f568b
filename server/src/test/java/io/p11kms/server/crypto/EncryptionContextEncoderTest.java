package io.p11kms.server.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class EncryptionContextEncoderTest {
  /** The example in docs/ciphertext-format.md; keep the two in step. */
  static final String DOC_EXAMPLE_HEX =
      "00000002"
          + "00000003"
          + "617070"
          + "00000002"
          + "6462"
          + "0000000a"
          + "6465706172746d656e74"
          + "00000002"
          + "3130";

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  @Test
  void encode_docExample_matchesDocumentedHex() {
    assertThat(hex(EncryptionContextEncoder.encode(Map.of("department", "10", "app", "db"))))
        .isEqualTo(DOC_EXAMPLE_HEX);
  }

  @Test
  void encode_emptyOrNull_isZeroCount() {
    assertThat(EncryptionContextEncoder.encode(Map.of())).containsExactly(0, 0, 0, 0);
    assertThat(EncryptionContextEncoder.encode(null)).containsExactly(0, 0, 0, 0);
  }

  @Test
  void encode_orderIndependent() {
    Map<String, String> a = new LinkedHashMap<>();
    a.put("z", "1");
    a.put("a", "2");
    a.put("m", "3");
    Map<String, String> b = new LinkedHashMap<>();
    b.put("m", "3");
    b.put("z", "1");
    b.put("a", "2");
    assertThat(EncryptionContextEncoder.encode(a))
        .isEqualTo(EncryptionContextEncoder.encode(b))
        .isEqualTo(EncryptionContextEncoder.encode(new TreeMap<>(a)))
        .isEqualTo(EncryptionContextEncoder.encode(new HashMap<>(a)));
  }

  @Test
  void encode_boundaryShift_differs() {
    assertThat(EncryptionContextEncoder.encode(Map.of("ab", "c")))
        .isNotEqualTo(EncryptionContextEncoder.encode(Map.of("a", "bc")));
  }

  @Test
  void encode_pairBoundaryShift_differs() {
    // The key/value split moves between pairs: still two different encodings.
    assertThat(EncryptionContextEncoder.encode(Map.of("a", "b", "c", "d")))
        .isNotEqualTo(EncryptionContextEncoder.encode(Map.of("a", "bc", "", "d")));
  }

  @Test
  void encode_caseMatters() {
    assertThat(EncryptionContextEncoder.encode(Map.of("Key", "v")))
        .isNotEqualTo(EncryptionContextEncoder.encode(Map.of("key", "v")));
    assertThat(EncryptionContextEncoder.encode(Map.of("k", "Value")))
        .isNotEqualTo(EncryptionContextEncoder.encode(Map.of("k", "value")));
  }

  @Test
  void encode_addingOrDroppingPair_changesIt() {
    Map<String, String> base = Map.of("a", "1", "b", "2");
    byte[] encoded = EncryptionContextEncoder.encode(base);
    assertThat(EncryptionContextEncoder.encode(Map.of("a", "1"))).isNotEqualTo(encoded);
    assertThat(EncryptionContextEncoder.encode(Map.of("a", "1", "b", "2", "c", "3")))
        .isNotEqualTo(encoded);
    assertThat(EncryptionContextEncoder.encode(Map.of("a", "1", "b", "")))
        .isNotEqualTo(EncryptionContextEncoder.encode(Map.of("a", "1")));
  }

  @Test
  void encode_emptyKeyAndValue_areLengthPrefixed() {
    assertThat(hex(EncryptionContextEncoder.encode(Map.of("", ""))))
        .isEqualTo("00000001" + "00000000" + "00000000");
  }

  @Test
  void encode_nonAscii_isUtf8WithByteLengths() {
    byte[] encoded = EncryptionContextEncoder.encode(Map.of("é", "日本"));
    assertThat(hex(encoded))
        .isEqualTo("00000001" + "00000002" + "c3a9" + "00000006" + "e697a5e69cac");
  }

  @Test
  void encode_sortsByUtf8BytesNotUtf16() {
    // U+FF61 sorts before U+1F600 in UTF-16 (surrogate 0xD83D < 0xFF61), but after it in UTF-8.
    String supplementary = "\uD83D\uDE00";
    String bmpHigh = "\uFF61";
    byte[] encoded = EncryptionContextEncoder.encode(Map.of(bmpHigh, "1", supplementary, "2"));
    assertThat(hex(encoded))
        .startsWith("00000002" + "00000003" + "efbda1")
        .contains("00000004" + "f09f9880");
  }

  @Test
  void encode_unpairedSurrogate_fails() {
    assertThatThrownBy(() -> EncryptionContextEncoder.encode(Map.of("k", "\uD800")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("\uD800");
  }

  @Test
  void encode_nullValue_fails() {
    Map<String, String> m = new HashMap<>();
    m.put("k", null);
    assertThatThrownBy(() -> EncryptionContextEncoder.encode(m))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aad_isHeaderThenEncodedContext() {
    byte[] header = CiphertextBlobTest.example().header();
    byte[] aad = EncryptionContextEncoder.aad(header, Map.of("department", "10", "app", "db"));
    assertThat(hex(aad)).isEqualTo(hex(header) + DOC_EXAMPLE_HEX);
    assertThat(EncryptionContextEncoder.aad(header, Map.of())).hasSize(header.length + 4);
  }
}
