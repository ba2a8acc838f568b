package io.p11kms.hsm.domain;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.keys.WrappingKeyTemplates;
import io.p11kms.hsm.session.SecurityOfficer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.params.RSA_PKCS_OAEP_PARAMS;

/**
 * The domain-join ceremony: copies every domain key of one token (the source) to another (the
 * target) wrapped under a transport key that the target made, so that the key material is never in
 * plaintext outside a token. Three steps, each run by that token's security officer, on two
 * machines; what travels between them is a public key one way and wrapped bytes the other, each
 * checked against a fingerprint that the operators read to each other.
 *
 * <ol>
 *   <li>{@link #begin} on the target: an RSA-3072 transport key pair. The private key is a public
 *       token object (an SO session creates only those), SENSITIVE, not extractable, UNWRAP only,
 *       with an UNWRAP_TEMPLATE that demands TRUSTED (which only the SO can set) and SENSITIVE: a
 *       user session cannot unwrap with it at all, and nobody can unwrap into a readable key.
 *   <li>{@link #export} on the source: refuses a transport key whose fingerprint is not the one
 *       begin printed, and a domain key whose attributes are not those of its kind; imports the
 *       transport public key as a TRUSTED, WRAP-only session object (only a TRUSTED key may wrap a
 *       WRAP_WITH_TRUSTED domain key), wraps each domain key with {@code
 *       C_WrapKey(CKM_RSA_PKCS_OAEP)}, adds a proof EKT per key, destroys the imported key.
 *   <li>{@link #finish} on the target: refuses, before any token call, a bundle whose fingerprint
 *       is not the one export printed, and one whose attributes are not those of each key's kind;
 *       unwraps each key first as a session object from its kind's own template and proves it is
 *       the source's key (it unwraps the proof EKT; RFC 3394 checks integrity), then unwraps it as
 *       a token object from the same template; destroys the transport key, whether or not the join
 *       succeeded.
 * </ol>
 *
 * <p>OAEP uses SHA-256 where the source token can; SoftHSM2 2.6.1 only does SHA-1 (it answers
 * CKR_ARGUMENTS_BAD to SHA-256), which OAEP tolerates: its security rests on the hash as a random
 * oracle, not on collision resistance.
 */
public final class DomainJoin {
  private static final Logger LOG = LoggerFactory.getLogger(DomainJoin.class);

  /** The label of the transport key pair on the target while a join is under way. */
  public static final String TRANSPORT_LABEL = "p11kms-domain-join-transport";

  static final String IMPORTED_LABEL = "p11kms-domain-join-import";
  private static final int TRANSPORT_BITS = 3072;

  /** What {@link #finish} did with one domain key. */
  public record Joined(String label, boolean alreadyPresent) {}

  private DomainJoin() {}

  /**
   * On the target: creates the transport key pair and returns its public half.
   *
   * @throws HsmException when a join is already under way on this token (finish or {@link #abort}
   *     it first), or the SO PIN is refused
   */
  public static TransportKey begin(Path modulePath, String tokenLabel, char[] soPin) {
    return SecurityOfficer.run(
        modulePath,
        tokenLabel,
        soPin,
        "domain join: begin",
        (token, session) -> {
          if (findTransportKeys(session).length > 0) {
            throw new HsmException(
                "a domain join is already under way on token "
                    + tokenLabel
                    + ": finish it, or abort it with domain-join abort");
          }
          PKCS11KeyPair pair =
              session.generateKeyPair(
                  new Mechanism(PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN),
                  new KeyPairTemplate(
                      WrappingKeyTemplates.transportPrivateKey(TRANSPORT_LABEL),
                      WrappingKeyTemplates.transportPublicKey(TRANSPORT_LABEL, TRANSPORT_BITS)));
          try {
            AttributeVector values =
                session.getAttrValues(
                    pair.getPublicKey(),
                    PKCS11Constants.CKA_MODULUS,
                    PKCS11Constants.CKA_PUBLIC_EXPONENT);
            TransportKey key =
                new TransportKey(
                    values.modulus().toByteArray(), values.publicExponent().toByteArray());
            LOG.info(
                "domain join begun on token {}: transport key {}", tokenLabel, key.fingerprint());
            return key;
          } finally {
            session.destroyObject(pair.getPublicKey());
          }
        });
  }

