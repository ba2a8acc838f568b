package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Keys, versions, key listings and the schema: a part of {@link StoreContractTest}, run on every
 * database against a fresh database per test.
 */
abstract class JdbcKeyStoreTest extends StoreContractPart {
  @Test
  void asymmetricVersion_roundTripsDomainKeyKindAndPublicKey_andRewrapKeepsThem() {
    UUID id = UUID.randomUUID();
    byte[] publicKey = new byte[294];
    publicKey[0] = 0x30;
    publicKey[293] = 0x7f;
    KeyVersionRecord v =
        new KeyVersionRecord(
            id,
            UUID.randomUUID(),
            1,
            Instant.parse("2024-05-01T12:34:57Z"),
            1,
            2,
            new byte[1224],
            DomainKeyKind.ASYMMETRIC,
            publicKey);
    store.createKey(
        new KeyRecord(id, Instant.now(), "", "SIGN_VERIFY", "RSA_2048", "ENABLED", "AWS_KMS", null),
        v);

    assertThat(store.findLatestVersion(id)).contains(v);
    KeyVersionRecord moved = v.rewrapped(2, 2, new byte[] {1, 2, 3});
    assertThat(store.replaceEkts(List.of(java.util.Map.entry(v, moved)))).isEqualTo(1);
    KeyVersionRecord read = store.findLatestVersion(id).orElseThrow();
    assertThat(read.domainKeyKind()).isEqualTo(DomainKeyKind.ASYMMETRIC);
    assertThat(read.publicKey()).isEqualTo(publicKey);
    assertThat(read.ekt()).containsExactly(1, 2, 3);
    assertThat(read.domainKeyGeneration()).isEqualTo(2);
    // A symmetric key's version has the defaults: SYMMETRIC and no public key.
    UUID symmetric = create();
    assertThat(store.findLatestVersion(symmetric).orElseThrow().domainKeyKind())
        .isEqualTo(DomainKeyKind.SYMMETRIC);
    assertThat(store.findLatestVersion(symmetric).orElseThrow().publicKey()).isNull();
  }

  @Test
  void createKey_roundTripsKeyRecord() {
    UUID id = UUID.randomUUID();
    KeyRecord key =
        new KeyRecord(
            id,
            Instant.parse("2024-05-01T12:34:56.123456Z"),
            "déscription \u65e5\u672c",
            "ENCRYPT_DECRYPT",
            "SYMMETRIC_DEFAULT",
            "PENDING_DELETION",
            "AWS_KMS",
            Instant.parse("2024-06-01T00:00:00.000001Z"));
    store.createKey(key, version(id, 1));
    assertThat(store.findKey(id)).contains(key);
  }

  @Test
  void createKey_roundTripsVersionRecord() {
    UUID id = UUID.randomUUID();
    KeyVersionRecord v = version(id, 1);
    store.createKey(key(id), v);
    assertThat(store.findVersion(id, v.versionId())).contains(v);
    assertThat(store.findVersion(id, v.versionId()).get().ekt()).isEqualTo(v.ekt());
    assertThat(store.findLatestVersion(id)).contains(v);
  }

  @Test
  void records_truncateToMicroseconds() {
    assertThat(key(UUID.randomUUID()).creationDate())
        .isEqualTo(Instant.parse("2024-05-01T12:34:56.123456Z"));
  }

  @Test
  void find_unknownIds_areEmpty() {
    UUID id = create();
    assertThat(store.findKey(UUID.randomUUID())).isEmpty();
    assertThat(store.findVersion(id, UUID.randomUUID())).isEmpty();
    assertThat(store.findVersion(UUID.randomUUID(), UUID.randomUUID())).isEmpty();
    assertThat(store.findLatestVersion(UUID.randomUUID())).isEmpty();
  }

  @Test
  void findVersion_ofAnotherKey_isEmpty() {
    UUID a = UUID.randomUUID();
    KeyVersionRecord va = version(a, 1);
    store.createKey(key(a), va);
    UUID b = create();
    assertThat(store.findVersion(b, va.versionId())).isEmpty();
  }

  @Test
  void createKey_duplicateKeyId_failsAndAddsNoVersionRow() throws Exception {
    UUID id = create();
    KeyVersionRecord second = version(id, 1);
    assertThatThrownBy(() -> store.createKey(key(id), second))
        .isInstanceOf(KeyAlreadyExistsException.class)
        .isInstanceOf(KeyStoreException.class);
    assertThat(store.countKeys()).isEqualTo(1);
    assertThat(store.findVersion(id, second.versionId())).isEmpty();
    assertThat(countRows("key_versions")).isEqualTo(1);
  }

  @Test
  void createKey_duplicateVersionId_rollsBackTheKeyRow() throws Exception {
    UUID a = UUID.randomUUID();
    KeyVersionRecord va = version(a, 1);
    store.createKey(key(a), va);
    UUID b = UUID.randomUUID();
    KeyVersionRecord clash =
        new KeyVersionRecord(b, va.versionId(), 1, Instant.now(), 1, 1, va.ekt());
    assertThatThrownBy(() -> store.createKey(key(b), clash))
        .isInstanceOf(KeyAlreadyExistsException.class);
    assertThat(store.findKey(b)).isEmpty();
    assertThat(store.countKeys()).isEqualTo(1);
    assertThat(countRows("keys")).isEqualTo(1);
  }

