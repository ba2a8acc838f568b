package io.p11kms.server.store;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What a key read costs in CPU on a SQLite store of many keys (a figure, no assertion), off by
 * default: {@code mvn -B -pl server -am test -Dtest=KeyReadCostTest -Dp11kms.bench=true
 * -Dsurefire.failIfNoSpecifiedTests=false -Dp11kms.bench.db=PATH [-Dp11kms.bench.threads=N]
 * [-Dp11kms.bench.cache=N] [-Dp11kms.bench.keys=N] [-Dp11kms.bench.url=?pragma=value]}, PATH a copy
 * of a server's database (the benchmark's, kept with {@code P11KMS_BENCH_DATA}; {@code sqlite3 DB
 * ".backup PATH"}). Keys are picked uniformly, so every read misses the key read cache (one entry
 * by default) unless {@code p11kms.bench.cache} holds the whole key set, when all reads after the
 * first round hit it ({@code p11kms.bench.keys}: the first N keys only). CPU time of the reading
 * threads, so that other processes on the machine change it little.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class KeyReadCostTest {
  private static final int ROUNDS = 5;
  private static final int READS = 20_000;

  @Test
  void keyReadCost() throws Exception {
    String url = "jdbc:sqlite:" + System.getProperty("p11kms.bench.db");
    String options = System.getProperty("p11kms.bench.url", "");
    int threads = Integer.getInteger("p11kms.bench.threads", 1);
    int cache = Integer.getInteger("p11kms.bench.cache", 1);
    List<UUID> ids = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT key_id FROM keys")) {
      int keys = Integer.getInteger("p11kms.bench.keys", Integer.MAX_VALUE);
      while (rs.next() && ids.size() < keys) {
        ids.add(UUID.fromString(rs.getString(1)));
      }
    }
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    try (JdbcKeyStore store =
        (JdbcKeyStore) KeyStores.open(StoreSettings.of(url + options), cache)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      for (int round = 0; round < ROUNDS; round++) {
        List<Future<long[]>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          done.add(
              pool.submit(
                  () -> {
                    long start = cpu.getCurrentThreadCpuTime();
                    long startUser = cpu.getCurrentThreadUserTime();
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    for (int i = 0; i < READS; i++) {
                      store.findKeyInUse(ids.get(random.nextInt(ids.size())), null).orElseThrow();
                    }
                    return new long[] {
                      cpu.getCurrentThreadCpuTime() - start,
                      cpu.getCurrentThreadUserTime() - startUser
                    };
                  }));
        }
        long total = 0;
        long user = 0;
        for (Future<long[]> f : done) {
          long[] t = f.get();
          total += t[0];
          user += t[1];
        }
        System.out.printf(
            "round %d: %,d keys, %d threads: %.1f us of CPU per key read (%.1f us user)%n",
            round,
            ids.size(),
            threads,
            total / 1e3 / READS / threads,
            user / 1e3 / READS / threads);
      }
      pool.shutdown();
    }
  }
}
