package io.p11kms.server.store;

import org.junit.jupiter.api.Nested;

/**
 * The key store's contract, one part per job of the store, run as it stands against every database:
 * {@link SqliteStoreTest} and {@link PostgresStoreTest} extend this class, give it a new empty
 * database per test, and add what only their database has.
 */
abstract class StoreContractTest {

  /** The URL of a new, empty database. */
  protected abstract String newDatabaseUrl();

  @Nested
  class Schema extends SchemaTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class Keys extends JdbcKeyStoreTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class Lifecycle extends JdbcKeyStoreLifecycleTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class Rotation extends JdbcKeyStoreRotationTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class Listings extends ListingsTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class InUse extends KeyInUseTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class Access extends AccessStoreTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class Xks extends XksKeysTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class Leases extends LeasesTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class AccessKeys extends AccessKeysTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class ConcurrentWriters extends ConcurrentWritersTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }

  @Nested
  class Imports extends ImportedMaterialStoreTest {
    @Override
    protected String newDatabaseUrl() {
      return StoreContractTest.this.newDatabaseUrl();
    }
  }
}
