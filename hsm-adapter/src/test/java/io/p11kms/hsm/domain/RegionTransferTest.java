package io.p11kms.hsm.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.AttackerSession;
import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.HsmDecryptionFailedException;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.RegionNotPeeredException;
import io.p11kms.hsm.RegionWrappedKey;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.keys.WrappingKeyTemplates;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;

/**
 * Two regions: two tokens with different domain keys (seen by one JVM, same token directory). A
 * backing key of region A goes to region B only wrapped under B's transport key, which A's SO
 * trusted after checking its fingerprint, and what A encrypted B decrypts; nothing is left on
 * either token, and the trusted key can carry nothing but a backing key.
 */
class RegionTransferTest {
  private static final String REGION_B = "region-b";
  private static final byte[] AAD = "aad".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PLAINTEXT = "made in region A".getBytes(StandardCharsets.UTF_8);

  private static SoftHsmTestToken a;
  private static SoftHsmTestToken b;
  private static Pkcs11Hsm hsmA;
  private static Pkcs11Hsm hsmB;
  private static TransportKey transportB;
  private int objectsA;
  private int objectsB;

  @BeforeAll
  static void regions() {
    a = SoftHsmTestToken.create();
    b = SoftHsmTestToken.createBeside(a);
    char[] pin = b.soPin();
    try {
      DomainKeyCeremony.createDomainKey(b.modulePath(), b.label(), pin, 1);
    } finally {
      Arrays.fill(pin, '\0');
    }
    hsmB = Pkcs11Hsm.open(b.hsmConfig());
    transportB = hsmB.regionTransportKey();
    // A's SO works before A's server logs in (a process is logged in as one user at a time).
    assertThat(trust(REGION_B, transportB, transportB.fingerprint())).isTrue();
    assertThat(trust(REGION_B, transportB, transportB.fingerprint())).isFalse();
    TransportKey other = softwareKey();
    assertThatThrownBy(() -> trust("region-c", other, transportB.fingerprint()))
        .isInstanceOf(HsmException.class)
        .hasMessageContaining("swapped on the way");
    assertThatThrownBy(() -> trust("region-c", other, " "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> trust(REGION_B, other, other.fingerprint()))
        .hasMessageContaining("untrust first");
    assertThatThrownBy(() -> trust("Region C", other, other.fingerprint()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(RegionPeering.list(a.modulePath(), a.label()))
        .containsExactly(new RegionPeering.Peer(REGION_B, transportB.fingerprint()));
    hsmA = Pkcs11Hsm.open(a.hsmConfig());
    hsmA.regionTransportKey();
  }

  private static TransportKey softwareKey() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      RSAPublicKey key = (RSAPublicKey) generator.generateKeyPair().getPublic();
      return new TransportKey(
          key.getModulus().toByteArray(), key.getPublicExponent().toByteArray());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterAll
  static void close() {
    if (hsmB != null) {
      hsmB.close();
    }
    if (hsmA != null) {
      hsmA.close();
    }
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
  }

  private static boolean trust(String region, TransportKey key, String fingerprint) {
    char[] pin = a.soPin();
    try {
      return RegionPeering.trust(a.modulePath(), a.label(), pin, region, key, fingerprint);
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  @BeforeEach
  void countObjects() {
    hsmA.evictCachedBackingKeys();
    hsmB.evictCachedBackingKeys();
    objectsA = hsmA.visibleObjectCount();
    objectsB = hsmB.visibleObjectCount();
  }

  private void nothingLeft() {
    hsmA.evictCachedBackingKeys();
    hsmB.evictCachedBackingKeys();
    assertThat(hsmA.visibleObjectCount()).isEqualTo(objectsA);
    assertThat(hsmB.visibleObjectCount()).isEqualTo(objectsB);
  }

  private static byte[] encrypt(Hsm hsm, WrappedKey key, byte[] iv) {
    return hsm.encrypt(key, Derivation.NONE_AES_GCM, new byte[Hsm.SALT_LENGTH], iv, AAD, PLAINTEXT);
  }

  private static byte[] decrypt(Hsm hsm, WrappedKey key, byte[] iv, byte[] ciphertext) {
    return hsm.decrypt(
        key, Derivation.NONE_AES_GCM, new byte[Hsm.SALT_LENGTH], iv, AAD, ciphertext);
  }

  @Test
  void aBackingKeySentToThePeer_decryptsThereWhatItEncryptedHere_andBack() {
    WrappedKey ekt = hsmA.generateBackingKey();
    byte[] iv = hsmA.generateRandom(Hsm.IV_LENGTH);
    byte[] ciphertext = encrypt(hsmA, ekt, iv);

    RegionWrappedKey sent = hsmA.wrapForRegion(REGION_B, ekt);
    assertThat(sent.transportFingerprint()).isEqualTo(transportB.fingerprint());
    WrappedKey replica = hsmB.receiveFromRegion(sent);

    assertThat(replica.ekt()).isNotEqualTo(ekt.ekt());
    assertThat(decrypt(hsmB, replica, iv, ciphertext)).isEqualTo(PLAINTEXT);
    byte[] iv2 = hsmB.generateRandom(Hsm.IV_LENGTH);
    assertThat(decrypt(hsmA, ekt, iv2, encrypt(hsmB, replica, iv2))).isEqualTo(PLAINTEXT);
    // B's EKT means nothing on A: the domain keys differ.
    assertThatThrownBy(() -> decrypt(hsmA, replica, iv, ciphertext))
        .isInstanceOf(HsmException.class);
    nothingLeft();
  }

  @Test
  void theTransportKey_isMadeOnce() {
    assertThat(hsmB.regionTransportKey().fingerprint()).isEqualTo(transportB.fingerprint());
    nothingLeft();
  }

  @Test
  void aRegionNotTrusted_getsNothing() {
    WrappedKey ekt = hsmA.generateBackingKey();
    assertThatThrownBy(() -> hsmA.wrapForRegion("region-c", ekt))
        .isInstanceOf(RegionNotPeeredException.class)
        .hasMessageContaining("region-c");
    nothingLeft();
  }

  @Test
  void alteredBytes_doNotUnwrap_andLeaveNothing() {
    RegionWrappedKey sent = hsmA.wrapForRegion(REGION_B, hsmA.generateBackingKey());
    byte[] altered = sent.wrapped();
    altered[altered.length / 2] ^= 1;
    assertThatThrownBy(
            () ->
                hsmB.receiveFromRegion(
                    new RegionWrappedKey(sent.transportFingerprint(), sent.oaepHash(), altered)))
        .isInstanceOf(HsmDecryptionFailedException.class);
    assertThatThrownBy(
            () ->
                hsmA.receiveFromRegion(
                    new RegionWrappedKey(sent.transportFingerprint(), sent.oaepHash(), altered)))
        .isInstanceOf(RegionNotPeeredException.class)
        .hasMessageContaining("not for this token's");
    nothingLeft();
  }

  @Test
  void theTrustedPeerKey_cannotWrapADomainKey_evenForTheUser() throws Exception {
    try (AttackerSession attacker = AttackerSession.open(a.hsmConfig())) {
      long[] peer =
          attacker
              .session()
              .findObjectsSingle(
                  WrappingKeyTemplates.trustedPublicKeyByLabel(RegionTransfers.peerLabel(REGION_B)),
                  2);
      assertThat(peer).hasSize(1);
      for (long domainKey : attacker.domainKeys()) {
        assertThatThrownBy(
                () -> attacker.session().wrapKey(DomainJoin.oaep("SHA-1"), peer[0], domainKey))
            .isInstanceOf(PKCS11Exception.class);
      }
    }
    nothingLeft();
  }

  @Test
  void theTransportKey_unwrapsOnlyIntoASensitiveBackingKey() throws Exception {
    RegionWrappedKey sent = hsmA.wrapForRegion(REGION_B, hsmA.generateBackingKey());
    try (AttackerSession attacker = AttackerSession.open(b.hsmConfig())) {
      long[] transport =
          attacker
              .session()
              .findObjectsSingle(
                  WrappingKeyTemplates.importWrappingKeyByLabel(RegionTransfers.TRANSPORT_LABEL),
                  2);
      assertThat(transport).hasSize(1);
      AttributeVector readable =
          AttributeVector.newAESSecretKey()
              .token(false)
              .sensitive(false)
              .extractable(true)
              .encrypt(true)
              .decrypt(true);
      assertThatThrownBy(
              () ->
                  attacker
                      .session()
                      .unwrapKey(DomainJoin.oaep("SHA-1"), transport[0], sent.wrapped(), readable))
          .isInstanceOf(PKCS11Exception.class);
      AttributeVector attributes =
          attacker
              .session()
              .getAttrValues(
                  transport[0],
                  PKCS11Constants.CKA_EXTRACTABLE,
                  PKCS11Constants.CKA_SENSITIVE,
                  PKCS11Constants.CKA_DECRYPT,
                  PKCS11Constants.CKA_SIGN);
      assertThat(attributes.extractable()).isFalse();
      assertThat(attributes.sensitive()).isTrue();
      assertThat(attributes.decrypt()).isFalse();
      assertThat(attributes.sign()).isFalse();
    }
    nothingLeft();
  }
}
