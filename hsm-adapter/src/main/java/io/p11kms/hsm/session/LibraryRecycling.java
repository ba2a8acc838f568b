package io.p11kms.hsm.session;

import io.p11kms.hsm.HsmConfig;

/**
 * When to initialize the PKCS#11 library afresh, and how often that was done.
 *
 * <p>Why: SoftHSM2 2.6.1 keeps the shell of every session object it ever destroyed (the object, its
 * mutex, a set entry: about 240 bytes under glibc's malloc, 450 under jemalloc) until {@code
 * C_Finalize}. Each request makes and destroys one or two objects (its derived key, an unwrapped
 * backing key), so a server at 4,000 requests/s grows by about 1 MB/s without bound (measured by
 * {@code LibraryMemoryBenchTest}). Only a {@code C_Finalize} frees them, and it ends every session
 * and the login too; so after a bound of objects made the connection moves to a standby instance of
 * the library, already logged in, and finalizes the one it left ({@link StandbyLibrary}, {@code
 * TokenConnection#recycleLibraryIfDue}). A library that frees what it destroys needs none of this:
 * the default ({@link HsmConfig#LIBRARY_RECYCLE_AUTO}) sets a bound only for SoftHSM2.
 */
public final class LibraryRecycling {
  /**
   * About 22 MB of shells on SoftHSM2 at most (about 450 bytes each under jemalloc, the allocator
   * run.sh preloads), in the instance in use (the one left is finalized right after a switch); they
   * count in the server's peak resident memory, with the cached keys. A switch to the standby holds
   * calls only while the connection moves over (0.1-1 ms); the instance left is finalized off the
   * request path. Each switch unwraps the cache's keys again (the most used eighth on the standby
   * before the move, the rest right after it), each an object of the new instance, so a bound much
   * lower than this spends more of each instance's objects on refilling the cache. A recycle in
   * place (no standby) stops calls for a time that grows with the shells it frees (measured under
   * load: 86-135 ms at 200,000; at 20,000, 9-34 ms).
   */
  static final long SOFTHSM_BOUND = 50_000;

  private final long bound;
  private volatile long objectsAtStart;
  private volatile long recycles;

  /**
   * @param configured the configured bound: 0 never, {@link HsmConfig#LIBRARY_RECYCLE_AUTO} by the
   *     library, else the bound itself
   * @param manufacturerId the library's {@code C_GetInfo} manufacturer
   * @param objectsMade objects made so far by this connection
   */
  LibraryRecycling(long configured, String manufacturerId, long objectsMade) {
    this.bound =
        configured == HsmConfig.LIBRARY_RECYCLE_AUTO
            ? (manufacturerId != null && manufacturerId.strip().startsWith("SoftHSM")
                ? SOFTHSM_BOUND
                : 0)
            : configured;
    this.objectsAtStart = objectsMade;
  }

  /** Objects made after which the library is recycled; 0 for never. */
  long bound() {
    return bound;
  }

  /** Whether {@code objectsMade} objects since start call for a recycle now. */
  boolean due(long objectsMade) {
    return bound > 0 && objectsMade - objectsAtStart >= bound;
  }

  /** A recycle was done when {@code objectsMade} objects had been made. */
  void done(long objectsMade) {
    objectsAtStart = objectsMade;
    recycles++;
  }

  /**
   * {@code objects} made since the last recycle are not counted: the cache's keys unwrapped again
   * in the new instance after a move. Like the keys warmed before it, they stand for the cached
   * objects the instance left freed whole in its finalize, which left no remains behind, and the
   * next finalize frees these the same way unless the cache evicts them (then the miss that
   * replaces one counts).
   */
  void exclude(long objects) {
    objectsAtStart += objects;
  }

  /**
   * No recycle was done when {@code objectsMade} objects had been made (it failed, or another user
   * shares the library): the next is due a bound later, not at the next probe.
   */
  void postpone(long objectsMade) {
    objectsAtStart = objectsMade;
  }

  /** Recycles done since start. */
  public long recycles() {
    return recycles;
  }
}
