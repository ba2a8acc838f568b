package io.p11kms.server.service;

import io.p11kms.server.crypto.CiphertextBlob;
import io.p11kms.server.crypto.MalformedCiphertextException;
import io.p11kms.server.store.KeyInUse;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.XksKeyRecord;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The key reads of one request, each made once: the access check and the operation behind it share
 * them, so an Encrypt reads the store once (key, latest version and policy in one query) instead of
 * four times. The same holds for the ciphertext blob a Decrypt or ReEncrypt names its key by: read
 * once, by the access check, and handed to the operation. Made per request and dropped with it,
 * never shared: the next request reads again, so a key disabled, deleted, rotated or given a new
 * policy, by this server or another one on the same database, is seen by the next request (the
 * store may answer from its {@code KeyInUseCache}, which never serves a read older than a committed
 * change). Not thread-safe: the steps of one request run one after another.
 */
public final class KeyLookup {
  private final KeyService keys;
  private final KeyStore store;
  private final String account;
  private final Supplier<Optional<String>> ownService;
  private final Map<String, UUID> names = new HashMap<>();
  private final Map<Slot, Optional<KeyInUse>> found = new HashMap<>();
  private final Map<String, Optional<XksKeyRecord>> exposed = new HashMap<>();
  private final Map<UUID, String> arns = new HashMap<>();
  private byte[] blobBytes;
  private CiphertextBlob blob;

  /** One key and one of its versions; a null version is the latest. */
  private record Slot(UUID keyId, UUID versionId) {}

  KeyLookup(
      KeyService keys, KeyStore store, String account, Supplier<Optional<String>> ownService) {
    this.keys = keys;
    this.store = store;
    this.account = account;
    this.ownService = ownService;
  }

  /** The account of the request's caller (12 digits): the account whose aliases it names. */
  public String account() {
    return account;
  }

  /**
   * The registered service the caller is, when it calls for itself (not for a customer): the keys
   * it creates are then that service's own (service-owned). Asked of the service registry only when
   * needed (CreateKey).
   */
  public Optional<String> ownService() {
    return ownService.get();
  }

  /**
   * The key a KeyId parameter (key id, key ARN, alias name or alias ARN) names.
   *
   * @throws KmsException VALIDATION when malformed, NOT_FOUND for an unknown alias
   */
  public UUID resolve(String keyId, String parameter) {
    UUID id = names.get(keyId);
    if (id == null) {
      id = keys.resolve(account, keyId, parameter);
      names.put(keyId, id);
    }
    return id;
  }

  /** The key with version {@code versionId} (the latest when null); empty when no such key. */
  public Optional<KeyInUse> find(UUID keyId, UUID versionId) {
    return found.computeIfAbsent(
        new Slot(keyId, versionId), s -> store.findKeyInUse(s.keyId(), s.versionId()));
  }

  /**
   * {@code bytes} read as a ciphertext blob: the blob read before when this request read one with
   * the same bytes (compared by content: the access check and the operation each get a copy of the
   * request's field), else read now.
   *
   * @throws MalformedCiphertextException when {@code bytes} is not a blob (each time it is asked)
   */
  public CiphertextBlob ciphertext(byte[] bytes) throws MalformedCiphertextException {
    if (blob == null || !Arrays.equals(blobBytes, bytes)) {
      CiphertextBlob parsed = CiphertextBlob.parse(bytes);
      blobBytes = bytes;
      blob = parsed;
    }
    return blob;
  }

  /**
   * The key exposed to the XKS proxy API under {@code externalKeyId}; empty when none is (or the id
   * is not one the specification allows).
   */
  public Optional<XksKeyRecord> exposed(String externalKeyId) {
    if (externalKeyId == null || !XksKeyRecord.EXTERNAL_KEY_ID.matcher(externalKeyId).matches()) {
      return Optional.empty();
    }
    return exposed.computeIfAbsent(externalKeyId, id -> store.xksKeys().find(id));
  }

  /**
   * The key itself, from a read this request made already of any of its versions (the key's own
   * columns are the same in each), else read now with its latest version; empty when no such key.
   */
  public Optional<KeyRecord> key(UUID keyId) {
    for (Map.Entry<Slot, Optional<KeyInUse>> e : found.entrySet()) {
      if (e.getKey().keyId().equals(keyId) && e.getValue().isPresent()) {
        return Optional.of(e.getValue().get().key());
      }
    }
    return find(keyId, null).map(KeyInUse::key);
  }

  /**
   * The key's ARN, in its account (the default one for a key that does not exist), made once per
   * request: the access check, the audit record and the answer all name the key by it.
   */
  public String arn(UUID keyId) {
    String arn = arns.get(keyId);
    if (arn == null) {
      arn = keys.arn(keyId, key(keyId));
      arns.put(keyId, arn);
    }
    return arn;
  }

  /** The key's stored policy document, from a read this request made already when there is one. */
  public Optional<String> policy(UUID keyId) {
    for (Map.Entry<Slot, Optional<KeyInUse>> e : found.entrySet()) {
      if (e.getKey().keyId().equals(keyId) && e.getValue().isPresent()) {
        return e.getValue().get().policy();
      }
    }
    return find(keyId, null).flatMap(KeyInUse::policy);
  }

  /** The key {@code keyId} names, for a cryptographic operation: enabled, right usage. */
  KeyInUse usable(String keyId, String parameter) {
    UUID id = resolve(keyId, parameter);
    KeyInUse key =
        find(id, null).orElseThrow(() -> KmsException.notFound("Key '" + id + "' does not exist"));
    KeyStates.requireUsable(key.key());
    return key;
  }
}
