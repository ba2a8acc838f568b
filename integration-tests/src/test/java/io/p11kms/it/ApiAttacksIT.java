package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.p11kms.hsm.AttackerSession;
import io.p11kms.hsm.TestCeremonies;
import io.p11kms.hsm.domain.DomainJoin;
import io.p11kms.hsm.domain.DomainKeyBundle;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.domain.TransportKey;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeySpec;
import io.p11kms.proto.v1.KeyUsage;
import java.security.Key;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.AES_CBC_ENCRYPT_DATA_PARAMS;
import org.xipki.pkcs11.wrapper.params.KEY_DERIVATION_STRING_DATA;

/**
 * The known PKCS#11 API attacks on key custody (the Tookan list), replayed by someone who holds
 * only the user PIN and the store: a session logged in as the user on the token of a real server,
 * and the EKTs read out of the server's SQLite file. The goal of every attack is key material
 * outside the token (a domain key, a backing key, a private or HMAC key, or a per-request key), or
 * a key used for what its kind must not do.
 *
 * <p>Each attack runs against a token set up by the project's own ceremony and against one that got
 * its domain keys by a domain join from it, where it must fail, and against one set up by a
 * deliberately weak ceremony (domain keys without templates, not SENSITIVE, able to encrypt and
 * decrypt), where it must succeed: so each attack is shown to be able to succeed, and the test able
 * to fail. A further set-up is one more {@link SetUp} value.
 */
class ApiAttacksIT {

  /** How the token under attack got its domain keys, and whether the attacks must succeed. */
  enum SetUp {
    /** The project's SO ceremony. */
    PROJECT_CEREMONY(false),
    /**
     * A domain join from the PROJECT_CEREMONY token (begin, export, finish, the steps {@code p11kms
     * domain-join} runs): the domain keys a second HSM of the domain holds.
     */
    DOMAIN_JOIN(false),
    /** A deliberately weak ceremony ({@link TestCeremonies.Kind#WEAK}). */
    WEAK_CEREMONY(true);

    final boolean attacksSucceed;

    SetUp(boolean attacksSucceed) {
      this.attacksSucceed = attacksSucceed;
    }
  }

