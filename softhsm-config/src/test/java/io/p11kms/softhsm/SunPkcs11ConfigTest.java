package io.p11kms.softhsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import java.util.Collections;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The committed SunPKCS11 configuration works: the JDK's own PKCS#11 provider logs in to a fresh
 * SoftHSM2 token with it and sees the domain key the ceremony made.
 */
class SunPkcs11ConfigTest {
  private static final Path COMMITTED_CONFIG = Paths.get("sunpkcs11-softhsm2.cfg");

  private static SoftHsmTestToken token;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void deleteToken() {
    if (token != null) {
      token.close();
    }
  }

  @Test
  void committedConfig_logsInAndListsTheDomainKey() throws Exception {
    Path config = adaptedConfig();
    Provider provider = Security.getProvider("SunPKCS11").configure(config.toString());
    char[] pin = readPin();
    try {
      KeyStore keyStore = KeyStore.getInstance("PKCS11", provider);
      keyStore.load(null, pin);
      assertThat(Collections.list(keyStore.aliases())).contains("domain-key/1");
      assertThat(keyStore.isKeyEntry("domain-key/1")).isTrue();
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  /**
   * The committed file, with the library path swapped for {@code $P11KMS_PKCS11_MODULE} where that
   * is set; the slot selection is used as committed.
   */
  private static Path adaptedConfig() throws Exception {
    String committed = Files.readString(COMMITTED_CONFIG, StandardCharsets.UTF_8);
    assertThat(committed).contains("library = /usr/lib/softhsm/libsofthsm2.so");
    String adapted =
        committed.replace(
            "library = /usr/lib/softhsm/libsofthsm2.so", "library = " + token.modulePath());
    Path file = Files.createTempFile("sunpkcs11-", ".cfg");
    file.toFile().deleteOnExit();
    Files.writeString(file, adapted, StandardCharsets.UTF_8);
    return file;
  }

  private static char[] readPin() throws Exception {
    byte[] bytes = Files.readAllBytes(token.userPinFile());
    try {
      return new String(bytes, StandardCharsets.UTF_8).trim().toCharArray();
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }
}
