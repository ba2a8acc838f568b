package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.diagnostics.TokenDoctor;
import io.p11kms.hsm.diagnostics.TokenReport;
import io.p11kms.hsm.domain.DomainJoin;
import io.p11kms.hsm.domain.DomainKeyAttributes;
import io.p11kms.hsm.domain.DomainKeyBundle;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.domain.TemplateText;
import io.p11kms.hsm.domain.TransportKey;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.session.Pkcs11Modules;
import io.p11kms.hsm.session.TokenFinder;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The domain-join ceremony between two SoftHSM2 tokens seen by one JVM (same token directory): the
 * join, then what the join must give. The refused bundles are in {@link DomainJoinTamperTest}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DomainJoinTest {
  private static final byte[] AAD = "aad".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PLAINTEXT = "made on the source".getBytes(StandardCharsets.UTF_8);

  private static SoftHsmTestToken source;
  private static SoftHsmTestToken target;

  @BeforeAll
  static void tokens() {
    source = SoftHsmTestToken.create();
    char[] soPin = source.soPin();
    try {
      DomainKeyCeremony.createNextDomainKey(source.modulePath(), source.label(), soPin);
    } finally {
      Arrays.fill(soPin, '\0');
    }
    target = SoftHsmTestToken.createBeside(source);
  }

  @AfterAll
  static void close() {
    if (target != null) {
      target.close();
    }
    if (source != null) {
      source.close();
    }
  }

  private static TransportKey begin() {
    char[] pin = target.soPin();
    try {
      return DomainJoin.begin(target.modulePath(), target.label(), pin);
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  private static DomainKeyBundle export(TransportKey key) {
    char[] pin = source.soPin();
    try {
      return DomainJoin.export(
          source.modulePath(), source.label(), pin, key, key.fingerprint(), false);
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  private static List<DomainJoin.Joined> finish(DomainKeyBundle bundle) {
    char[] pin = target.soPin();
    try {
      return DomainJoin.finish(
          target.modulePath(), target.label(), pin, bundle, bundle.fingerprint());
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  private static int transportKeys() {
    char[] pin = target.soPin();
    try {
      // abort() reports whether it found a transport key; only call it where one must go anyway.
      return DomainJoin.abort(target.modulePath(), target.label(), pin) ? 1 : 0;
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  @Test
  @Order(1)
  void join_copiesEveryDomainKeyWithTheSameAttributes() {
    TransportKey key = begin();
    assertThatThrownBy(this::beginAgain).hasMessageContaining("already under way");
    DomainKeyBundle bundle = export(key);
    assertThat(bundle.transportFingerprint()).isEqualTo(key.fingerprint());
    // SoftHSM2 2.6.1 refuses OAEP with SHA-256 (CKR_ARGUMENTS_BAD); a token that has it gets it.
    assertThat(bundle.oaepHash()).isEqualTo("SHA-1");

    List<DomainJoin.Joined> joined = finish(bundle);

    // Every kind of domain key goes, generation by generation.
    List<DomainJoin.Joined> expected = new ArrayList<>();
    for (int generation = 1; generation <= 2; generation++) {
      for (DomainKeyRole role : DomainKeyRole.values()) {
        expected.add(new DomainJoin.Joined(role.label(generation), false));
      }
    }
    assertThat(joined).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(joined.get(0).label()).isEqualTo("domain-key/1");
    assertThat(joined.get(joined.size() - 1).label()).endsWith("/2");
    List<DomainKeyAttributes> onSource = DomainJoin.list(source.modulePath(), source.label());
    List<DomainKeyAttributes> onTarget = DomainJoin.list(target.modulePath(), target.label());
    assertThat(onTarget).hasSize(expected.size()).isEqualTo(onSource);
    for (DomainKeyAttributes a : onTarget) {
      // Each copy has exactly what the ceremony's template for its kind gives.
      assertThat(a).isEqualTo(DomainKeyAttributes.required(a.label(), true).orElseThrow());
      assertThat(TemplateText.split(a.text()))
          .contains("CKA_TRUSTED=true", "CKA_SENSITIVE=true", "CKA_WRAP_WITH_TRUSTED=true")
          .contains("CKA_DECRYPT=false", "CKA_ENCRYPT=false", "CKA_MODIFIABLE=false")
          .anyMatch(p -> p.startsWith("CKA_WRAP_TEMPLATE={CKA_"))
          .anyMatch(p -> p.startsWith("CKA_UNWRAP_TEMPLATE={CKA_"));
    }
    assertThat(onTarget.get(0).label()).isEqualTo("domain-key/1");
    assertThat(transportKeys()).isZero();
  }

  private void beginAgain() {
    begin();
  }

  @Test
  @Order(2)
  void afterJoin_anEktMadeOnTheSourceDecryptsOnTheTarget_underEachGeneration() {
    byte[] salt;
    byte[] iv;
    WrappedKey underTwo;
    WrappedKey underOne;
    byte[] ciphertext;
    try (Pkcs11Hsm a = Pkcs11Hsm.open(source.hsmConfig())) {
      underTwo = a.generateBackingKey();
      salt = a.generateRandom(Hsm.SALT_LENGTH);
      iv = a.generateRandom(Hsm.IV_LENGTH);
      ciphertext = a.encrypt(underTwo, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
      underOne = a.rewrap(underTwo, 1);
    }
    assertThat(underTwo.domainKeyGeneration()).isEqualTo(2);
    try (Pkcs11Hsm b = Pkcs11Hsm.open(target.hsmConfig())) {
      assertThat(b.currentDomainKeyGeneration()).isEqualTo(2);
      assertThat(b.decrypt(underTwo, Derivation.NONE_AES_GCM, salt, iv, AAD, ciphertext))
          .isEqualTo(PLAINTEXT);
      // The same HBK wrapped under generation 1 on the source: generation 1 was copied too.
      assertThat(b.decrypt(underOne, Derivation.NONE_AES_GCM, salt, iv, AAD, ciphertext))
          .isEqualTo(PLAINTEXT);
    }
  }

  @Test
  @Order(3)
  void joinAgain_provesTheKeysAlreadyThere_andAddsNone() {
    List<DomainJoin.Joined> joined = finish(export(begin()));

    int keys = 2 * DomainKeyRole.values().length;
    assertThat(joined).hasSize(keys).allMatch(DomainJoin.Joined::alreadyPresent);
    assertThat(DomainJoin.list(target.modulePath(), target.label())).hasSize(keys);
  }

  @Test
  @Order(4)
  void tokenWithAnUnextractableDomainKey_serves_butIsNoJoinSource() throws Exception {
    SoftHsmTestToken old = SoftHsmTestToken.createBeside(source);
    try {
      // A domain key as the ceremony made them before domain join existed.
      char[] pin = old.soPin();
      PKCS11Module module = Pkcs11Modules.acquire(old.modulePath());
      try {
        Session session = TokenFinder.byLabel(module, old.label()).openSession(true);
        session.login(PKCS11Constants.CKU_SO, pin);
        session.generateKey(
            new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
            KeyTemplates.domainKey(1).extractable(false).wrapWithTrusted(false));
        session.logout();
        session.closeSession();
      } finally {
        Pkcs11Modules.release(old.modulePath());
        Arrays.fill(pin, '\0');
      }
      byte[] modulus = new byte[384];
      Arrays.fill(modulus, (byte) 0x5a);
      TransportKey anyKey = new TransportKey(modulus, new byte[] {1, 0, 1});

      char[] soPin = old.soPin();
      try {
        assertThatThrownBy(
                () ->
                    DomainJoin.export(
                        old.modulePath(), old.label(), soPin, anyKey, anyKey.fingerprint(), false))
            .isInstanceOf(HsmException.class)
            .hasMessageContaining("[domain-key/1]")
            .hasMessageContaining("not extractable (made before domain join existed)");
      } finally {
        Arrays.fill(soPin, '\0');
      }
      TokenReport report = TokenDoctor.inspect(old.hsmConfig());
      assertThat(report.checks())
          .anySatisfy(
              check -> {
                assertThat(check.name()).isEqualTo("domain-key/1");
                assertThat(check.ok()).isTrue();
                assertThat(check.detail()).contains("cannot be the source of a domain join");
              });
    } finally {
      old.close();
    }
  }
}
