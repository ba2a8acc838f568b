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
    ImportService imports) {

  public static KmsServices of(Hsm hsm, KeyStore store, KeyArns arns, Clock clock) {
    KeyService keys = new KeyService(hsm, store, arns, clock);
    CryptoService crypto = new CryptoService(hsm, store, keys);
    return new KmsServices(
        keys,
        crypto,
        new KeyLifecycleService(store, keys, clock),
        new AliasService(store, keys, arns, clock),
        new TagService(store, keys),
        new KeyRotationService(hsm, store, keys, clock),
        new SigningService(hsm, store, keys),
        new MacService(hsm, store, keys),
        new DataKeyPairService(hsm, keys, crypto),
        new ImportService(hsm, store, keys, clock));
  }
}
