package io.p11kms.hsm.session;

import io.p11kms.hsm.keys.BackingKeys;

/**
 * How many of the backing key cache's keys a library recycle unwraps again in the new instance (the
 * standby's warm-up and the refill after the move), by how much the cache was used in the instance
 * left.
 *
 * <p>Why: each key unwrapped again costs a {@code C_UnwrapKey} (and its destroy once evicted) and
 * pays only if a request uses it before the cache evicts it. Over the instance left, every miss put
 * a key in the cache and the hits used them: hits per miss is how often a key the cache took in was
 * used before it went. Under a Zipf(1.0) choice over 100,000 keys with 13,000 cached that is about
 * 3.5 (hit rate 0.78) and every cached key is worth its unwrap; under a uniform choice it is about
 * 0.14 (hit rate 0.12), and unwrapping the whole cache again (13,000 unwraps every 15 s at full
 * load) bought about one hit for every seven unwraps. So the recycle carries over the cache's most
 * used keys, as many as the cache's size times hits per miss, and all of them from one hit per miss
 * up.
 */
final class CacheCarryOver {
  private long hitsAtLastRecycle;
  private long missesAtLastRecycle;

  /**
   * The number of cached keys worth unwrapping again for a cache of {@code cached} keys that had
   * {@code hits} hits and {@code misses} misses since the last recycle: all of them when the hits
   * at least match the misses, else {@code cached * hits / misses}; all of them when nothing
   * missed.
   */
  static int keys(int cached, long hits, long misses) {
    if (cached <= 0) {
      return 0;
    }
    if (misses <= 0 || hits >= misses) {
      return cached;
    }
    return (int) (cached * ((double) Math.max(0, hits) / misses));
  }

  /**
   * The keys of {@code backingKeys}'s cache (of {@code cached} keys now) to unwrap again in this
   * recycle, by its hits and misses since the last one; the next recycle counts from here.
   */
  int keysForThisRecycle(BackingKeys backingKeys, int cached) {
    long hits = backingKeys.hits();
    long misses = backingKeys.misses();
    int carry = keys(cached, hits - hitsAtLastRecycle, misses - missesAtLastRecycle);
    hitsAtLastRecycle = hits;
    missesAtLastRecycle = misses;
    return carry;
  }
}
