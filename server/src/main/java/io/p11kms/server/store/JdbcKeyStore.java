package io.p11kms.server.store;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The key store over JDBC, in standard SQL; what differs between databases is in {@link
 * SqlDialect}. One repository per part of the model (keys and versions, the key read of every
 * request, aliases, tags, rotations, deletion, domain-key re-wrap, policies and grants, leases,
 * keys exposed to XKS, access keys), all on one {@link Transactions}; this class only hands each
 * call to its repository. Open it with {@link KeyStores#open}, which also creates or migrates the
 * schema.
 */
public final class JdbcKeyStore implements KeyStore {
  /** The largest page a listing returns, as AWS KMS ListKeys. */
  public static final int MAX_PAGE_SIZE = PageMarkers.MAX_PAGE_SIZE;

  private final Transactions tx;
  private final SchemaMigrator schema;
  private final KeyRepository keys;
  private final KeyInUseRepository keysInUse;
  private final AliasRepository aliases;
  private final AccountRepository accounts;
  private final ServiceRepository services;
  private final TagRepository tags;
  private final RotationRepository rotations;
  private final DeletionRepository deletions;
  private final DomainKeyRepository domainKeys;
  private final AccessStore access;
  private final Leases leases;
  private final ImportedMaterialRepository imported;
  private final XksKeys xksKeys;
  private final MultiRegionKeys multiRegionKeys;

  /** Null where the database has no cheap change counter (PostgreSQL). */
  private final KeyInUseCache cache;

  private final AccessKeys accessKeys;

  /**
   * @param keyReadCacheSize key reads kept (on SQLite), 0 for none
   */
  JdbcKeyStore(SqlDialect dialect, int keyReadCacheSize) {
    this(dialect, keyReadCacheSize, KeyInUseCache.DEFAULT_RECHECK);
  }

  /**
   * @param keyReadCacheSize key reads kept (on SQLite), 0 for none
   * @param recheck how long a check of the database's change counter vouches for the kept reads
   */
  JdbcKeyStore(SqlDialect dialect, int keyReadCacheSize, java.time.Duration recheck) {
    // Only where the database has a cheap change counter (SQLite); PostgreSQL reads every time.
    cache =
        dialect.changeCounterQuery().isPresent() && keyReadCacheSize > 0
            ? new KeyInUseCache(keyReadCacheSize, recheck)
            : null;
    this.tx =
        cache == null
            ? new Transactions(dialect, c -> {}, () -> {})
            // After a write's commit (or rollback): a read that began before it is not served
            // again.
            : new Transactions(dialect, cache::forget, cache::changed);
    this.schema = new SchemaMigrator(tx);
    this.keys = new KeyRepository(tx);
    this.keysInUse = new KeyInUseRepository(tx, cache);
    this.aliases = new AliasRepository(tx);
    this.accounts = new AccountRepository(tx);
    this.services = new ServiceRepository(tx);
    this.tags = new TagRepository(tx);
    this.rotations = new RotationRepository(tx);
    this.deletions = new DeletionRepository(tx);
    this.domainKeys = new DomainKeyRepository(tx);
    this.access = new AccessRepository(tx);
    this.leases = new LeaseRepository(tx);
    this.imported = new ImportedMaterialRepository(tx);
    this.xksKeys = new XksKeyRepository(tx, cache);
    this.multiRegionKeys = new MultiRegionKeyRepository(tx);
    this.accessKeys = new AccessKeyRepository(tx);
  }

  /** Creates the schema or brings it up to date. Called once, by {@link KeyStores#open}. */
  void migrate() {
    schema.migrate();
  }

  /** The schema version the database is at; 0 before any migration. */
  int schemaVersion() {
    return schema.schemaVersion();
  }

  /** How many key reads {@link #findKeyInUse} keeps now (0 where it keeps none). */
  int keysInUseCached() {
    return keysInUse.cached();
  }

  /** How many XKS exposure reads are kept now (0 where none are). */
  int exposuresCached() {
    return cache == null ? 0 : cache.exposures();
  }

  @Override
  public AccessStore access() {
    return access;
  }

  @Override
  public Leases leases() {
    return leases;
  }

  @Override
  public XksKeys xksKeys() {
    return xksKeys;
  }

  @Override
  public MultiRegionKeys multiRegionKeys() {
    return multiRegionKeys;
  }

  @Override
  public AccessKeys accessKeys() {
    return accessKeys;
  }

  // Keys and versions.

  @Override
  public void createKey(KeyRecord key, KeyVersionRecord firstVersion, Map<String, String> tags) {
    keys.createKey(key, firstVersion, tags);
  }

  @Override
  public void createKeyAwaitingMaterial(KeyRecord key, Map<String, String> tags) {
    keys.createKeyAwaitingMaterial(key, tags);
  }

  @Override
  public void createKeyWithAlias(KeyRecord key, KeyVersionRecord firstVersion, AliasRecord alias) {
    KeyRecord.requireNonNull(alias, "alias");
    try {
      keys.createKey(key, firstVersion, Map.of(), alias);
    } catch (KeyAlreadyExistsException e) {
      if (findAlias(alias.account(), alias.aliasName()).isPresent()) {
        throw new AliasAlreadyExistsException(e.getCause());
      }
      throw e;
    }
  }

  @Override
  public Optional<KeyRecord> findKey(UUID keyId) {
    return keys.findKey(keyId);
  }

  @Override
  public Optional<KeyVersionRecord> findVersion(UUID keyId, UUID versionId) {
    return keys.findVersion(keyId, versionId);
  }

  @Override
  public Optional<KeyVersionRecord> findLatestVersion(UUID keyId) {
    return keys.findLatestVersion(keyId);
  }

  @Override
  public Optional<KeyInUse> findKeyInUse(UUID keyId, UUID versionId) {
    return keysInUse.findKeyInUse(keyId, versionId);
  }

  @Override
  public KeyPage listKeys(int limit, Optional<String> marker) {
    return keys.listKeys(limit, marker);
  }

  @Override
  public KeyPage listKeys(String account, int limit, Optional<String> marker) {
    KeyRecord.requireNonNull(account, "account");
    return keys.listKeys(account, limit, marker);
  }

  @Override
  public long countKeys() {
    return keys.countKeys();
  }

  @Override
  public boolean updateKeyState(
      UUID keyId,
      String expectedState,
      String newState,
      Instant deletionDate,
      Integer pendingWindowDays) {
    return keys.updateKeyState(keyId, expectedState, newState, deletionDate, pendingWindowDays);
  }

  @Override
  public boolean updateDescription(UUID keyId, String expectedState, String description) {
    return keys.updateDescription(keyId, expectedState, description);
  }

  // Aliases.

  @Override
  public boolean createAlias(AliasRecord alias, String expectedKeyState) {
    return aliases.createAlias(alias, expectedKeyState);
  }

  @Override
  public Optional<AliasRecord> findAlias(String account, String aliasName) {
    return aliases.findAlias(account, aliasName);
  }

  @Override
  public boolean updateAlias(
      String account, String aliasName, UUID keyId, String expectedKeyState, Instant updatedAt) {
    return aliases.updateAlias(account, aliasName, keyId, expectedKeyState, updatedAt);
  }

  @Override
  public boolean deleteAlias(String account, String aliasName) {
    return aliases.deleteAlias(account, aliasName);
  }

  @Override
  public Page<AliasRecord> listAliases(
      String account, Optional<UUID> keyId, int limit, Optional<String> marker) {
    return aliases.listAliases(account, keyId, limit, marker);
  }

  // Accounts.

  @Override
  public void createAccount(AccountRecord account) {
    accounts.createAccount(account);
  }

  @Override
  public Optional<AccountRecord> findAccount(String accountId) {
    return accounts.findAccount(accountId);
  }

  @Override
  public List<AccountRecord> listAccounts() {
    return accounts.listAccounts();
  }

  @Override
  public boolean setKeyAccounts(String accountId, List<String> keyAccounts) {
    return accounts.setKeyAccounts(accountId, keyAccounts);
  }

  @Override
  public void registerService(ServiceRecord service) {
    services.registerService(service);
  }

  @Override
  public List<ServiceRecord> listServices() {
    return services.listServices();
  }

  // Tags.

  @Override
  public boolean tagKey(
      UUID keyId, String expectedKeyState, Map<String, String> tags, int maxTags) {
    return this.tags.tagKey(keyId, expectedKeyState, tags, maxTags);
  }

  @Override
  public boolean untagKey(UUID keyId, String expectedKeyState, Collection<String> tagKeys) {
    return tags.untagKey(keyId, expectedKeyState, tagKeys);
  }

  @Override
  public Page<TagRecord> listTags(UUID keyId, int limit, Optional<String> marker) {
    return tags.listTags(keyId, limit, marker);
  }

  // Deletion.

  @Override
  public List<UUID> findKeysDueForDeletion(Instant now, int limit) {
    return deletions.findKeysDueForDeletion(now, limit);
  }

  @Override
  public boolean deleteKey(UUID keyId, Instant now) {
    return deletions.deleteKey(keyId, now);
  }

  @Override
  public Optional<Instant> findDeletedKey(UUID keyId) {
    return deletions.findDeletedKey(keyId);
  }

  // Rotation.

  @Override
  public Optional<RotationSchedule> findRotationSchedule(UUID keyId) {
    return rotations.findRotationSchedule(keyId);
  }

  @Override
  public boolean setRotationSchedule(
      UUID keyId, String expectedKeyState, Integer periodDays, Instant nextRotationDate) {
    return rotations.setRotationSchedule(keyId, expectedKeyState, periodDays, nextRotationDate);
  }

  @Override
  public Optional<KeyVersionRecord> addRotation(
      RotationRecord rotation,
      String expectedKeyState,
      Instant expectedNextRotation,
      Instant newNextRotation,
      int domainKeyGeneration,
      int wrapMechanismCode,
      byte[] ekt) {
    return rotations.addRotation(
        rotation,
        expectedKeyState,
        expectedNextRotation,
        newNextRotation,
        domainKeyGeneration,
        wrapMechanismCode,
        ekt);
  }

  @Override
  public List<UUID> findKeysDueForRotation(Instant now, int limit) {
    return rotations.findKeysDueForRotation(now, limit);
  }

  @Override
  public Page<RotationRecord> listRotations(UUID keyId, int limit, Optional<String> marker) {
    return rotations.listRotations(keyId, limit, marker);
  }

  // Domain-key rotation.

  @Override
  public List<KeyVersionRecord> findVersionsBelowGeneration(
      int generation, UUID afterVersionId, int limit) {
    return domainKeys.findVersionsBelowGeneration(generation, afterVersionId, limit);
  }

  @Override
  public int replaceEkts(List<Map.Entry<KeyVersionRecord, KeyVersionRecord>> rewrapped) {
    return domainKeys.replaceEkts(rewrapped);
  }

  @Override
  public Map<Integer, Long> countVersionsByGeneration() {
    return domainKeys.countVersionsByGeneration();
  }

  @Override
  public boolean retireDomainKey(int generation, Instant at) {
    return domainKeys.retireDomainKey(generation, at);
  }

  @Override
  public List<Integer> retiredDomainKeys() {
    return domainKeys.retiredDomainKeys();
  }

  // Imported key material.

  @Override
  public Optional<ImportedMaterial> findImportedMaterial(UUID keyId) {
    return imported.find(keyId);
  }

  @Override
  public boolean storeImportedMaterial(
      ImportedMaterial material,
      String expectedState,
      String newState,
      KeyVersionRecord versionOrNull) {
    return imported.store(material, expectedState, newState, versionOrNull);
  }

  @Override
  public boolean deleteImportedMaterial(
      UUID keyId, String expectedState, String newState, Instant expectedValidTo) {
    return imported.delete(keyId, expectedState, newState, expectedValidTo);
  }

  @Override
  public List<UUID> findKeysWithMaterialExpiring(Instant now, int limit) {
    return imported.findExpiring(now, limit);
  }

  @Override
  public void close() {
    tx.close();
  }
}
