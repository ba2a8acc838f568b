package io.p11kms.hsm.domain;

import io.p11kms.hsm.DigestAlgorithm;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.RegionNotPeeredException;
import io.p11kms.hsm.RegionWrappedKey;
import io.p11kms.hsm.WrapMechanism;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.keys.BackingKeyUse;
import io.p11kms.hsm.keys.BackingKeys;
import io.p11kms.hsm.keys.KeyImports;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.keys.WrappingKeyTemplates;
import io.p11kms.hsm.session.AdapterStep;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Function;
import io.p11kms.hsm.session.Step;
import java.math.BigInteger;
import java.util.regex.Pattern;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.KeyPairTemplate;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11KeyPair;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Backing keys moving between regions at run time, for {@link Pkcs11Hsm}, in a user session.
 *
 * <ul>
 *   <li>{@link #transportKey} on the destination: its transport key pair, made once. The private
 *       half ({@value #TRANSPORT_LABEL}) is a private token object that can only unwrap, and only
 *       into a backing key; the public half goes to the source's operator ({@link RegionPeering}).
 *   <li>{@link #wrapFor} on the source: unwraps an EKT under its domain key as a session object and
 *       wraps it with RSAES-OAEP under the destination's transport key, which the source's SO
 *       installed as a TRUSTED token object ({@code p11kms-region-peer/<region>}) after checking
 *       its fingerprint; a backing key (WRAP_WITH_TRUSTED) can be wrapped under nothing else.
 *   <li>{@link #receive} on the destination: unwraps it with the transport private key inside the
 *       token and wraps it at once under the current domain key.
 * </ul>
 *
 * Every session object made here is destroyed in {@code finally}.
 */
public final class RegionTransfers {
  static final String TRANSPORT_LABEL = "p11kms-region-transport";
  static final String PEER_LABEL_PREFIX = "p11kms-region-peer/";
  private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final int TRANSPORT_BITS = 3072;

  private final Calls calls;
  private final DomainKeys domainKeys;
  private final BackingKeys backingKeys;
  private final KeyImports imports;

  public RegionTransfers(
      Calls calls, DomainKeys domainKeys, BackingKeys backingKeys, KeyImports imports) {
    this.calls = calls;
    this.domainKeys = domainKeys;
    this.backingKeys = backingKeys;
    this.imports = imports;
  }

  /** The token label of the TRUSTED key a peer region's transport key is installed under. */
  static String peerLabel(String region) {
    requireRegion(region);
    return PEER_LABEL_PREFIX + region;
  }

  /** Refuses a region name that is not lower-case letters, digits and hyphens (1 to 63). */
  public static void requireRegion(String region) {
    if (region == null || !REGION.matcher(region).matches()) {
      throw new IllegalArgumentException(
          "a region name is 1 to 63 lower-case letters, digits and hyphens");
    }
  }

  /** This token's transport key for other regions: the existing one, or a new one. */
  public TransportKey transportKey(Session session, Step step) throws PKCS11Exception {
    step.enter(AdapterStep.FIND_REGION_TRANSPORT_KEY);
    Long existing = findTransportKey(session);
    if (existing != null) {
      return publicHalf(session, existing);
    }
    calls.before(step.enter(Pkcs11Function.C_GENERATE_KEY_PAIR));
    PKCS11KeyPair pair =
        session.generateKeyPair(
            new Mechanism(PKCS11Constants.CKM_RSA_PKCS_KEY_PAIR_GEN),
            new KeyPairTemplate(
                WrappingKeyTemplates.regionTransportPrivateKey(TRANSPORT_LABEL),
                WrappingKeyTemplates.importWrappingPublicKey(TRANSPORT_BITS)));
    try {
      step.enter(Pkcs11Function.C_GET_ATTRIBUTE_VALUE);
      return publicHalf(session, pair.getPublicKey());
    } finally {
      backingKeys.destroyQuietly(session, pair.getPublicKey());
    }
  }

  /**
   * Wraps the backing key {@code ekt} for {@code region}: unwrapped under its domain key as a
   * session object, wrapped under the region's trusted transport key, destroyed.
   *
   * @throws RegionNotPeeredException when no transport key of {@code region} is trusted here
   */
  public RegionWrappedKey wrapFor(Session session, Step step, String region, WrappedKey ekt)
      throws PKCS11Exception {
    if (ekt.wrapMechanism() != WrapMechanism.AES_KEY_WRAP
        || ekt.role() != DomainKeyRole.SYMMETRIC) {
      throw new HsmException("only a symmetric backing key can go to another region");
    }
    step.enter(AdapterStep.FIND_REGION_PEER_KEY);
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    long[] peers =
        session.findObjectsSingle(
            WrappingKeyTemplates.trustedPublicKeyByLabel(peerLabel(region)), 2);
    if (peers.length != 1) {
      throw new RegionNotPeeredException(
          peers.length == 0
              ? "region " + region + " is not peered with this token: no trusted transport key"
              : "region "
                  + region
                  + " has "
                  + peers.length
                  + " trusted transport keys on this token");
    }
    String fingerprint = publicHalf(session, peers[0]).fingerprint();
    step.enter(AdapterStep.FIND_DOMAIN_KEY);
    long domainKey = domainKeys.handle(session, ekt.domainKeyGeneration());
    if (domainKeys.backingKeyUse(session, ekt.domainKeyGeneration()) != BackingKeyUse.AES_GCM) {
      throw new HsmException(
          "a backing key of domain key generation "
              + ekt.domainKeyGeneration()
              + " derives its keys and cannot go to another region; rotate the domain key first");
    }
    calls.before(step.enter(Pkcs11Function.C_UNWRAP_KEY));
    long hbk =
        session.unwrapKey(
            new Mechanism(PKCS11Constants.CKM_AES_KEY_WRAP),
            domainKey,
            ekt.ekt(),
            KeyTemplates.rewrappableBackingKey(BackingKeyUse.AES_GCM));
    try {
      calls.before(step.enter(Pkcs11Function.C_WRAP_KEY));
      byte[] wrapped = DomainJoin.wrapWithSha256(session, peers[0], hbk);
      DigestAlgorithm hash = DigestAlgorithm.SHA_256;
      if (wrapped == null) {
        calls.before(Pkcs11Function.C_WRAP_KEY);
        wrapped = session.wrapKey(DomainJoin.oaep("SHA-1"), peers[0], hbk);
        hash = DigestAlgorithm.SHA_1;
      }
      return new RegionWrappedKey(fingerprint, hash, wrapped);
    } finally {
      backingKeys.destroyQuietly(session, hbk);
    }
  }

  /**
   * Unwraps a backing key sent from another region with this token's transport key and returns it
   * wrapped under the current domain key.
   *
   * @throws HsmException when it was wrapped for another transport key, or this token has none
   * @throws HsmDecryptionFailedException when the bytes do not unwrap
   */
  public WrappedKey receive(Session session, Step step, RegionWrappedKey sent)
      throws PKCS11Exception {
    step.enter(AdapterStep.FIND_REGION_TRANSPORT_KEY);
    Long transport = findTransportKey(session);
    if (transport == null) {
      throw new RegionNotPeeredException("this token has no region transport key");
    }
    String own = publicHalf(session, transport).fingerprint();
    if (!own.equals(sent.transportFingerprint())) {
      throw new RegionNotPeeredException(
          "the key was wrapped for transport key "
              + sent.transportFingerprint()
              + ", not for this token's "
              + own);
    }
    return imports.land(session, step, transport, sent.algorithm(), sent.wrapped());
  }

  private Long findTransportKey(Session session) throws PKCS11Exception {
    calls.before(Pkcs11Function.C_FIND_OBJECTS);
    long[] found =
        session.findObjectsSingle(
            WrappingKeyTemplates.importWrappingKeyByLabel(TRANSPORT_LABEL), 2);
    if (found.length > 1) {
      throw new HsmException(found.length + " region transport keys on this token");
    }
    return found.length == 0 ? null : found[0];
  }

  /** The modulus and exponent of an RSA key object (public attributes of either half). */
  static TransportKey publicHalf(Session session, long rsaKey) throws PKCS11Exception {
    AttributeVector values =
        session.getAttrValues(
            rsaKey, PKCS11Constants.CKA_MODULUS, PKCS11Constants.CKA_PUBLIC_EXPONENT);
    BigInteger modulus = values.modulus();
    BigInteger exponent = values.publicExponent();
    if (modulus == null || exponent == null) {
      throw new HsmException("the token returned no RSA public key");
    }
    return new TransportKey(modulus.toByteArray(), exponent.toByteArray());
  }
}
