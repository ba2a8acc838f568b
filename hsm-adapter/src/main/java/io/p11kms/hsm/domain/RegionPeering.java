package io.p11kms.hsm.domain;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.keys.WrappingKeyTemplates;
import io.p11kms.hsm.session.SecurityOfficer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * The peering ceremony of two regions, on the source region's token, by its security officer: the
 * destination's transport key (made by its server, {@code p11kms region transport-key}) becomes a
 * TRUSTED token object that can wrap only backing keys, once the operator has confirmed its
 * fingerprint with the destination's operator over a second channel, as in the domain join. From
 * then on the source's service can send a backing key to that region, wrapped so that only the
 * destination's token can unwrap it; it can send nothing else (no domain key fits the key's
 * WRAP_TEMPLATE), and without the SO nobody can add a region (only the SO can set TRUSTED).
 */
public final class RegionPeering {
  private static final Logger LOG = LoggerFactory.getLogger(RegionPeering.class);

  /** A region trusted on a token: its name and its transport key's fingerprint. */
  public record Peer(String region, String fingerprint) {}

  private RegionPeering() {}

  /**
   * Installs {@code transportKey} as {@code region}'s trusted transport key on the token.
   *
   * @param expectedFingerprint the fingerprint the destination's operator read out: whoever carries
   *     the file could otherwise hand in a key of their own and receive every replicated key under
   *     it
   * @return false when that very key is already trusted for {@code region}
   * @throws IllegalArgumentException when the fingerprint or region is missing (before any token
   *     call)
   * @throws HsmException when the fingerprint is not the expected one (before any token call), or
   *     another key is trusted for {@code region} (untrust it first)
   */
  public static boolean trust(
      Path modulePath,
      String tokenLabel,
      char[] soPin,
      String region,
      TransportKey transportKey,
      String expectedFingerprint) {
    String label = RegionTransfers.peerLabel(region);
    if (transportKey == null) {
      throw new IllegalArgumentException("transport key is required");
    }
    if (expectedFingerprint == null || expectedFingerprint.isBlank()) {
      throw new IllegalArgumentException(
          "the transport key's fingerprint, as region transport-key printed it in region "
              + region
              + ", is required");
    }
    String fingerprint = transportKey.fingerprint();
    if (!expectedFingerprint.trim().equals(fingerprint)) {
      throw new HsmException(
          "the transport key's fingerprint is "
              + fingerprint
              + ", not the one expected: it was swapped on the way");
    }
    return SecurityOfficer.run(
        modulePath,
        tokenLabel,
        soPin,
        "region peering: trust",
        (token, session) -> {
          for (long handle :
              session.findAllObjectsSingle(WrappingKeyTemplates.trustedPublicKeyByLabel(label))) {
            String present = RegionTransfers.publicHalf(session, handle).fingerprint();
            if (present.equals(fingerprint)) {
              return false;
            }
            throw new HsmException(
                "region "
                    + region
                    + " already has trusted transport key "
                    + present
                    + " on token "
                    + tokenLabel
                    + ": run region untrust first");
          }
          session.createObject(WrappingKeyTemplates.regionPeerKey(label, transportKey));
          LOG.info("region {} trusted on token {}: {}", region, tokenLabel, fingerprint);
          return true;
        });
  }

  /** Destroys {@code region}'s trusted transport key; false when there was none. */
  public static boolean untrust(Path modulePath, String tokenLabel, char[] soPin, String region) {
    String label = RegionTransfers.peerLabel(region);
    return SecurityOfficer.destroyAll(
        modulePath,
        tokenLabel,
        soPin,
        "region peering: untrust",
        session ->
            session.findAllObjectsSingle(WrappingKeyTemplates.trustedPublicKeyByLabel(label)));
  }

  /** Every region trusted on the token, read in a public session (no login), sorted by name. */
  public static List<Peer> list(Path modulePath, String tokenLabel) {
    return SecurityOfficer.readPublic(
        modulePath,
        tokenLabel,
        "region peering: list",
        (token, session) -> {
          List<Peer> peers = new ArrayList<>();
          for (long handle :
              session.findAllObjectsSingle(WrappingKeyTemplates.trustedTokenPublicKeys())) {
            String label = session.getStringAttrValue(handle, PKCS11Constants.CKA_LABEL);
            if (label != null && label.startsWith(RegionTransfers.PEER_LABEL_PREFIX)) {
              peers.add(
                  new Peer(
                      label.substring(RegionTransfers.PEER_LABEL_PREFIX.length()),
                      RegionTransfers.publicHalf(session, handle).fingerprint()));
            }
          }
          peers.sort(java.util.Comparator.comparing(Peer::region));
          return peers;
        });
  }
}
