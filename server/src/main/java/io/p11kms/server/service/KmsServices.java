package io.p11kms.server.service;

import io.p11kms.hsm.Hsm;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.KeyStore;
import java.time.Clock;

/**
 * The operations' services over one token and store, made once and shared by every front end (and
 * the scheduled rotations): what a front end's handlers call inside {@code AccessControl.run}.
 */
public record KmsServices(
    KeyService keys,
    CryptoService crypto,
    KeyLifecycleService lifecycle,
    AliasService aliases,
    TagService tags,
    KeyRotationService rotations,
    SigningService signing,
    MacService macs,
    DataKeyPairService dataKeyPairs,
    ImportService imports,
    MultiRegionService multiRegion) {

  /** The services of a region on its own. */
  public static KmsServices of(Hsm hsm, KeyStore store, KeyArns arns, Clock clock) {
    return of(hsm, store, arns, clock, RegionPeers.NONE);
  }

  /**
   * The services of a region peered with {@code peers}: a multi-Region key replicates to them, and
   * a rotation of a primary reaches its replicas before the new version is stored.
   */
  public static KmsServices of(
      Hsm hsm, KeyStore store, KeyArns arns, Clock clock, RegionPeers peers) {
    KeyService keys = new KeyService(hsm, store, arns, clock);
    CryptoService crypto = new CryptoService(hsm, store, keys);
    MultiRegionService multiRegion = new MultiRegionService(hsm, store, keys, arns, peers, clock);
    return new KmsServices(
        keys,
        crypto,
        new KeyLifecycleService(store, keys, clock),
        new AliasService(store, keys, arns, clock),
        new TagService(store, keys),
        new KeyRotationService(hsm, store, keys, clock, multiRegion),
        new SigningService(hsm, store, keys),
        new MacService(hsm, store, keys),
        new DataKeyPairService(hsm, keys, crypto),
        new ImportService(hsm, store, keys, clock),
        multiRegion);
  }
}
