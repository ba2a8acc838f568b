package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.diagnostics.TokenDoctor;
import io.p11kms.hsm.diagnostics.TokenReport;
import io.p11kms.hsm.session.Pkcs11Modules;
import io.p11kms.hsm.session.TokenFinder;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;

class TokenDoctorTest {
  private static SoftHsmTestToken token;

  @BeforeAll
  static void createToken() {
    token = SoftHsmTestToken.create();
  }

  @AfterAll
  static void closeToken() {
    token.close();
  }

  private static TokenReport.Check check(TokenReport report, String name) {
    return report.checks().stream()
        .filter(c -> c.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no check " + name + " in " + report.checks()));
  }

  @Test
  void inspect_initialisedSoftHsmToken_passesEveryCheck() {
    TokenReport report = TokenDoctor.inspect(token.hsmConfig());

    assertThat(report.checks()).allMatch(TokenReport.Check::ok);
    assertThat(report.ok()).isTrue();
    assertThat(report.derivation()).isEqualTo(Derivation.NONE_AES_GCM);
    assertThat(report.mechanismsFound()).contains("CKM_AES_GCM", "CKM_AES_KEY_WRAP");
    assertThat(check(report, "domain-key/1").detail()).isEqualTo("attributes as required");
    assertThat(check(report, "domain-key-asym/1").detail()).isEqualTo("attributes as required");
    assertThat(check(report, "login").ok()).isTrue();
  }

  @Test
  void inspect_wrongPin_failsLogin() throws Exception {
    Path pin = Files.createTempFile("p11kms-wrong-pin", ".txt");
    Files.writeString(pin, "not-the-pin");
    try {
      HsmConfig config = new HsmConfig(token.modulePath(), token.label(), PinSource.fromFile(pin));
      TokenReport report = TokenDoctor.inspect(config);

      assertThat(report.ok()).isFalse();
      assertThat(check(report, "login").ok()).isFalse();
      assertThat(check(report, "login").detail()).contains("CKR_PIN_INCORRECT");
      assertThat(report.toString()).doesNotContain("not-the-pin");
    } finally {
      Files.delete(pin);
    }
  }

  @Test
  void inspect_unknownLabel_failsTokenCheck() {
    HsmConfig config =
        new HsmConfig(token.modulePath(), "no-such-token", PinSource.fromFile(token.userPinFile()));
    TokenReport report = TokenDoctor.inspect(config);

    assertThat(report.ok()).isFalse();
    assertThat(check(report, "token").detail()).contains("no-such-token");
  }

  @Test
  void inspect_domainKeyWithWeakAttributes_namesEachWrongAttribute() throws Exception {
    // A user-made "domain-key/2": not TRUSTED, can ENCRYPT, modifiable.
    PKCS11Module module = Pkcs11Modules.acquire(token.modulePath());
    try {
      Session session = TokenFinder.byLabel(module, token.label()).openSession(true);
      char[] pin = PinSource.fromFile(token.userPinFile()).read();
      session.login(PKCS11Constants.CKU_USER, pin);
      long weakKey =
          session.generateKey(
              new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
              AttributeVector.newAESSecretKey()
                  .valueLen(32)
                  .label("domain-key/2")
                  .token(true)
                  .private_(false)
                  .sensitive(true)
                  .extractable(false)
                  .wrap(true)
                  .unwrap(true)
                  .encrypt(true)
                  .decrypt(false)
                  .sign(false)
                  .modifiable(true));
      java.util.Arrays.fill(pin, '\0');
      try {
        TokenReport report = TokenDoctor.inspect(token.hsmConfig());

        assertThat(report.ok()).isFalse();
        assertThat(check(report, "domain-key/1").ok()).isTrue();
        TokenReport.Check weak = check(report, "domain-key/2");
        assertThat(weak.ok()).isFalse();
        assertThat(weak.detail()).contains("CKA_TRUSTED", "CKA_ENCRYPT", "CKA_MODIFIABLE");
        assertThat(weak.detail()).doesNotContain("CKA_SENSITIVE", "CKA_WRAP=");
      } finally {
        // Other tests of this class expect a clean token.
        session.destroyObject(weakKey);
        session.logout();
        session.closeSession();
      }
    } finally {
      Pkcs11Modules.release(token.modulePath());
    }
  }
}
