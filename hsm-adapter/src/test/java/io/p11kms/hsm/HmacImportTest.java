package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A known secret imported as an HMAC key: it comes back only wrapped under the HMAC domain key, the
 * token's HMAC under it is the JDK's HMAC under the same bytes, and no object stays on the token.
 */
class HmacImportTest {
  private static SoftHsmTestToken token;
  private static Pkcs11Hsm hsm;
  private int objectsBefore;

  @BeforeAll
  static void open() {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
  }

  @AfterAll
  static void close() {
    if (hsm != null) {
      hsm.close();
    }
    if (token != null) {
      token.close();
    }
  }

  @BeforeEach
  void countObjects() {
    objectsBefore = hsm.visibleObjectCount();
  }

  @AfterEach
  void noObjectLeft() {
    assertThat(hsm.visibleObjectCount()).as("objects on the token").isEqualTo(objectsBefore);
  }

  @Test
  void importedKey_isWrappedUnderTheHmacDomainKey_andMacsAsTheJdk() throws Exception {
    // A SigV4 secret key: "AWS4" and a 44-character secret, 48 bytes, HMAC over a date.
    byte[] value =
        "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY01234".getBytes(StandardCharsets.US_ASCII);
    byte[] date = "20261206".getBytes(StandardCharsets.US_ASCII);

    WrappedKey ekt = hsm.importHmacKey(value);

    assertThat(ekt.role()).isEqualTo(DomainKeyRole.HMAC);
    assertThat(ekt.wrapMechanism()).isEqualTo(WrapMechanism.AES_KEY_WRAP_PAD);
    Mac jdk = Mac.getInstance("HmacSHA256");
    jdk.init(new SecretKeySpec(value, "HmacSHA256"));
    assertThat(hsm.generateMac(ekt, HmacType.HMAC_SHA256, date)).isEqualTo(jdk.doFinal(date));
  }

  @Test
  void lengthNotAMultipleOfEight_importsToo() throws Exception {
    byte[] value =
        "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".getBytes(StandardCharsets.US_ASCII);
    assertThat(value.length % 8).isNotZero();

    WrappedKey ekt = hsm.importHmacKey(value);

    Mac jdk = Mac.getInstance("HmacSHA256");
    jdk.init(new SecretKeySpec(value, "HmacSHA256"));
    byte[] message = "m".getBytes(StandardCharsets.US_ASCII);
    assertThat(hsm.generateMac(ekt, HmacType.HMAC_SHA256, message)).isEqualTo(jdk.doFinal(message));
  }

  @Test
  void tooShortOrMissing_isRefusedBeforeAnyTokenCall() {
    assertThatThrownBy(() -> hsm.importHmacKey(new byte[15]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("an imported HMAC key is 16 to 128 bytes");
    assertThatThrownBy(() -> hsm.importHmacKey(null)).isInstanceOf(IllegalArgumentException.class);
  }
}
