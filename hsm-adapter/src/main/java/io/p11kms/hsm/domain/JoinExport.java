package io.p11kms.hsm.domain;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.keys.WrappingKeyTemplates;
import io.p11kms.hsm.session.SecurityOfficer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * The domain join's source side ({@link DomainJoin#export}): checks the transport key's
 * fingerprint, refuses (or leaves out) domain keys that cannot be copied, wraps each under the
 * transport key with RSA-OAEP and adds a proof EKT per key.
 */
final class JoinExport {
  private static final Logger LOG = LoggerFactory.getLogger(DomainJoin.class);

  private JoinExport() {}

  /** See {@link DomainJoin#export}. */
  static DomainKeyBundle export(
      Path modulePath,
      String tokenLabel,
      char[] soPin,
      TransportKey transportKey,
      String expectedFingerprint,
      boolean skipOutdated) {
    if (transportKey == null) {
      throw new IllegalArgumentException("transport key is required");
    }
    if (expectedFingerprint == null || expectedFingerprint.isBlank()) {
      throw new IllegalArgumentException(
          "the transport key's fingerprint, as domain-join begin printed it on the joining token,"
              + " is required");
    }
    if (!expectedFingerprint.trim().equals(transportKey.fingerprint())) {
      throw new HsmException(
          "the transport key's fingerprint is "
              + transportKey.fingerprint()
              + ", not the one expected: it was swapped on the way");
    }
    return SecurityOfficer.run(
        modulePath,
        tokenLabel,
        soPin,
        "domain join: export",
        (token, session) -> {
          Map<Long, DomainKeyAttributes> keys = TrustedDomainKeys.find(session);
          if (keys.isEmpty()) {
            throw new HsmException("token " + tokenLabel + " holds no trusted domain key");
          }
          List<String> unextractable = new ArrayList<>();
          List<String> outdated = new ArrayList<>();
          keys.values()
              .removeIf(
                  a -> {
                    if (!a.extractable()) {
                      unextractable.add(a.label());
                      return true;
                    }
                    if (a.madeWith(true).isEmpty()) {
                      Optional<DomainKeyAttributes> wanted =
                          DomainKeyAttributes.required(a.label(), true);
                      outdated.add(
                          a.label()
                              + (wanted.isEmpty()
                                  ? " (no kind of domain key this version knows)"
                                  : " " + a.differencesFrom(wanted.get())));
                      return true;
                    }
                    return false;
                  });
          if ((!unextractable.isEmpty() || !outdated.isEmpty())
              && (!skipOutdated || keys.isEmpty())) {
            throw new HsmException(cannotCopy(tokenLabel, unextractable, outdated));
          }
          long imported =
              session.createObject(
                  WrappingKeyTemplates.importedTransportKey(
                      DomainJoin.IMPORTED_LABEL, transportKey));
          try {
            String hash = null;
            List<DomainKeyBundle.Entry> entries = new ArrayList<>();
            for (Map.Entry<Long, DomainKeyAttributes> key : keys.entrySet()) {
              byte[] wrapped;
              if (hash == null) {
                wrapped = DomainJoin.wrapWithSha256(session, imported, key.getKey());
                hash = wrapped != null ? "SHA-256" : "SHA-1";
              } else {
                wrapped = null;
              }
              if (wrapped == null) {
                wrapped = session.wrapKey(DomainJoin.oaep(hash), imported, key.getKey());
              }
              AttributeVector madeWith = key.getValue().madeWith(true).orElseThrow();
              byte[] proof = proofEkt(session, key.getKey(), madeWith);
              entries.add(new DomainKeyBundle.Entry(key.getValue(), wrapped, proof));
            }
            LOG.info("exported {} domain keys of token {}", entries.size(), tokenLabel);
            return new DomainKeyBundle(transportKey.fingerprint(), hash, entries);
          } finally {
            session.destroyObject(imported);
          }
        });
  }

  private static String cannotCopy(
      String tokenLabel, List<String> unextractable, List<String> outdated) {
    List<String> why = new ArrayList<>();
    if (!unextractable.isEmpty()) {
      why.add(unextractable + " are not extractable (made before domain join existed)");
    }
    if (!outdated.isEmpty()) {
      why.add(
          outdated
              + " have other attributes than this version gives their kind of domain key"
              + " (made by an older version)");
    }
    return String.join("; ", why)
        + " on token "
        + tokenLabel
        + ", so they cannot be copied: rotate the domain key (rotate-domain-key) so that every EKT"
        + " is under a newer generation, then export with --skip-outdated";
  }

  private static byte[] proofEkt(Session session, long domainKey, AttributeVector madeWith)
      throws PKCS11Exception {
    ProofKey proofKey = ProofKey.of(madeWith);
    long proof = proofKey.generate(session);
    try {
      return session.wrapKey(proofKey.wrapMechanism(), domainKey, proof);
    } finally {
      session.destroyObject(proof);
    }
  }
}