  private static final Map<SetUp, SoftHsmTestToken> tokens = new EnumMap<>(SetUp.class);
  private static final Map<SetUp, Target> targets = new EnumMap<>(SetUp.class);
  private static final List<KmsTestServer> started = new ArrayList<>();
  private static final Mechanism KW = new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP);
  private static final Mechanism KWP = new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP_PAD);
  private static final Mechanism ECB = new Mechanism(PKCS11Constants.CKM_AES_ECB);

  /** An EKT as the store holds it. */
  record Ekt(String keySpec, int generation, DomainKeyRole role, byte[] bytes) {
    Mechanism mechanism() {
      return role == DomainKeyRole.SYMMETRIC ? KW : KWP;
    }

    boolean isPrivateKey() {
      return keySpec.startsWith("RSA") || keySpec.startsWith("ECC");
    }
  }

  /** A running server on a token of one set-up, with keys made through the API. */
  record Target(KmsTestServer server, List<Ekt> ekts) {}

  /**
   * Every set-up's token, made before the PKCS#11 library is loaded: SoftHSM2 reads one
   * configuration per process and lists the tokens it finds at C_Initialize, so the others go
   * beside the first.
   */
  @BeforeAll
  static void makeTokens() {
    SoftHsmTestToken first = null;
    for (SetUp setUp : SetUp.values()) {
      SoftHsmTestToken token =
          first == null
              ? SoftHsmTestToken.createWithoutDomainKey()
              : SoftHsmTestToken.createBeside(first);
      first = first == null ? token : first;
      tokens.put(setUp, token);
    }
    ceremony(TestCeremonies.Kind.PROJECT, tokens.get(SetUp.PROJECT_CEREMONY));
    ceremony(TestCeremonies.Kind.WEAK, tokens.get(SetUp.WEAK_CEREMONY));
    join(tokens.get(SetUp.PROJECT_CEREMONY), tokens.get(SetUp.DOMAIN_JOIN));
  }

  private static void ceremony(TestCeremonies.Kind kind, SoftHsmTestToken token) {
    char[] soPin = token.soPin();
    try {
      TestCeremonies.run(kind, token.modulePath(), token.label(), soPin, 1);
    } finally {
      Arrays.fill(soPin, '\0');
    }
  }

  /**
   * The domain join's three steps, each as its token's SO, fingerprints passed on as operators do.
   */
  private static void join(SoftHsmTestToken source, SoftHsmTestToken target) {
    char[] targetPin = target.soPin();
    char[] sourcePin = source.soPin();
    try {
      TransportKey transport = DomainJoin.begin(target.modulePath(), target.label(), targetPin);
      DomainKeyBundle bundle =
          DomainJoin.export(
              source.modulePath(),
              source.label(),
              sourcePin,
              transport,
              transport.fingerprint(),
              false);
      DomainJoin.finish(
          target.modulePath(), target.label(), targetPin, bundle, bundle.fingerprint());
    } finally {
      Arrays.fill(targetPin, '\0');
      Arrays.fill(sourcePin, '\0');
    }
  }

  /** Closes the servers, then the tokens: the first token's close deletes every token's files. */
  @AfterAll
  static void stop() throws Exception {
    for (int i = started.size() - 1; i >= 0; i--) {
      started.get(i).close();
    }
    List<SoftHsmTestToken> made = new ArrayList<>(tokens.values());
    for (int i = made.size() - 1; i >= 0; i--) {
      made.get(i).close();
    }
  }

  private static synchronized Target target(SetUp setUp) throws Exception {
    Target known = targets.get(setUp);
    if (known != null) {
      return known;
    }
    SoftHsmTestToken token = tokens.get(setUp);
    KmsTestServer server = KmsTestServer.start(token);
    started.add(server);
    var kms = server.client();
    String symmetric =
        kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
    kms.encrypt(
        EncryptRequest.newBuilder()
            .setKeyId(symmetric)
            .setPlaintext(ByteString.copyFromUtf8("a secret"))
            .build());
    kms.createKey(
        CreateKeyRequest.newBuilder()
            .setKeySpec(KeySpec.ECC_NIST_P256)
            .setKeyUsage(KeyUsage.SIGN_VERIFY)
            .build());
    kms.createKey(
        CreateKeyRequest.newBuilder()
            .setKeySpec(KeySpec.HMAC_256)
            .setKeyUsage(KeyUsage.GENERATE_VERIFY_MAC)
            .build());
    Target target = new Target(server, readStore(server));
    assertThat(target.ekts()).hasSize(3);
    targets.put(setUp, target);
    return target;
  }

  /** What the attacker reads from the server's database: every EKT with what it is. */
  private static List<Ekt> readStore(KmsTestServer server) throws Exception {
    List<Ekt> ekts = new ArrayList<>();
    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + server.database());
        Statement s = db.createStatement();
        ResultSet rows =
            s.executeQuery(
                "SELECT k.key_spec, v.domain_key_generation, v.domain_key_kind, v.ekt"
                    + " FROM key_versions v JOIN keys k ON k.key_id = v.key_id")) {
      while (rows.next()) {
        String kind = rows.getString(3);
        DomainKeyRole role =
            switch (kind) {
              case "SYMMETRIC" -> DomainKeyRole.SYMMETRIC;
              case "HMAC" -> DomainKeyRole.HMAC;
              default -> DomainKeyRole.ASYMMETRIC;
            };
        ekts.add(new Ekt(rows.getString(1), rows.getInt(2), role, rows.getBytes(4)));
      }
    }
    return ekts;
  }

  /** One attack: true when it got key material out, or made a key do what its kind must not. */
  @FunctionalInterface
  interface Attack {
    boolean run(AttackerSession attacker, List<Ekt> ekts) throws Exception;
  }

  private static void replay(SetUp setUp, Attack attack) throws Exception {
    Target target = target(setUp);
    boolean succeeded;
    try (AttackerSession attacker = AttackerSession.open(target.server().token().hsmConfig())) {
      succeeded = attack.run(attacker, target.ekts());
    }
    assertThat(succeeded)
        .as(setUp.attacksSucceed ? "the attack works on a weak token" : "the attack is refused")
        .isEqualTo(setUp.attacksSucceed);
  }

  /** CKA_VALUE of every domain key, and of every EKT's key unwrapped as the service does. */
  @ParameterizedTest
  @EnumSource(SetUp.class)
  void readValue_ofEverything(SetUp setUp) throws Exception {
    replay(
        setUp,
        (attacker, ekts) -> {
          Session session = attacker.session();
          boolean any = false;
          for (long key : attacker.domainKeys()) {
            any |= readable(session, key);
          }
          for (Ekt ekt : ekts) {
            long domainKey = attacker.domainKey(ekt.role(), ekt.generation());
            Long key = tryUnwrap(session, ekt, domainKey, pinnedBy(session, domainKey, ekt));
            if (key != null) {
              any |= readable(session, key);
              session.destroyObject(key);
            }
          }
          return any;
        });
  }

  @ParameterizedTest
  @EnumSource(SetUp.class)
  void unwrapWithAWeakTemplate_thenReadValue(SetUp setUp) throws Exception {
    replay(
        setUp,
        (attacker, ekts) -> {
          Session session = attacker.session();
          boolean any = false;
          for (Ekt ekt : ekts) {
            long domainKey = attacker.domainKey(ekt.role(), ekt.generation());
            AttributeVector weak = sameKind(ekt).sensitive(false).extractable(true);
            Long key = tryUnwrap(session, ekt, domainKey, weak);
            if (key != null) {
              any |= readable(session, key);
              session.destroyObject(key);
            }
          }
          return any;
        });
  }

  /**
   * Wrap-then-decrypt: the key wrapped under a key the attacker made (and can read), or the EKT
   * decrypted as data with the domain key; either gives the plaintext key.
   */
  @ParameterizedTest
  @EnumSource(SetUp.class)
  void wrapThenDecrypt(SetUp setUp) throws Exception {
    replay(
        setUp,
        (attacker, ekts) -> {
          Session session = attacker.session();
          boolean any = false;
          long mine =
              session.generateKey(
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
          try {
            byte[] mineValue = session.getAttrValues(mine, PKCS11Constants.CKA_VALUE).value();
            for (Ekt ekt : ekts) {
              long domainKey = attacker.domainKey(ekt.role(), ekt.generation());
              for (AttributeVector template :
                  List.of(
                      pinnedBy(session, domainKey, ekt).extractable(true),
                      pinnedBy(session, domainKey, ekt).extractable(true).wrapWithTrusted(false))) {
                Long key = tryUnwrap(session, ekt, domainKey, template);
                if (key == null) {
                  continue;
                }
                try {
                  byte[] wrapped = session.wrapKey(KWP, mine, key);
                  any |= plainUnwrap(mineValue, wrapped, "AESWrapPad") != null;
                } catch (PKCS11Exception refused) {
                  // Next.
                } finally {
                  session.destroyObject(key);
                }
              }
              try {
                any |= session.decryptSingle(ECB, domainKey, ekt.bytes()).length > 0;
              } catch (PKCS11Exception refused) {
                // Next.
              }
            }
          } finally {
            session.destroyObject(mine);
          }
          return any;
        });
  }

  /**
   * Encrypt-then-unwrap: the domain key used as an encryption key to make an EKT of a key whose
   * value the attacker chose (RFC 3394 with AES-ECB under the domain key), which the token then
   * takes as one of its own.
   */
  @ParameterizedTest
  @EnumSource(SetUp.class)
  void encryptThenUnwrap(SetUp setUp) throws Exception {
    replay(
        setUp,
        (attacker, ekts) -> {
          Session session = attacker.session();
          long domainKey = attacker.domainKey(DomainKeyRole.SYMMETRIC, 1);
          byte[] chosen = new byte[32];
          Arrays.fill(chosen, (byte) 0x5a);
          byte[] forged;
          try {
            forged = rfc3394Wrap(block -> session.encryptSingle(ECB, domainKey, block), chosen);
          } catch (PKCS11Exception refused) {
            return false;
          }
          Ekt symmetric =
              ekts.stream()
                  .filter(e -> e.role() == DomainKeyRole.SYMMETRIC)
                  .findAny()
                  .orElseThrow();
          Long key =
              tryUnwrap(
                  session,
                  new Ekt("SYMMETRIC_DEFAULT", 1, DomainKeyRole.SYMMETRIC, forged),
                  domainKey,
                  pinnedBy(session, domainKey, symmetric));
          if (key != null) {
            session.destroyObject(key);
          }
          return key != null;
        });
  }

  /**
   * Derive with every derive mechanism the token offers, from every key unwrapped as DERIVE-able as
   * its domain key allows, asking for a readable derived key: AES-ECB or AES-CBC of a ciphertext's
   * salt under its backing key is a per-request key.
   */
  @ParameterizedTest
  @EnumSource(SetUp.class)
  void deriveWithEveryMechanism_andAWeakTemplate(SetUp setUp) throws Exception {
    replay(
        setUp,
        (attacker, ekts) -> {
          Session session = attacker.session();
          boolean any = false;
          for (Ekt ekt : ekts) {
            long domainKey = attacker.domainKey(ekt.role(), ekt.generation());
            for (AttributeVector template :
                List.of(
                    pinnedBy(session, domainKey, ekt),
                    pinnedBy(session, domainKey, ekt).derive(true))) {
              Long key = tryUnwrap(session, ekt, domainKey, template);
              if (key == null) {
                continue;
              }
              try {
                for (Mechanism derivation : deriveMechanisms(session)) {
                  try {
                    long derived =
                        session.deriveKey(
                            derivation,
                            key,
                            AttributeVector.newAESSecretKey()
                                .valueLen(32)
                                .token(false)
                                .sensitive(false)
                                .extractable(true));
                    any |= readable(session, derived);
                    session.destroyObject(derived);
                  } catch (PKCS11Exception refused) {
                    // Next.
                  }
                }
              } finally {
                session.destroyObject(key);
              }
            }
          }
          return any;
        });
  }

  /**
   * Re-wrap under another domain key: a key unwrapped EXTRACTABLE (as a rotation must) is wrapped
   * under another kind's domain key and unwrapped there as an AES key that encrypts.
   */
  @ParameterizedTest
  @EnumSource(SetUp.class)
  void rewrapUnderAnotherDomainKey(SetUp setUp) throws Exception {
    replay(
        setUp,
        (attacker, ekts) -> {
          Session session = attacker.session();
          boolean any = false;
          for (Ekt ekt : ekts) {
            long home = attacker.domainKey(ekt.role(), ekt.generation());
            Long key =
                tryUnwrap(session, ekt, home, pinnedBy(session, home, ekt).extractable(true));
            if (key == null) {
              continue;
            }
            try {
              for (DomainKeyRole other : DomainKeyRole.values()) {
                if (other == ekt.role()) {
                  continue;
                }
                long away = attacker.domainKey(other, ekt.generation());
                byte[] moved;
                try {
                  moved = session.wrapKey(KWP, away, key);
                } catch (PKCS11Exception refused) {
                  continue;
                }
                Long asAes =
                    tryUnwrap(
                        session,
                        new Ekt("AES", ekt.generation(), other, moved),
                        away,
                        pinnedBy(session, away, null)
                            .class_(PKCS11Constants.CKO_SECRET_KEY)
                            .keyType(PKCS11Constants.CKK_AES)
                            .encrypt(true));
                if (asAes != null) {
                  try {
                    any |= session.encryptSingle(ECB, asAes, new byte[16]).length == 16;
                  } catch (PKCS11Exception refused) {
                    // Next.
                  } finally {
                    session.destroyObject(asAes);
                  }
                }
              }
            } finally {
              session.destroyObject(key);
            }
          }
          return any;
        });
  }

  /** Reimport as another key type: each EKT unwrapped under its own domain key as another kind. */
  @ParameterizedTest
  @EnumSource(SetUp.class)
  void reimportAsAnotherKeyType(SetUp setUp) throws Exception {
    replay(
        setUp,
        (attacker, ekts) -> {
          Session session = attacker.session();
          boolean any = false;
          for (Ekt ekt : ekts) {
            if (ekt.isPrivateKey()) {
              continue; // A PKCS#8 private key does not parse as a secret key on any token.
            }
            long domainKey = attacker.domainKey(ekt.role(), ekt.generation());
            AttributeVector other =
                ekt.role() == DomainKeyRole.HMAC
                    ? pinnedBy(session, domainKey, null)
                        .class_(PKCS11Constants.CKO_SECRET_KEY)
                        .keyType(PKCS11Constants.CKK_AES)
                        .encrypt(true)
                    : pinnedBy(session, domainKey, null)
                        .class_(PKCS11Constants.CKO_SECRET_KEY)
                        .keyType(PKCS11Constants.CKK_GENERIC_SECRET)
                        .sign(true);
            Long key = tryUnwrap(session, ekt, domainKey, other);
            if (key != null) {
              any = true;
              session.destroyObject(key);
            }
          }
          return any;
        });
  }

  /**
   * C_CopyObject with SENSITIVE false, EXTRACTABLE true or DECRYPT true, on every key reachable.
   */
  @ParameterizedTest
  @EnumSource(SetUp.class)
  void copyObject_relaxingSensitiveExtractableOrDecrypt(SetUp setUp) throws Exception {
    replay(setUp, (attacker, ekts) -> relax(attacker, ekts, true));
  }

  /** C_SetAttributeValue with SENSITIVE false, EXTRACTABLE true or DECRYPT true. */
  @ParameterizedTest
  @EnumSource(SetUp.class)
  void setAttributeValue_relaxingSensitiveExtractableOrDecrypt(SetUp setUp) throws Exception {
    replay(setUp, (attacker, ekts) -> relax(attacker, ekts, false));
  }

  private static boolean relax(AttackerSession attacker, List<Ekt> ekts, boolean copy)
      throws PKCS11Exception {
    Session session = attacker.session();
    List<Long> keys = new ArrayList<>(attacker.domainKeys());
    List<Long> unwrapped = new ArrayList<>();
    for (Ekt ekt : ekts) {
      long domainKey = attacker.domainKey(ekt.role(), ekt.generation());
      // As the service unwraps it, except MODIFIABLE, which the attacker asks for.
      for (AttributeVector template :
          List.of(
              pinnedBy(session, domainKey, ekt),
              pinnedBy(session, domainKey, ekt).modifiable(true))) {
        Long key = tryUnwrap(session, ekt, domainKey, template);
        if (key != null) {
          unwrapped.add(key);
        }
      }
    }
    keys.addAll(unwrapped);
    boolean any = false;
    try {
      for (long key : keys) {
        for (AttributeVector relaxed :
            List.of(
                new AttributeVector().sensitive(false),
                new AttributeVector().extractable(true),
                new AttributeVector().decrypt(true))) {
          long target = key;
          try {
            if (copy) {
              target = session.copyObject(key, relaxed.token(false));
            } else {
              session.setAttributeValues(key, relaxed);
            }
          } catch (PKCS11Exception refused) {
            continue;
          }
          try {
            AttributeVector now =
                session.getAttrValues(
                    target,
                    PKCS11Constants.CKA_SENSITIVE,
                    PKCS11Constants.CKA_EXTRACTABLE,
                    PKCS11Constants.CKA_DECRYPT);
            any |=
                Boolean.FALSE.equals(now.sensitive())
                    || Boolean.TRUE.equals(now.extractable()) && readable(session, target)
                    || Boolean.TRUE.equals(now.decrypt()) && decrypts(session, target);
          } finally {
            if (copy) {
              session.destroyObject(target);
            }
          }
        }
      }
    } finally {
      for (long key : unwrapped) {
        session.destroyObject(key);
      }
    }
    return any;
  }

  // --- helpers ---

  /**
   * The template a careful attacker starts from: every attribute the domain key's UNWRAP_TEMPLATE
   * pins (read from the token), on the class and type of the EKT's key (none when {@code ekt} is
   * null: the attacker adds their own).
   */
  private static AttributeVector pinnedBy(Session session, long domainKey, Ekt ekt)
      throws PKCS11Exception {
    AttributeVector template = new AttributeVector();
    if (ekt != null) {
      if (ekt.role() == DomainKeyRole.SYMMETRIC) {
        template.class_(PKCS11Constants.CKO_SECRET_KEY).keyType(PKCS11Constants.CKK_AES);
      } else if (ekt.role() == DomainKeyRole.HMAC || ekt.keySpec().startsWith("HMAC")) {
        template.class_(PKCS11Constants.CKO_SECRET_KEY).keyType(PKCS11Constants.CKK_GENERIC_SECRET);
      } else {
        template.class_(PKCS11Constants.CKO_PRIVATE_KEY).keyType(PKCS11Constants.CKK_EC);
      }
    }
    template.token(false);
    AttributeVector pins =
        session.getAttrValues(domainKey, PKCS11Constants.CKA_UNWRAP_TEMPLATE).unwrapTemplate();
    Boolean modifiable = null;
    if (pins != null) {
      for (var attribute : pins.snapshot()) {
        if (attribute.type() == PKCS11Constants.CKA_MODIFIABLE) {
          modifiable = (Boolean) attribute.getValue();
        } else if (ekt != null
            || (attribute.type() != PKCS11Constants.CKA_CLASS
                && attribute.type() != PKCS11Constants.CKA_KEY_TYPE)) {
          template.attr(attribute.type(), attribute.getValue());
        }
      }
    }
    if (modifiable != null) {
      template.modifiable(modifiable);
    }
    return template;
  }

  /** An AES-style template of the EKT's own kind, with no pins. */
  private static AttributeVector sameKind(Ekt ekt) {
    AttributeVector template = new AttributeVector().token(false);
    if (ekt.role() == DomainKeyRole.SYMMETRIC) {
      return template.class_(PKCS11Constants.CKO_SECRET_KEY).keyType(PKCS11Constants.CKK_AES);
    }
    if (!ekt.isPrivateKey()) {
      return template
          .class_(PKCS11Constants.CKO_SECRET_KEY)
          .keyType(PKCS11Constants.CKK_GENERIC_SECRET);
    }
    return template.class_(PKCS11Constants.CKO_PRIVATE_KEY).keyType(PKCS11Constants.CKK_EC);
  }

  /** Unwraps, moving MODIFIABLE last (SoftHSM2 refuses what follows MODIFIABLE false); or null. */
  private static Long tryUnwrap(
      Session session, Ekt ekt, long domainKey, AttributeVector template) {
    AttributeVector ordered = new AttributeVector();
    Boolean modifiable = null;
    for (var attribute : template.snapshot()) {
      if (attribute.type() == PKCS11Constants.CKA_MODIFIABLE) {
        modifiable = (Boolean) attribute.getValue();
      } else {
        ordered.attr(attribute.type(), attribute.getValue());
      }
    }
    if (modifiable != null) {
      ordered.modifiable(modifiable);
    }
    try {
      return session.unwrapKey(ekt.mechanism(), domainKey, ekt.bytes(), ordered);
    } catch (PKCS11Exception refused) {
      return null;
    }
  }

  /** Whether CKA_VALUE (or an RSA/EC private value) of {@code key} reads out. */
  private static boolean readable(Session session, long key) {
    try {
      byte[] value = session.getAttrValues(key, PKCS11Constants.CKA_VALUE).value();
      return value != null && value.length > 0;
    } catch (PKCS11Exception refused) {
      return false;
    }
  }

  private static boolean decrypts(Session session, long key) {
    try {
      return session.decryptSingle(ECB, key, new byte[16]).length == 16;
    } catch (PKCS11Exception refused) {
      return false;
    }
  }

  /**
   * Every derive mechanism the token lists that derives from a secret key and a byte string, with a
   * salt as its parameter: the ECB and CBC "encrypt data" derivations of AES, DES and 3DES. Not the
   * key agreements (DH, ECDH): they derive from a private key, and the private keys here cannot
   * DERIVE. The DES CBC forms are left out because this wrapper has no parameter class for them.
   */
  private static List<Mechanism> deriveMechanisms(Session session) throws PKCS11Exception {
    List<Mechanism> found = new ArrayList<>();
    var token = session.getToken();
    for (long m : token.getMechanismList()) {
      if ((token.getMechanismInfo(m).getFlags() & PKCS11Constants.CKF_DERIVE) == 0) {
        continue;
      }
      if (m == PKCS11Constants.CKM_AES_CBC_ENCRYPT_DATA) {
        found.add(new Mechanism(m, new AES_CBC_ENCRYPT_DATA_PARAMS(new byte[16], new byte[32])));
      } else if (m == PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA
          || m == PKCS11Constants.CKM_DES_ECB_ENCRYPT_DATA
          || m == PKCS11Constants.CKM_DES3_ECB_ENCRYPT_DATA) {
        found.add(new Mechanism(m, new KEY_DERIVATION_STRING_DATA(new byte[32])));
      }
    }
    assertThat(found)
        .as("the token offers AES derivations")
        .extracting(Mechanism::getMechanismCode)
        .contains(
            PKCS11Constants.CKM_AES_ECB_ENCRYPT_DATA, PKCS11Constants.CKM_AES_CBC_ENCRYPT_DATA);
    return found;
  }

  private static byte[] plainUnwrap(byte[] kek, byte[] wrapped, String algorithm) {
    try {
      Cipher cipher = Cipher.getInstance(algorithm);
      cipher.init(Cipher.UNWRAP_MODE, new SecretKeySpec(kek, "AES"));
      Key key = cipher.unwrap(wrapped, "AES", Cipher.SECRET_KEY);
      return key.getEncoded();
    } catch (java.security.GeneralSecurityException e) {
      return null;
    }
  }

  @FunctionalInterface
  private interface BlockCipher {
    byte[] encrypt(byte[] block) throws PKCS11Exception;
  }

  /** RFC 3394 key wrap with {@code aes} as the block cipher. */
  private static byte[] rfc3394Wrap(BlockCipher aes, byte[] key) throws PKCS11Exception {
    int n = key.length / 8;
    byte[] a = {
      (byte) 0xa6,
      (byte) 0xa6,
      (byte) 0xa6,
      (byte) 0xa6,
      (byte) 0xa6,
      (byte) 0xa6,
      (byte) 0xa6,
      (byte) 0xa6
    };
    byte[][] r = new byte[n][];
    for (int i = 0; i < n; i++) {
      r[i] = Arrays.copyOfRange(key, 8 * i, 8 * i + 8);
    }
    for (int j = 0; j <= 5; j++) {
      for (int i = 0; i < n; i++) {
        byte[] in = new byte[16];
        System.arraycopy(a, 0, in, 0, 8);
        System.arraycopy(r[i], 0, in, 8, 8);
        byte[] b = aes.encrypt(in);
        long t = (long) n * j + i + 1;
        a = Arrays.copyOf(b, 8);
        for (int k = 0; k < 8; k++) {
          a[7 - k] ^= (byte) (t >>> (8 * k));
        }
        r[i] = Arrays.copyOfRange(b, 8, 16);
      }
    }
    byte[] out = new byte[8 * (n + 1)];
    System.arraycopy(a, 0, out, 0, 8);
    for (int i = 0; i < n; i++) {
      System.arraycopy(r[i], 0, out, 8 * (i + 1), 8);
    }
    return out;
  }
}
