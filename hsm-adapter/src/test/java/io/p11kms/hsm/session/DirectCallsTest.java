package io.p11kms.hsm.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.jna.Library;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.SmallSeals;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.keys.BackingKeyUse;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.testing.NssTestToken;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.attrs.Attribute;
import org.xipki.pkcs11.wrapper.params.GCM_PARAMS;

/**
 * The calls {@link DirectCalls} makes straight into SoftHSM2 do what the wrapper's do: the same
 * functions of the same library instance, the unwrapped object the template describes, the same
 * AES-GCM results, the same error codes.
 */
class DirectCallsTest {
  private static final DirectCalls.Template HBK =
      new DirectCalls.Template(KeyTemplates.unwrappedBackingKey(BackingKeyUse.AES_GCM));
  private static final byte[] IV = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  private static final byte[] AAD = {9, 8, 7};
  private static final byte[] PLAINTEXT = {42, 43, 44, 45, 46};

  private static SoftHsmTestToken token;
  private static Pkcs11Hsm hsm;
  private static WrappedKey backingKey;

  @BeforeAll
  static void openToken() {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
    backingKey = hsm.generateBackingKey();
  }

  @AfterAll
  static void closeToken() {
    if (hsm != null) {
      hsm.close();
    }
    if (token != null) {
      token.close();
    }
  }

  @Test
  void functions_areTheLibrarysOwn_atTheirPlacesInItsFunctionList() throws Exception {
    hsm.withSessionForTest(
        session -> {
          DirectCalls.LoadedLibrary library = DirectCalls.libraryOf(session);
          assertThat(library).as("SoftHSM2 on Linux is called directly").isNotNull();
          // SoftHSM2 exports each function under its PKCS#11 name as well.
          NativeLibrary softhsm = alreadyLoaded(token.modulePath().toString());
          assertThat(address(library.unwrapKey))
              .isEqualTo(address(softhsm.getFunction("C_UnwrapKey")));
          assertThat(address(library.encryptInit))
              .isEqualTo(address(softhsm.getFunction("C_EncryptInit")));
          assertThat(address(library.decryptInit))
              .isEqualTo(address(softhsm.getFunction("C_DecryptInit")));
          return null;
        });
  }

