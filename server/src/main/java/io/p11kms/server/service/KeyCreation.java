package io.p11kms.server.service;

import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.PrivateKeyUsage;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.WrappedKeyPair;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.store.AliasRecord;
import io.p11kms.server.store.DomainKeyKind;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyVersionRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * CreateKey's work: checks the request, generates the key material in the token (a backing key, a
 * key pair or an HMAC key) and stores the key with its first version and its tags in one
 * transaction, so that a failure on either side leaves nothing behind.
 */
final class KeyCreation {
  private final Hsm hsm;
  private final KeyStore store;
  private final KeyArns arns;
  private final Clock clock;

  KeyCreation(Hsm hsm, KeyStore store, KeyArns arns, Clock clock) {
    this.hsm = hsm;
    this.store = store;
    this.arns = arns;
    this.clock = clock;
  }

  /**
   * The new key of {@code owner}. KeySpec and KeyUsage must be a pair AWS KMS allows
   * (ValidationException); a spec the token cannot generate is UnsupportedOperationException. An
   * EXTERNAL key is made without key material, in state PendingImport, with no token call (only
   * SYMMETRIC_DEFAULT keys can be EXTERNAL here). A multi-Region key is a primary key in this
   * region (id {@code mrk-...}), SYMMETRIC_DEFAULT and of Origin AWS_KMS. With {@code aliasName}
   * not null, the key is stored with that alias in the same transaction ({@link
   * io.p11kms.server.store.AliasAlreadyExistsException} when the account has it already: then
   * nothing is stored).
   */
  KeyRecord create(KeyOwner owner, CreateKeyRequest request, String aliasName) {
    String description = Requests.requireDescription(request.description());
    Map<String, String> tags = Tags.require(request.tags(), false);
    KeyUsage usage = request.keyUsage() == null ? KeyUsage.ENCRYPT_DECRYPT : request.keyUsage();
    KeySpec spec = request.keySpec() == null ? KeySpec.SYMMETRIC_DEFAULT : request.keySpec();
    Origin origin = request.origin() == null ? Origin.AWS_KMS : request.origin();
    requireSupported(usage, spec, origin);
    if (request.multiRegion()
        && (spec != KeySpec.SYMMETRIC_DEFAULT || origin != Origin.AWS_KMS || aliasName != null)) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          "multi-Region keys are SYMMETRIC_DEFAULT keys of Origin AWS_KMS here");
    }
    Instant now = clock.instant();
    UUID keyId = request.multiRegion() ? KeyArns.newMultiRegionKeyId() : UUID.randomUUID();
    KeyRecord key =
        new KeyRecord(
            keyId,
            now,
            description,
            usage.name(),
            spec.name(),
            (origin == Origin.EXTERNAL ? KeyState.PENDING_IMPORT : KeyState.ENABLED).name(),
            origin.name(),
            null,
            null,
            arns.stored(owner.account()),
            owner.manager().name(),
            owner.service());
    if (origin == Origin.EXTERNAL) {
      store.createKeyAwaitingMaterial(key, tags);
      return key;
    }
    KeyVersionRecord first = firstVersion(keyId, spec, usage, now);
    if (request.multiRegion()) {
      store.multiRegionKeys().createPrimary(key, first, tags, arns.region());
    } else if (aliasName == null) {
      store.createKey(key, first, tags);
    } else {
      store.createKeyWithAlias(
          key, first, new AliasRecord(aliasName, keyId, now, now, key.account()));
    }
    return key;
  }

  /** The usage, spec and origin are a pair AWS KMS allows, and this token can make. */
  private void requireSupported(KeyUsage usage, KeySpec spec, Origin origin) {
    if (!spec.usages().contains(usage)) {
      throw KmsException.validation(
          "KeyUsage "
              + usage
              + " is not valid with KeySpec "
              + spec
              + "; valid: "
              + spec.usages().stream().map(Enum::name).sorted().toList());
    }
    spec.keyPairType()
        .filter(type -> !hsm.supportedKeyPairTypes().contains(type))
        .ifPresent(
            type -> {
              throw new KmsException(
                  KmsError.UNSUPPORTED_OPERATION,
                  "KeySpec " + spec + " is not supported by this key store's token");
            });
    if (origin == Origin.EXTERNAL && spec != KeySpec.SYMMETRIC_DEFAULT) {
      throw new KmsException(
          KmsError.UNSUPPORTED_OPERATION,
          "Origin EXTERNAL is supported for SYMMETRIC_DEFAULT keys only, not " + spec);
    }
  }

  /** The token call that makes the key material, and its version record. */
  private KeyVersionRecord firstVersion(UUID keyId, KeySpec spec, KeyUsage usage, Instant now) {
    WrappedKey wrapped;
    byte[] publicKey = null;
    if (spec.isAsymmetric()) {
      PrivateKeyUsage privateUsage =
          usage == KeyUsage.SIGN_VERIFY ? PrivateKeyUsage.SIGN : PrivateKeyUsage.DECRYPT;
      WrappedKeyPair pair =
          TokenCalls.call(
              "CreateKey",
              () -> hsm.generateKeyPair(spec.keyPairType().orElseThrow(), privateUsage));
      wrapped = pair.privateKey();
      publicKey = pair.subjectPublicKeyInfo();
    } else if (spec.hmacType().isPresent()) {
      wrapped = TokenCalls.call("CreateKey", () -> hsm.generateHmacKey(spec.hmacType().get()));
    } else {
      wrapped = TokenCalls.call("CreateKey", hsm::generateBackingKey);
    }
    return new KeyVersionRecord(
        keyId,
        UUID.randomUUID(),
        1,
        now,
        wrapped.domainKeyGeneration(),
        wrapped.wrapMechanism().code(),
        wrapped.ekt(),
        DomainKeyKind.of(wrapped.role()),
        publicKey);
  }
}
