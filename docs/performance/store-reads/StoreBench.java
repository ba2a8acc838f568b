import io.p11kms.server.store.*;
import java.lang.reflect.Method;
import java.nio.file.*;
import java.time.Instant;
import java.util.*;

/**
 * Thread CPU time of the store reads of one Encrypt, 1,000 keys on SQLite, a random key per call
 * (a throwaway measurement for docs/performance.md, not part of the build). Modes: "old" = the four
 * reads before (findKey, findPolicy, findKey, findLatestVersion), run against a build before the
 * change; "new" = findKeyInUse; "key", "policy", "latest" = one read alone.
 *
 * <pre>
 * CP="server/target/p11kms-server.jar:$(cat server/target/classpath.txt)"
 * javac -cp "$CP" -d /tmp/sb StoreBench.java && java -cp "/tmp/sb:$CP" StoreBench new
 * </pre>
 */
public class StoreBench {
  public static void main(String[] a) throws Exception {
    String mode = a[0];
    Path dir = Files.createTempDirectory("storebench");
    KeyStore store = KeyStores.open("jdbc:sqlite:" + dir.resolve("k.db"));
    AccessStore access = AccessStore.of(store);
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      UUID id = UUID.randomUUID();
      store.createKey(new KeyRecord(id, Instant.now(), "", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", "ENABLED", "AWS_KMS", null),
          new KeyVersionRecord(id, UUID.randomUUID(), 1, Instant.now(), 1, 1, new byte[40]));
      access.putPolicy(id, "{\"Statement\":[]}", Instant.now());
      ids.add(id);
    }
    Method inUse = mode.equals("new") ? KeyStore.class.getMethod("findKeyInUse", UUID.class, UUID.class) : null;
    Random r = new Random(1);
    for (int round = 0; round < 6; round++) {
      int n = 20000;
      java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean(); long t0 = mx.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        UUID id = ids.get(r.nextInt(ids.size()));
        if (mode.equals("key")) {
          store.findKey(id);
        } else if (mode.equals("policy")) {
          access.findPolicy(id);
        } else if (mode.equals("latest")) {
          store.findLatestVersion(id);
        } else if (inUse != null) {
          inUse.invoke(store, id, null);
        } else {
          store.findKey(id); access.findPolicy(id); store.findKey(id); store.findLatestVersion(id);
        }
      }
      long t = mx.getCurrentThreadCpuTime() - t0;
      System.out.printf("%s round %d: %.1f us CPU per Encrypt's reads%n", mode, round, t / 1000.0 / n);
    }
    store.close();
  }
}