  @Test
  void unwrapKey_makesAnObjectWithEveryAttributeOfTheTemplate() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          long hbk =
              DirectCalls.unwrapKey(
                  session, PKCS11Constants.CKM_AES_KEY_WRAP, domainKey, backingKey.ekt(), HBK);
          try {
            AttributeVector template = HBK.attributes();
            long[] types = template.snapshot().stream().mapToLong(Attribute::getType).toArray();
            assertThat(types).hasSize(15);
            AttributeVector actual = session.getAttrValues(hbk, types);
            for (Attribute expected : template.snapshot()) {
              if (expected.getType() == PKCS11Constants.CKA_ALLOWED_MECHANISMS) {
                continue; // the wrapper cannot read it back; checked by use below
              }
              Object value = actual.getAttribute(expected.getType()).getValue();
              assertThat(Objects.deepEquals(value, expected.getValue()))
                  .as("%s", PKCS11Constants.ckaCodeToName(expected.getType()))
                  .isTrue();
            }
            assertThat(session.getAttrValues(hbk, PKCS11Constants.CKA_TOKEN).token())
                .as("a session object")
                .isFalse();
            // ALLOWED_MECHANISMS {CKM_AES_GCM}: AES-ECB refused as on an HBK the wrapper unwraps.
            long wrapped =
                session.unwrapKey(
                    new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP),
                    domainKey,
                    backingKey.ekt(),
                    HBK.attributes());
            try {
              long direct = codeOf(() -> ecbInit(session, hbk));
              assertThat(direct).isNotZero().isEqualTo(codeOf(() -> ecbInit(session, wrapped)));
            } finally {
              session.destroyObject(wrapped);
            }
          } finally {
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  @Test
  void unwrapKey_failsWithTheWrappersErrorCode() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          byte[] tampered = backingKey.ekt().clone();
          tampered[3] ^= 1;
          long direct =
              codeOf(
                  () ->
                      DirectCalls.unwrapKey(
                          session, PKCS11Constants.CKM_AES_KEY_WRAP, domainKey, tampered, HBK));
          long wrapper =
              codeOf(
                  () ->
                      session.unwrapKey(
                          new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP),
                          domainKey,
                          tampered,
                          HBK.attributes()));
          assertThat(direct).isNotZero().isEqualTo(wrapper);
          long noKey =
              codeOf(
                  () ->
                      DirectCalls.unwrapKey(
                          session,
                          PKCS11Constants.CKM_AES_KEY_WRAP,
                          0x7fff_fff0L,
                          backingKey.ekt(),
                          HBK));
          assertThat(noKey).isEqualTo(PKCS11Constants.CKR_UNWRAPPING_KEY_HANDLE_INVALID);
          return null;
        });
  }

  @Test
  void gcm_encryptsAndDecryptsAsTheWrapperDoes() throws Exception {
    hsm.withSessionForTest(
        session -> {
          long domainKey = hsm.domainKeyHandleForTest(session, 1);
          long hbk =
              DirectCalls.unwrapKey(
                  session, PKCS11Constants.CKM_AES_KEY_WRAP, domainKey, backingKey.ekt(), HBK);
          try {
            // Small AADs go in the thread's kept block (reused call after call), one of 5,000
            // bytes in a block made for its call.
            byte[] large = new byte[5000];
            Arrays.fill(large, (byte) 7);
            for (byte[] aad : new byte[][] {AAD, new byte[0], large, AAD}) {
              byte[] expected = session.encryptSingle(gcm(aad), hbk, PLAINTEXT);
              DirectCalls.encryptInitGcm(session, hbk, IV, aad, 128);
              byte[] sealed = session.encrypt(PLAINTEXT);
              assertThat(sealed).isEqualTo(expected);
              DirectCalls.decryptInitGcm(session, hbk, IV, aad, 128);
              assertThat(session.decrypt(sealed)).isEqualTo(PLAINTEXT);
            }
            byte[] sealed = session.encryptSingle(gcm(AAD), hbk, PLAINTEXT);
            sealed[0] ^= 1;
            long wrapper = codeOf(() -> session.decryptSingle(gcm(AAD), hbk, sealed));
            long direct =
                codeOf(
                    () -> {
                      DirectCalls.decryptInitGcm(session, hbk, IV, AAD, 128);
                      return session.decrypt(sealed);
                    });
            assertThat(direct).isNotZero().isEqualTo(wrapper);
            long noKey =
                codeOf(
                    () -> {
                      DirectCalls.encryptInitGcm(session, 0x7fff_fff0L, IV, AAD, 128);
                      return null;
                    });
            long wrapperNoKey =
                codeOf(
                    () -> {
                      session.encryptInit(gcm(AAD), 0x7fff_fff0L);
                      return null;
                    });
            assertThat(noKey).isNotZero().isEqualTo(wrapperNoKey);
          } finally {
            session.destroyObject(hbk);
          }
          return null;
        });
  }

  @Test
  void onAStandbyCopy_theCallsGoToTheCopy_notToTheInstanceLoadedFirst() throws Exception {
    long primaryUnwrap =
        address(alreadyLoaded(token.modulePath().toString()).getFunction("C_UnwrapKey"));
    try (Pkcs11Hsm recycled = Pkcs11Hsm.open(token.hsmConfig().withLibraryRecycle(1_000))) {
      WrappedKey key = recycled.generateBackingKey();
      byte[][] sealed = SmallSeals.encrypt(recycled, key, 1_000);
      assertThat(recycled.isHealthy()).isTrue();
      assertThat(recycled.libraryRecycles()).isEqualTo(1);
      recycled.withSessionForTest(
          session -> {
            DirectCalls.LoadedLibrary copy = DirectCalls.libraryOf(session);
            assertThat(copy).isNotNull();
            assertThat(address(copy.unwrapKey)).isNotEqualTo(primaryUnwrap);
            long domainKey = recycled.domainKeyHandleForTest(session, 1);
            long hbk =
                DirectCalls.unwrapKey(
                    session, PKCS11Constants.CKM_AES_KEY_WRAP, domainKey, key.ekt(), HBK);
            try {
              assertThat(session.getAttrValues(hbk, PKCS11Constants.CKA_SENSITIVE).sensitive())
                  .isTrue();
            } finally {
              session.destroyObject(hbk);
            }
            return null;
          });
      assertThat(SmallSeals.decrypt(recycled, key, sealed)).containsExactly(7, 8);
    }
  }

  @Test
  void nssSoftoken_isCalledDirectly_andRoundTrips() throws Exception {
    try (NssTestToken nss = NssTestToken.create();
        Pkcs11Hsm onNss = Pkcs11Hsm.open(nss.hsmConfig().withCache(0, Duration.ofMinutes(1)))) {
      onNss.withSessionForTest(
          session -> {
            assertThat(DirectCalls.libraryOf(session)).isNotNull();
            return null;
          });
      WrappedKey key = onNss.generateBackingKey();
      byte[][] sealed = SmallSeals.encrypt(onNss, key, 3);
      assertThat(SmallSeals.decrypt(onNss, key, sealed)).containsExactly(7, 8);
    }
  }

  private static NativeLibrary alreadyLoaded(String path) {
    return NativeLibrary.getInstance(
        path, Map.of(Library.OPTION_OPEN_FLAGS, DirectCalls.ALREADY_LOADED));
  }

  private static long address(Pointer function) {
    return Pointer.nativeValue(function);
  }

  private static Object ecbInit(Session session, long key) throws PKCS11Exception {
    session.encryptInit(new Mechanism(PKCS11Constants.CKM_AES_ECB), key);
    return null;
  }

  private static Mechanism gcm(byte[] aad) {
    return new Mechanism(PKCS11Constants.CKM_AES_GCM, new GCM_PARAMS(IV, aad, 128));
  }

  private interface Call {
    Object run() throws PKCS11Exception;
  }

  private static long codeOf(Call call) {
    PKCS11Exception e = catchThrowableOfType(PKCS11Exception.class, call::run);
    return e == null ? 0 : e.getErrorCode();
  }
}