  @Test
  void createKey_versionOfAnotherKey_isRejected() {
    UUID id = UUID.randomUUID();
    assertThatThrownBy(() -> store.createKey(key(id), version(UUID.randomUUID(), 1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.createKey(key(id), version(id, 2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be 1, was 2");
    assertThat(store.countKeys()).isZero();
  }

  @Test
  void findLatestVersion_picksHighestNumber() throws Exception {
    UUID id = create();
    KeyVersionRecord v3 = version(id, 3);
    KeyVersionRecord v2 = version(id, 2);
    // No rotation API yet: add versions the way a later migration's rotate() will.
    try (Connection c = connect(url)) {
      for (KeyVersionRecord v : List.of(v3, v2)) {
        try (var p =
            c.prepareStatement(
                "INSERT INTO key_versions (key_id, version_id, version_number, created_at,"
                    + " domain_key_generation, wrap_mechanism, ekt) VALUES (?,?,?,?,?,?,?)")) {
          p.setString(1, id.toString());
          p.setString(2, v.versionId().toString());
          p.setInt(3, v.versionNumber());
          p.setLong(4, SqlValues.toMicros(v.createdAt()));
          p.setInt(5, 1);
          p.setInt(6, 1);
          p.setBytes(7, v.ekt());
          p.executeUpdate();
        }
      }
    }
    assertThat(store.findLatestVersion(id)).contains(v3);
    assertThat(store.findVersion(id, v2.versionId())).contains(v2);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 1000})
  void listKeys_coversEveryKeyOnceInCreationOrder(int limit) {
    List<UUID> created = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      created.add(create());
    }
    List<UUID> listed = new ArrayList<>();
    Optional<String> marker = Optional.empty();
    int pages = 0;
    do {
      KeyPage page = store.listKeys(limit, marker);
      assertThat(page.keys()).hasSizeLessThanOrEqualTo(limit);
      page.keys().forEach(k -> listed.add(k.keyId()));
      marker = page.nextMarker();
      pages++;
    } while (marker.isPresent());
    assertThat(listed).containsExactlyElementsOf(created);
    assertThat(pages).isEqualTo((25 + limit - 1) / limit);
  }

  @Test
  void listKeys_empty_hasNoMarker() {
    KeyPage page = store.listKeys(10, Optional.empty());
    assertThat(page.keys()).isEmpty();
    assertThat(page.nextMarker()).isEmpty();
  }

  @Test
  void listKeys_exactlyFullPage_hasNoMarker() {
    create();
    create();
    assertThat(store.listKeys(2, Optional.empty()).nextMarker()).isEmpty();
  }

  @Test
  void listKeys_keysCreatedBetweenPages_appearOnLaterPagesOnce() {
    List<UUID> created = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      created.add(create());
    }
    List<UUID> listed = new ArrayList<>();
    Optional<String> marker = Optional.empty();
    do {
      KeyPage page = store.listKeys(2, marker);
      page.keys().forEach(k -> listed.add(k.keyId()));
      marker = page.nextMarker();
      if (created.size() < 11) {
        created.add(create());
        created.add(create());
      }
    } while (marker.isPresent());
    assertThat(created).hasSize(11);
    assertThat(listed).containsExactlyElementsOf(created);
  }

  @Test
  void listKeys_markerFromBeforeInserts_staysValid() {
    for (int i = 0; i < 3; i++) {
      create();
    }
    KeyPage first = store.listKeys(2, Optional.empty());
    UUID later = create();
    KeyPage second = store.listKeys(2, first.nextMarker());
    assertThat(second.keys()).hasSize(2);
    assertThat(second.keys().get(1).keyId()).isEqualTo(later);
    assertThat(second.nextMarker()).isEmpty();
  }

  @Test
  void listKeys_malformedMarker_fails() {
    create();
    for (String bad :
        List.of("", "x", "not base64!", "AAAAAAAAAAAA", PageMarkers.encodeMarker(5) + "A")) {
      assertThatThrownBy(() -> store.listKeys(10, Optional.of(bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("marker is malformed");
    }
  }

  @Test
  void listKeys_markerOfZeroOrNegative_fails() {
    assertThatThrownBy(() -> store.listKeys(10, Optional.of(PageMarkers.encodeMarker(0))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> store.listKeys(10, Optional.of(PageMarkers.encodeMarker(-1))))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void marker_roundTrips() {
    for (long seq : new long[] {1, 2, 255, 1L << 40, Long.MAX_VALUE}) {
      assertThat(PageMarkers.decodeMarker(PageMarkers.encodeMarker(seq))).isEqualTo(seq);
    }
  }

  @Test
  void listKeys_limitOutOfRange_fails() {
    assertThatThrownBy(() -> store.listKeys(0, Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("limit must be 1-1000, was 0");
    assertThatThrownBy(() -> store.listKeys(1001, Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void countKeys_countsKeys() {
    assertThat(store.countKeys()).isZero();
    create();
    create();
    assertThat(store.countKeys()).isEqualTo(2);
  }

  @Test
  void reopen_keepsDataAndSchema() {
    UUID id = UUID.randomUUID();
    KeyVersionRecord v = version(id, 1);
    store.createKey(key(id), v);
    store.close();
    store = KeyStores.open(url);
    assertThat(store.findKey(id)).contains(key(id));
    assertThat(store.findLatestVersion(id)).contains(v);
    store.close();
    store = KeyStores.open(url);
    assertThat(((JdbcKeyStore) store).schemaVersion()).isEqualTo(Migrations.latestVersion());
    assertThat(store.countKeys()).isEqualTo(1);
  }

  @Test
  void open_recordsEachMigrationOnce() throws Exception {
    store.close();
    store = KeyStores.open(url);
    assertThat(countRows("schema_version")).isEqualTo(Migrations.ALL.size());
  }

  @Test
  void open_schemaNewerThanServer_fails() throws Exception {
    store.close();
    try (Connection c = connect(url);
        Statement s = c.createStatement()) {
      s.executeUpdate(
          "INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'x', 0)");
    }
    assertThatThrownBy(() -> KeyStores.open(url))
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("newer");
    store = KeyStores.open(newDatabaseUrl());
  }

  @Test
  void foreignKey_versionWithoutKey_isRejected() throws Exception {
    try (Connection c = connect(url);
        PreparedStatement p =
            c.prepareStatement(
                "INSERT INTO key_versions (key_id, version_id, version_number, created_at,"
                    + " domain_key_generation, wrap_mechanism, ekt)"
                    + " VALUES ('nokey', 'v', 1, 0, 1, 1, ?)")) {
      p.setBytes(1, new byte[] {0});
      assertThatThrownBy(p::executeUpdate).isInstanceOf(java.sql.SQLException.class);
    }
  }

  @Test
  void afterClose_callsFail() {
    store.close();
    assertThatThrownBy(() -> store.countKeys())
        .isInstanceOf(KeyStoreException.class)
        .hasMessage("key store is closed");
  }

  @Test
  void concurrentCreateKey_8threads50each_all400Stored() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<List<UUID>>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        futures.add(
            pool.submit(
                () -> {
                  List<UUID> mine = new ArrayList<>();
                  for (int i = 0; i < 50; i++) {
                    UUID id = create();
                    mine.add(id);
                    assertThat(store.findKey(id)).isPresent();
                  }
                  return mine;
                }));
      }
      Set<UUID> all = new HashSet<>();
      for (Future<List<UUID>> f : futures) {
        all.addAll(f.get(120, TimeUnit.SECONDS));
      }
      assertThat(all).hasSize(400);
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.countKeys()).isEqualTo(400);
    assertThat(countRows("key_versions")).isEqualTo(400);
    Set<UUID> listed = new HashSet<>();
    Optional<String> marker = Optional.empty();
    do {
      KeyPage page = store.listKeys(7, marker);
      page.keys().forEach(k -> assertThat(listed.add(k.keyId())).isTrue());
      marker = page.nextMarker();
    } while (marker.isPresent());
    assertThat(listed).hasSize(400);
  }

  @Test
  void concurrentReadsDuringWrites_seeConsistentPages() throws Exception {
    for (int i = 0; i < 20; i++) {
      create();
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      Future<?> writer =
          pool.submit(
              () -> {
                for (int i = 0; i < 100; i++) {
                  create();
                }
              });
      List<Future<?>> readers = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        readers.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 30; i++) {
                    Set<UUID> seen = new HashSet<>();
                    Optional<String> marker = Optional.empty();
                    do {
                      KeyPage page = store.listKeys(9, marker);
                      page.keys().forEach(k -> assertThat(seen.add(k.keyId())).isTrue());
                      marker = page.nextMarker();
                    } while (marker.isPresent());
                    assertThat(seen.size()).isGreaterThanOrEqualTo(20);
                  }
                }));
      }
      writer.get(60, TimeUnit.SECONDS);
      for (Future<?> f : readers) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(store.countKeys()).isEqualTo(120);
  }

  @Test
  void versionRecord_copiesEktAndHidesIt() {
    byte[] ekt = {1, 2, 3};
    KeyVersionRecord v =
        new KeyVersionRecord(UUID.randomUUID(), UUID.randomUUID(), 1, Instant.now(), 1, 1, ekt);
    ekt[0] = 9;
    assertThat(v.ekt()[0]).isEqualTo((byte) 1);
    v.ekt()[0] = 9;
    assertThat(v.ekt()[0]).isEqualTo((byte) 1);
    assertThat(v.toString()).contains("ektLength=3").doesNotContain("[B@");
  }

  /** A plain connection, configured as the store configures its own (SQLite: foreign keys on). */
  static Connection connect(String url) throws java.sql.SQLException {
    return url.startsWith(SqliteDialect.PREFIX)
        ? new SqliteDialect(url).connect()
        : DriverManager.getConnection(url);
  }

  private long countRows(String table) throws Exception {
    try (Connection c = connect(url);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
