package io.p11kms.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.diagnostics.TokenCapabilities;
import io.p11kms.hsm.diagnostics.TokenDoctor;
import io.p11kms.hsm.diagnostics.TokenReport;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.keys.BackingKeyUse;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.keys.PrivateData;
import io.p11kms.hsm.session.Pkcs11Errors;
import io.p11kms.hsm.testing.TestToken;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The token contract: what the adapter must do on every PKCS#11 token it runs on, run against each
 * implementation by a subclass that makes a throwaway token of its kind. Where tokens differ, the
 * adapter probes ({@link TokenCapabilities}) and the suite checks that the probe tells the truth:
 * an attack replay succeeds on a token exactly when the probe says the token does not enforce
 * custody, and such a token is refused unless the configuration allows it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class TokenContract {
  private static final byte[] AAD = "header|context".getBytes();
  private static final byte[] PLAINTEXT = "a small secret, 33 bytes of it..".getBytes();

  private TestToken token;
  private Pkcs11Hsm hsm;

  /** A fresh token of this kind with the domain keys of generation 1. */
  abstract TestToken newToken();

  /** What the adapter must find on this kind of token (measured, see docs/hsm). */
  abstract TokenCapabilities expectedCapabilities();

  /** Makes the domain keys of {@code generation} on {@code token}, as its ceremony does. */
  abstract void addDomainKeyGeneration(TestToken token, int generation);

  /**
   * Whether the backing keys the adapter caches are public session objects on this kind of token
   * (SoftHSM2: yes; any other: private, as the adapter knows no other token's public session keys).
   */
  abstract boolean expectedPublicCachedKeys();

  /** The key pair types the adapter must offer on this kind of token. */
  abstract java.util.Set<KeyPairType> expectedKeyPairTypes();

  @BeforeAll
  void open() {
    token = newToken();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
  }

  @AfterAll
  void close() {
    if (hsm != null) {
      hsm.close();
    }
    if (token != null) {
      token.close();
    }
  }

  @Test
  void capabilities_areProbedAsMeasured() {
    assertThat(hsm.capabilities()).isEqualTo(expectedCapabilities());
    assertThat(hsm.capabilities().custodyGaps().isEmpty())
        .isEqualTo(hsm.capabilities().custodyEnforced() && hsm.capabilities().keepsKeyTemplates());
  }

  @Test
  void open_withoutTheAllowance_isRefusedExactlyWhereCustodyIsNotEnforced() {
    HsmConfig strict = token.hsmConfig().withUnenforcedCustody(false);
    if (expectedCapabilities().custodyEnforced()) {
      Pkcs11Hsm.open(strict).close();
    } else {
      assertThatThrownBy(() -> Pkcs11Hsm.open(strict))
          .isInstanceOf(HsmException.class)
          .hasMessageContaining("does not enforce key custody")
          .hasMessageContaining("CKA_WRAP_WITH_TRUSTED");
    }
  }

  @Test
  void encryptDecrypt_roundTrips_andAnyChangeFailsAsTampering() {
    WrappedKey key = hsm.generateBackingKey();
    assertThat(key.domainKeyGeneration()).isEqualTo(hsm.currentDomainKeyGeneration());
    assertThat(key.ekt()).hasSize(40);
    Derivation derivation = hsm.derivationFor(key);
    assertThat(derivation).isEqualTo(Derivation.NONE_AES_GCM);
    byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
    byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
    for (byte[] plaintext : List.of(PLAINTEXT, new byte[0], new byte[4096])) {
      byte[] sealed = hsm.encrypt(key, derivation, salt, iv, AAD, plaintext);
      assertThat(sealed).hasSize(plaintext.length + Hsm.TAG_LENGTH);
      assertThat(hsm.decrypt(key, derivation, salt, iv, AAD, sealed)).isEqualTo(plaintext);
    }
    byte[] sealed = hsm.encrypt(key, derivation, salt, iv, AAD, PLAINTEXT);
    byte[] tampered = sealed.clone();
    tampered[0] ^= 1;
    assertThatThrownBy(() -> hsm.decrypt(key, derivation, salt, iv, AAD, tampered))
        .isInstanceOf(HsmDecryptionFailedException.class);
    byte[] otherAad = "header|other".getBytes();
    assertThatThrownBy(() -> hsm.decrypt(key, derivation, salt, iv, otherAad, sealed))
        .isInstanceOf(HsmDecryptionFailedException.class);
    WrappedKey other = hsm.generateBackingKey();
    assertThatThrownBy(() -> hsm.decrypt(other, derivation, salt, iv, AAD, sealed))
        .isInstanceOf(HsmDecryptionFailedException.class);
  }

  @Test
  void encryptWithTokenIv_takesAFreshIvFromTheToken_andDecryptsWithIt() {
    WrappedKey key = hsm.generateBackingKey();
    byte[] first = hsm.encryptWithTokenIv(key, AAD, PLAINTEXT);
    byte[] second = hsm.encryptWithTokenIv(key, AAD, PLAINTEXT);
    assertThat(first).hasSize(Hsm.IV_LENGTH + PLAINTEXT.length + Hsm.TAG_LENGTH);
    byte[] iv = java.util.Arrays.copyOf(first, Hsm.IV_LENGTH);
    assertThat(iv).isNotEqualTo(java.util.Arrays.copyOf(second, Hsm.IV_LENGTH));
    byte[] sealed = java.util.Arrays.copyOfRange(first, Hsm.IV_LENGTH, first.length);
    byte[] anySalt = new byte[Hsm.SALT_LENGTH];
    assertThat(hsm.decrypt(key, Derivation.NONE_AES_GCM, anySalt, iv, AAD, sealed))
        .isEqualTo(PLAINTEXT);
    byte[] otherAad = "header|other".getBytes();
    assertThatThrownBy(
            () -> hsm.decrypt(key, Derivation.NONE_AES_GCM, anySalt, iv, otherAad, sealed))
        .isInstanceOf(HsmDecryptionFailedException.class);
  }

  @Test
  void aesGcm_matchesTheJdk() throws Exception {
    // The same key on the token and in the JDK cannot be had (the key never leaves the token), so
    // the token's GCM is checked against the JDK's on a throwaway key the test makes readable.
    byte[] keyBytes = hsm.generateRandom(32);
    byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
    byte[] sealed =
        hsm.withSessionForTest(
            session -> {
              long key =
                  session.createObject(
                      AttributeVector.newAESSecretKey()
                          .token(false)
                          .value(keyBytes)
                          .encrypt(true)
                          .decrypt(true));
              try {
                return hsm.capabilities().gcmEncryption().encrypt(session, key, iv, AAD, PLAINTEXT);
              } finally {
                session.destroyObject(key);
              }
            });
    javax.crypto.Cipher jdk = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
    jdk.init(
        javax.crypto.Cipher.ENCRYPT_MODE,
        new javax.crypto.spec.SecretKeySpec(keyBytes, "AES"),
        new javax.crypto.spec.GCMParameterSpec(128, iv));
    jdk.updateAAD(AAD);
    assertThat(sealed).isEqualTo(jdk.doFinal(PLAINTEXT));
  }

  @Test
  void random_signingKeyAndPrivateData_work() throws Exception {
    assertThat(hsm.generateRandom(1024)).hasSize(1024);
    assertThat(hsm.generateRandom(32)).isNotEqualTo(hsm.generateRandom(32));
    String label = "contract-signing-" + System.nanoTime();
    hsm.createSigningKeyIfAbsent(label);
    hsm.createSigningKeyIfAbsent(label);
    byte[] mac = hsm.sign(label, PLAINTEXT);
    assertThat(hsm.verify(label, PLAINTEXT, mac)).isTrue();
    assertThat(hsm.verify(label, AAD, mac)).isFalse();
    String data = "contract-data-" + System.nanoTime();
    hsm.replacePrivateData(data, new byte[] {1, 2, 3});
    hsm.replacePrivateData(data, new byte[] {4, 5});
    assertThat(hsm.readPrivateData(data)).singleElement().isEqualTo(new byte[] {4, 5});
    try (AttackerSession outsider = AttackerSession.open(token.hsmConfig())) {
      outsider.session().logout();
      assertThat(outsider.session().findAllObjectsSingle(PrivateData.byLabel(data))).isEmpty();
      assertThat(outsider.session().findAllObjectsSingle(PrivateData.keyByLabel(data))).isEmpty();
    }
  }

  @Test
  void keyPairs_signAndDecrypt_verifiedByTheJdk() throws Exception {
    assertThat(hsm.supportedKeyPairTypes()).isEqualTo(expectedKeyPairTypes());
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(PLAINTEXT);
    if (expectedKeyPairTypes().contains(KeyPairType.EC_P256)) {
      WrappedKeyPair ec = hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.SIGN);
      byte[] ecdsa =
          hsm.signDigest(
              ec.privateKey(),
              KeyPairType.EC_P256,
              SignatureScheme.ECDSA,
              DigestAlgorithm.SHA_256,
              digest);
      assertThat(verify("SHA256withECDSA", "EC", ec, ecdsa)).isTrue();
    } else {
      assertThatThrownBy(() -> hsm.generateKeyPair(KeyPairType.EC_P256, PrivateKeyUsage.SIGN))
          .isInstanceOf(HsmException.class)
          .hasMessageContaining("cannot generate EC_P256");
    }

    WrappedKeyPair rsa = hsm.generateKeyPair(KeyPairType.RSA_2048, PrivateKeyUsage.SIGN);
    byte[] pkcs1 =
        hsm.signDigest(
            rsa.privateKey(),
            KeyPairType.RSA_2048,
            SignatureScheme.RSA_PKCS1_V1_5,
            DigestAlgorithm.SHA_256,
            digest);
    assertThat(verify("SHA256withRSA", "RSA", rsa, pkcs1)).isTrue();
    pkcs1[10] ^= 1;
    assertThat(verify("SHA256withRSA", "RSA", rsa, pkcs1)).isFalse();

    WrappedKeyPair oaep = hsm.generateKeyPair(KeyPairType.RSA_2048, PrivateKeyUsage.DECRYPT);
    javax.crypto.Cipher jdk =
        javax.crypto.Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding");
    jdk.init(
        javax.crypto.Cipher.ENCRYPT_MODE,
        publicKey("RSA", oaep),
        new javax.crypto.spec.OAEPParameterSpec(
            "SHA-256",
            "MGF1",
            java.security.spec.MGF1ParameterSpec.SHA256,
            javax.crypto.spec.PSource.PSpecified.DEFAULT));
    byte[] ciphertext = jdk.doFinal(PLAINTEXT);
    assertThat(
            hsm.decryptOaep(
                oaep.privateKey(), KeyPairType.RSA_2048, DigestAlgorithm.SHA_256, ciphertext))
        .isEqualTo(PLAINTEXT);
  }

  @Test
  void hmacKeysAndDataKeyPairs_work() throws Exception {
    WrappedKey hmac = hsm.generateHmacKey(HmacType.HMAC_SHA256);
    byte[] mac = hsm.generateMac(hmac, HmacType.HMAC_SHA256, PLAINTEXT);
    assertThat(mac).hasSize(32).isEqualTo(hsm.generateMac(hmac, HmacType.HMAC_SHA256, PLAINTEXT));
    assertThat(hsm.generateMac(hmac, HmacType.HMAC_SHA256, AAD)).isNotEqualTo(mac);

    boolean ec = expectedKeyPairTypes().contains(KeyPairType.EC_P256);
    DataKeyPair pair = hsm.generateDataKeyPair(ec ? KeyPairType.EC_P256 : KeyPairType.RSA_2048);
    String algorithm = ec ? "EC" : "RSA";
    java.security.PrivateKey privateKey =
        KeyFactory.getInstance(algorithm)
            .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(pair.privateKeyPkcs8()));
    Signature signer = Signature.getInstance(ec ? "SHA256withECDSA" : "SHA256withRSA");
    signer.initSign(privateKey);
    signer.update(PLAINTEXT);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(ec ? "SHA256withECDSA" : "SHA256withRSA");
    verifier.initVerify(
        KeyFactory.getInstance(algorithm)
            .generatePublic(new X509EncodedKeySpec(pair.subjectPublicKeyInfo())));
    verifier.update(PLAINTEXT);
    assertThat(verifier.verify(signature)).isTrue();
  }

  @Test
  void rotation_rewrapsEveryKindOfKeyUnderTheNextGeneration_andOldCiphertextsStillDecrypt()
      throws Exception {
    WrappedKey key = hsm.generateBackingKey();
    byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
    byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
    byte[] sealed = hsm.encrypt(key, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
    WrappedKey hmac = hsm.generateHmacKey(HmacType.HMAC_SHA256);
    byte[] mac = hsm.generateMac(hmac, HmacType.HMAC_SHA256, PLAINTEXT);
    WrappedKeyPair rsa = hsm.generateKeyPair(KeyPairType.RSA_2048, PrivateKeyUsage.SIGN);
    int next = key.domainKeyGeneration() + 1;

    // The ceremony logs in on its own (as the SO on a token with custody), which no login of this
    // process may hold at the same time: the adapter is closed around it, as in a real rotation.
    hsm.close();
    addDomainKeyGeneration(token, next);
    hsm = Pkcs11Hsm.open(token.hsmConfig());
    assertThat(hsm.currentDomainKeyGeneration()).isEqualTo(next);

    WrappedKey moved = hsm.rewrap(key, next);
    assertThat(moved.domainKeyGeneration()).isEqualTo(next);
    assertThat(moved.ekt()).isNotEqualTo(key.ekt());
    assertThat(hsm.decrypt(moved, Derivation.NONE_AES_GCM, salt, iv, AAD, sealed))
        .isEqualTo(PLAINTEXT);
    WrappedKey movedHmac = hsm.rewrapPrivateKey(hmac, null, HmacType.HMAC_SHA256, null, next);
    assertThat(hsm.generateMac(movedHmac, HmacType.HMAC_SHA256, PLAINTEXT)).isEqualTo(mac);
    WrappedKey movedRsa =
        hsm.rewrapPrivateKey(
            rsa.privateKey(), KeyPairType.RSA_2048, null, PrivateKeyUsage.SIGN, next);
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(PLAINTEXT);
    byte[] signature =
        hsm.signDigest(
            movedRsa,
            KeyPairType.RSA_2048,
            SignatureScheme.RSA_PKCS1_V1_5,
            DigestAlgorithm.SHA_256,
            digest);
    assertThat(verify("SHA256withRSA", "RSA", rsa, signature)).isTrue();
  }

  @Test
  void cachedBackingKey_isPublicExactlyWhereTheTokenAllowsIt_andAlwaysSensitive() throws Exception {
    WrappedKey key = hsm.generateBackingKey();
    hsm.evictCachedBackingKeys();
    hsm.encrypt(
        key,
        Derivation.NONE_AES_GCM,
        hsm.generateRandom(Hsm.SALT_LENGTH),
        hsm.generateRandom(Hsm.IV_LENGTH),
        AAD,
        PLAINTEXT);
    List<AttributeVector> cached =
        hsm.withSessionForTest(
            session -> {
              List<AttributeVector> found = new java.util.ArrayList<>();
              for (long handle :
                  session.findObjectsSingle(
                      new AttributeVector()
                          .class_(PKCS11Constants.CKO_SECRET_KEY)
                          .token(false)
                          .encrypt(true),
                      100)) {
                found.add(
                    session.getAttrValues(
                        handle,
                        PKCS11Constants.CKA_PRIVATE,
                        PKCS11Constants.CKA_SENSITIVE,
                        PKCS11Constants.CKA_EXTRACTABLE));
              }
              return found;
            });
    assertThat(cached).as("the cached backing key").hasSize(1);
    assertThat(cached.get(0).private_()).isEqualTo(!expectedPublicCachedKeys());
    assertThat(cached.get(0).sensitive()).isTrue();
    assertThat(cached.get(0).extractable()).isFalse();
  }

  @Test
  void sessionLoss_isRecovered_andNothingIsLeft() throws Exception {
    WrappedKey key = hsm.generateBackingKey();
    byte[] salt = hsm.generateRandom(Hsm.SALT_LENGTH);
    byte[] iv = hsm.generateRandom(Hsm.IV_LENGTH);
    byte[] sealed = hsm.encrypt(key, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
    TokenFaults faults = new TokenFaults(hsm);
    for (TokenFaults.Kind kind :
        List.of(
            TokenFaults.Kind.CLOSE_ALL_SESSIONS,
            TokenFaults.Kind.LOG_OUT,
            TokenFaults.Kind.FINALIZE_AND_INITIALIZE)) {
      faults.inject(kind);
      assertThat(hsm.decrypt(key, Derivation.NONE_AES_GCM, salt, iv, AAD, sealed))
          .as("decrypt after %s", kind)
          .isEqualTo(PLAINTEXT);
      byte[] again = hsm.encrypt(key, Derivation.NONE_AES_GCM, salt, iv, AAD, PLAINTEXT);
      assertThat(again).isEqualTo(sealed);
    }
    assertThat(hsm.isHealthy()).isTrue();
  }

  @Test
  void doctor_passesEveryCheck_withTheConfigurationTheServerRunsWith() {
    TokenReport report = TokenDoctor.inspect(token.hsmConfig());
    assertThat(report.checks())
        .allSatisfy(check -> assertThat(check.ok()).as(check.toString()).isTrue());
    assertThat(report.checks())
        .anySatisfy(
            check -> {
              assertThat(check.name()).isEqualTo("custody");
              assertThat(check.detail())
                  .contains(expectedCapabilities().custodyEnforced() ? "enforced" : "NOT enforced");
            });
    assertThat(report.checks())
        .anySatisfy(
            check -> {
              assertThat(check.name()).isEqualTo("padded key wrap");
              assertThat(check.detail())
                  .isEqualTo(expectedCapabilities().paddedKeyWrap().describe())
                  .contains("reads RFC 5649 with CKM_AES_KEY_WRAP_");
            });
    if (!expectedCapabilities().custodyEnforced()) {
      TokenReport strict = TokenDoctor.inspect(token.hsmConfig().withUnenforcedCustody(false));
      assertThat(strict.ok()).isFalse();
      assertThat(strict.checks())
          .filteredOn(check -> !check.ok())
          .extracting(TokenReport.Check::name)
          .containsExactly("custody");
    }
  }

  // --- Custody: the attack replays of someone holding the user PIN and an EKT. Each one gets key
  // material out exactly where the probe says the token does not enforce custody.

  @Test
  void attack_wrapBackingKeyUnderOwnKey_leaksExactlyWhereCustodyIsNotEnforced() throws Exception {
    WrappedKey key = hsm.generateBackingKey();
    try (AttackerSession attacker = AttackerSession.open(token.hsmConfig())) {
      Session session = attacker.session();
      long domainKey = attacker.domainKey(DomainKeyRole.SYMMETRIC, key.domainKeyGeneration());
      boolean leaked;
      long hbk =
          session.unwrapKey(
              new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP),
              domainKey,
              key.ekt(),
              KeyTemplates.rewrappableBackingKey(BackingKeyUse.AES_GCM));
      long own = attackerKey(session);
      try {
        byte[] wrapped = session.wrapKey(new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP), own, hbk);
        leaked = wrapped != null && wrapped.length == 40;
      } catch (PKCS11Exception e) {
        assertThat(Pkcs11Errors.name(e.getErrorCode())).isEqualTo("CKR_KEY_NOT_WRAPPABLE");
        leaked = false;
      } finally {
        session.destroyObject(own);
        session.destroyObject(hbk);
      }
      assertThat(leaked).isEqualTo(!hsm.capabilities().wrapWithTrustedEnforced());
    }
  }

  @Test
  void attack_unwrapWithAReadableTemplate_leaksExactlyWhereTemplatesAreNotKept() throws Exception {
    WrappedKey key = hsm.generateBackingKey();
    try (AttackerSession attacker = AttackerSession.open(token.hsmConfig())) {
      Session session = attacker.session();
      long domainKey = attacker.domainKey(DomainKeyRole.SYMMETRIC, key.domainKeyGeneration());
      boolean leaked;
      try {
        long hbk =
            session.unwrapKey(
                new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP),
                domainKey,
                key.ekt(),
                AttributeVector.newAESSecretKey()
                    .token(false)
                    .sensitive(false)
                    .extractable(true)
                    .encrypt(true)
                    .decrypt(true));
        try {
          byte[] value = session.getAttrValues(hbk, PKCS11Constants.CKA_VALUE).value();
          leaked = value != null && value.length == 32;
        } finally {
          session.destroyObject(hbk);
        }
      } catch (PKCS11Exception e) {
        leaked = false;
      }
      assertThat(leaked).isEqualTo(!hsm.capabilities().keepsKeyTemplates());
    }
  }

  @Test
  void attack_plantATrustedDomainKey_succeedsExactlyWhereUsersSetTrusted() throws Exception {
    try (AttackerSession attacker = AttackerSession.open(token.hsmConfig())) {
      Session session = attacker.session();
      boolean planted;
      try {
        long key =
            session.generateKey(
                new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
                AttributeVector.newAESSecretKey()
                    .valueLen(32)
                    .token(false)
                    .label(DomainKeyRole.SYMMETRIC.label(99))
                    .trusted(true)
                    .wrap(true)
                    .unwrap(true));
        session.destroyObject(key);
        planted = true;
      } catch (PKCS11Exception e) {
        planted = false;
      }
      assertThat(planted).isEqualTo(!hsm.capabilities().trustedOnlyBySecurityOfficer());
    }
  }

  @Test
  void attack_domainKeyCannotDecryptAnEkt_onEveryToken() throws Exception {
    WrappedKey key = hsm.generateBackingKey();
    try (AttackerSession attacker = AttackerSession.open(token.hsmConfig())) {
      Session session = attacker.session();
      long domainKey = attacker.domainKey(DomainKeyRole.SYMMETRIC, key.domainKeyGeneration());
      for (long mechanism :
          new long[] {PKCS11Constants.CKM_AES_ECB, PKCS11Constants.CKM_AES_KEY_WRAP}) {
        assertThatThrownBy(
                () -> session.decryptSingle(new Mechanism(mechanism), domainKey, key.ekt()))
            .isInstanceOf(PKCS11Exception.class);
      }
      assertThatThrownBy(
              () -> session.setAttributeValues(domainKey, new AttributeVector().decrypt(true)))
          .isInstanceOf(PKCS11Exception.class);
      byte[] value = session.getAttrValues(domainKey, PKCS11Constants.CKA_VALUE).value();
      assertThat(value == null || value.length == 0).isTrue();
    }
  }

  private static long attackerKey(Session session) throws PKCS11Exception {
    return session.generateKey(
        new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN),
        AttributeVector.newAESSecretKey()
            .valueLen(32)
            .token(false)
            .sensitive(false)
            .extractable(true)
            .wrap(true)
            .unwrap(true)
            .encrypt(true)
            .decrypt(true));
  }

  private static PublicKey publicKey(String algorithm, WrappedKeyPair pair) throws Exception {
    return KeyFactory.getInstance(algorithm)
        .generatePublic(new X509EncodedKeySpec(pair.subjectPublicKeyInfo()));
  }

  private static boolean verify(
      String algorithm, String keyAlgorithm, WrappedKeyPair pair, byte[] signature)
      throws Exception {
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(publicKey(keyAlgorithm, pair));
    verifier.update(PLAINTEXT);
    try {
      return verifier.verify(signature);
    } catch (java.security.SignatureException e) {
      return false;
    }
  }
}
