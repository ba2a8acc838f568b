package io.p11kms.hsm.domain;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.session.Pkcs11Errors;
import io.p11kms.hsm.session.SecurityOfficer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;

/**
 * The domain join's target side ({@link DomainJoin#finish}): checks the bundle before any token
 * call, proves each key is the source's in a session of its own, then lands each from its kind's
 * template and checks the token kept it; destroys the transport key in any case.
 */
final class JoinFinish {
  private static final Logger LOG = LoggerFactory.getLogger(DomainJoin.class);

  private JoinFinish() {}

  /** See {@link DomainJoin#finish}. */
  static List<DomainJoin.Joined> finish(
      Path modulePath,
      String tokenLabel,
      char[] soPin,
      DomainKeyBundle bundle,
      String expectedFingerprint) {
    Map<String, AttributeVector> templates = checkBundle(bundle, expectedFingerprint);
    Mechanism oaep = DomainJoin.oaep(bundle.oaepHash());
    return SecurityOfficer.run(
        modulePath,
        tokenLabel,
        soPin,
        "domain join: finish",
        (token, session) -> {
          long transport = DomainJoin.onlyTransportKey(session, tokenLabel);
          try {
            AttributeVector values =
                session.getAttrValues(
                    transport, PKCS11Constants.CKA_MODULUS, PKCS11Constants.CKA_PUBLIC_EXPONENT);
            String fingerprint =
                new TransportKey(
                        values.modulus().toByteArray(), values.publicExponent().toByteArray())
                    .fingerprint();
            if (!fingerprint.equals(bundle.transportFingerprint())) {
              throw new HsmException(
                  "the bundle was made for transport key "
                      + bundle.transportFingerprint()
                      + ", not for this token's "
                      + fingerprint);
            }
            Map<String, Long> present = new LinkedHashMap<>();
            TrustedDomainKeys.find(session).forEach((handle, a) -> present.put(a.label(), handle));
            prove(token, oaep, transport, bundle, templates, present);
            List<DomainJoin.Joined> joined = new ArrayList<>();
            for (DomainKeyBundle.Entry entry : bundle.keys()) {
              String label = entry.attributes().label();
              if (present.containsKey(label)) {
                joined.add(new DomainJoin.Joined(label, true));
                continue;
              }
              AttributeVector template = templates.get(label);
              long copy =
                  session.unwrapKey(
                      oaep, transport, entry.wrapped(), JoinTemplates.asObject(template, true));
              requireAsMade(session, copy, template, true);
              joined.add(new DomainJoin.Joined(label, false));
            }
            LOG.info("domain join finished on token {}: {}", tokenLabel, joined);
            return joined;
          } finally {
            session.destroyObject(transport);
          }
        });
  }

  /**
   * Reads back a key the join unwrapped from {@code template} and checks that the token kept every
   * attribute of it.
   *
   * @throws HsmException naming what differs
   */
  private static void requireAsMade(
      Session session, long copy, AttributeVector template, boolean tokenObject)
      throws PKCS11Exception {
    DomainKeyAttributes landed = DomainKeyAttributes.read(session, copy);
    DomainKeyAttributes wanted =
        new DomainKeyAttributes(
            landed.label(), TemplateText.of(JoinTemplates.asObject(template, tokenObject)));
    if (!landed.equals(wanted)) {
      throw new HsmException(
          landed.label()
              + " unwrapped with other attributes than its kind's template: "
              + landed.differencesFrom(wanted));
    }
  }

  /**
   * Unwraps each key not yet on the token as a session object from its kind's template, checks that
   * the token kept that template, and checks that it (or the copy already there) unwraps the
   * source's proof EKT. In a session of its own, closed at the end, so that the session copies (not
   * destroyable) go with it, whatever happens.
   */
  private static void prove(
      Token token,
      Mechanism oaep,
      long transport,
      DomainKeyBundle bundle,
      Map<String, AttributeVector> templates,
      Map<String, Long> present)
      throws PKCS11Exception {
    Session proving = token.openSession(true);
    try {
      for (DomainKeyBundle.Entry entry : bundle.keys()) {
        String label = entry.attributes().label();
        AttributeVector template = templates.get(label);
        Long key = present.get(label);
        if (key == null) {
          try {
            key =
                proving.unwrapKey(
                    oaep, transport, entry.wrapped(), JoinTemplates.asObject(template, false));
          } catch (PKCS11Exception e) {
            throw new HsmException(
                label
                    + " does not unwrap under this token's transport key ("
                    + Pkcs11Errors.name(e.getErrorCode())
                    + "): the bundle was altered or made for another join");
          }
          requireAsMade(proving, key, template, false);
        }
        ProofKey proofKey = ProofKey.of(template);
        long proof;
        try {
          proof =
              proving.unwrapKey(
                  proofKey.wrapMechanism(), key, entry.proofEkt(), proofKey.onTarget());
        } catch (PKCS11Exception e) {
          throw new HsmException(
              label
                  + (present.containsKey(label)
                      ? " on this token is not the source's key of that label"
                      : " fails its proof: the bundle was altered")
                  + " ("
                  + Pkcs11Errors.name(e.getErrorCode())
                  + ")");
        }
        proving.destroyObject(proof);
      }
    } finally {
      SecurityOfficer.closeQuietly(proving);
    }
  }

  /**
   * Everything about the bundle that needs no token: its fingerprint is the expected one, each key
   * is of a known kind and has exactly the attributes one of that kind's templates gives, no label
   * twice.
   *
   * @return the template of each key, by label: the target's own, chosen by the attributes
   */
  private static Map<String, AttributeVector> checkBundle(
      DomainKeyBundle bundle, String expectedFingerprint) {
    if (bundle == null) {
      throw new IllegalArgumentException("bundle is required");
    }
    if (expectedFingerprint == null || expectedFingerprint.isBlank()) {
      throw new IllegalArgumentException(
          "the bundle's fingerprint, as domain-join export printed it on the source, is required");
    }
    String fingerprint = bundle.fingerprint();
    if (!expectedFingerprint.trim().equals(fingerprint)) {
      throw new HsmException(
          "the bundle's fingerprint is "
              + fingerprint
              + ", not the one expected: it was altered or replaced on the way");
    }
    DomainJoin.oaep(bundle.oaepHash());
    Map<String, AttributeVector> templates = new LinkedHashMap<>();
    for (DomainKeyBundle.Entry entry : bundle.keys()) {
      DomainKeyAttributes given = entry.attributes();
      Optional<DomainKeyAttributes> wanted = DomainKeyAttributes.required(given.label(), true);
      if (wanted.isEmpty()) {
        throw new HsmException(
            "the bundle holds " + given.label() + ", which is no kind of domain key");
      }
      Optional<AttributeVector> template = given.madeWith(true);
      if (template.isEmpty()) {
        throw new HsmException(
            "the bundle gives "
                + given.label()
                + " other attributes than its kind has: "
                + given.differencesFrom(wanted.get()));
      }
      if (templates.containsKey(given.label())) {
        throw new HsmException("the bundle holds " + given.label() + " twice");
      }
      templates.put(given.label(), template.get());
    }
    return templates;
  }
}