  /**
   * On the source: wraps every domain key (every TRUSTED secret token key labelled {@code
   * domain-key...}) under {@code transportKey}.
   *
   * @param expectedFingerprint the transport key's fingerprint as {@link #begin} printed it on the
   *     target, read out by its operator: whoever carries the file could otherwise hand in a
   *     transport key of their own and receive every domain key wrapped under it
   * @param skipOutdated leave out domain keys that cannot be copied (made before domain join
   *     existed, not extractable; or made with other attributes than this version gives their kind)
   *     instead of refusing; EKTs under them will not unwrap on the target
   * @throws IllegalArgumentException when the expected fingerprint is missing (before any token
   *     call)
   * @throws HsmException when the transport key's fingerprint is not the expected one (before any
   *     token call), or the token has no domain key, or one that cannot be copied
   */
  public static DomainKeyBundle export(
      Path modulePath,
      String tokenLabel,
      char[] soPin,
      TransportKey transportKey,
      String expectedFingerprint,
      boolean skipOutdated) {
    return JoinExport.export(
        modulePath, tokenLabel, soPin, transportKey, expectedFingerprint, skipOutdated);
  }

  /**
   * On the target: lands every key of {@code bundle}, each from its own kind's template, after
   * proving each is the source's key; a key already on the target under the same label is proved
   * and kept. Destroys the transport key in any case (a failed join starts again with {@link
   * #begin}).
   *
   * @param expectedFingerprint the bundle's fingerprint as {@code export} printed it on the source,
   *     read out by its operator: it is all that tells the source's bundle from one altered or made
   *     by anyone else who holds the transport public key
   * @throws IllegalArgumentException when the expected fingerprint is missing (before any token
   *     call)
   * @throws HsmException when the bundle's fingerprint is not the expected one, or a key in it is
   *     of no known kind or has other attributes than its kind (before any token call); when it was
   *     made for another transport key, does not unwrap, or fails its proof. No domain key is left
   *     behind then
   */
  public static List<Joined> finish(
      Path modulePath,
      String tokenLabel,
      char[] soPin,
      DomainKeyBundle bundle,
      String expectedFingerprint) {
    return JoinFinish.finish(modulePath, tokenLabel, soPin, bundle, expectedFingerprint);
  }

  /** On the target: destroys the transport key of a join that will not be finished. */
  public static boolean abort(Path modulePath, String tokenLabel, char[] soPin) {
    return SecurityOfficer.destroyAll(
        modulePath, tokenLabel, soPin, "domain join: abort", DomainJoin::findTransportKeys);
  }

  /**
   * Every domain key on the token with its attributes, read in a public session (no login: domain
   * keys are public objects), sorted by label. For operators comparing two tokens.
   */
  public static List<DomainKeyAttributes> list(Path modulePath, String tokenLabel) {
    return SecurityOfficer.readPublic(
        modulePath,
        tokenLabel,
        "domain join: list",
        (token, session) -> new ArrayList<>(TrustedDomainKeys.find(session).values()));
  }

  /**
   * Wraps with OAEP SHA-256, or returns null if the token cannot (SoftHSM2 2.6.1 answers
   * CKR_ARGUMENTS_BAD); the caller then uses SHA-1.
   */
  static byte[] wrapWithSha256(Session session, long wrappingKey, long key) throws PKCS11Exception {
    try {
      return session.wrapKey(oaep("SHA-256"), wrappingKey, key);
    } catch (PKCS11Exception e) {
      long code = e.getErrorCode();
      if (code == PKCS11Constants.CKR_ARGUMENTS_BAD
          || code == PKCS11Constants.CKR_MECHANISM_PARAM_INVALID
          || code == PKCS11Constants.CKR_MECHANISM_INVALID) {
        return null;
      }
      throw e;
    }
  }

  static Mechanism oaep(String hash) {
    if ("SHA-256".equals(hash)) {
      return new Mechanism(
          PKCS11Constants.CKM_RSA_PKCS_OAEP,
          new RSA_PKCS_OAEP_PARAMS(PKCS11Constants.CKM_SHA256, PKCS11Constants.CKG_MGF1_SHA256));
    }
    if ("SHA-1".equals(hash)) {
      return new Mechanism(
          PKCS11Constants.CKM_RSA_PKCS_OAEP,
          new RSA_PKCS_OAEP_PARAMS(PKCS11Constants.CKM_SHA_1, PKCS11Constants.CKG_MGF1_SHA1));
    }
    throw new HsmException("OAEP hash must be SHA-256 or SHA-1, was " + hash);
  }

  private static long[] findTransportKeys(Session session) throws PKCS11Exception {
    return session.findAllObjectsSingle(
        new AttributeVector()
            .class_(PKCS11Constants.CKO_PRIVATE_KEY)
            .token(true)
            .label(TRANSPORT_LABEL));
  }

  static long onlyTransportKey(Session session, String tokenLabel) throws PKCS11Exception {
    long[] found = findTransportKeys(session);
    if (found.length == 0) {
      throw new HsmException(
          "no domain join under way on token " + tokenLabel + ": run domain-join begin first");
    }
    if (found.length > 1) {
      throw new HsmException(
          found.length + " transport keys on token " + tokenLabel + ": run domain-join abort");
    }
    return found[0];
  }
}
