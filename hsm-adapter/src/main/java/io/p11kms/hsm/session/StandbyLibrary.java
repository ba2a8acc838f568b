package io.p11kms.hsm.session;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;

/**
 * The two instances of the PKCS#11 library that a connection which must recycle its library ({@link
 * LibraryRecycling}) takes turns on: the shared one ({@link Pkcs11Modules}) and a private copy,
 * loaded when first needed; or two copies, once another user is found sharing the first.
 *
 * <p>Why: {@code C_Finalize} is the only way SoftHSM2 frees what it keeps of destroyed objects, and
 * it ends every session and the login. Done in place, every call waits for it and the login after
 * it (9-36 ms under load: the half-peak p99 of the benchmark). A copy of the library file loaded
 * from another path is a second instance with its own state, as in a second process: the connection
 * logs in on the standby, switches to it between two calls, and finalizes the instance it left off
 * the request path ({@link TokenConnection#recycleLibraryIfDue}).
 *
 * <p>Not thread-safe: the connection uses it under its recycle gate.
 */
public final class StandbyLibrary {
  /** Loads a second instance of the library at a path; the default copies the file. */
  @FunctionalInterface
  public interface Loader {
    PKCS11Module load(Path modulePath) throws IOException;
  }

  public static final Loader PRIVATE_COPY = StandbyLibrary::loadPrivateCopy;

  private final Path modulePath;
  private final PKCS11Module primary;
  private final Loader loader;
  private final Calls calls;
  // The two instances taken in turns; a null one is loaded (a private copy) when next needed.
  private final PKCS11Module[] instances = new PKCS11Module[2];
  private int inUse;
  private boolean standbyDirty;

  StandbyLibrary(Path modulePath, PKCS11Module primary, Loader loader, Calls calls) {
    this.modulePath = modulePath;
    this.primary = primary;
    this.loader = loader;
    this.calls = calls;
    instances[0] = primary;
  }

  /**
   * The instance not in use, initialized: a copy is loaded when there is none, and an instance
   * whose last finalize failed is finalized and initialized again first.
   *
   * @throws IOException when the copy cannot be loaded (a temporary directory mounted without exec,
   *     say): the caller recycles in place instead
   */
  PKCS11Module ready() throws IOException, PKCS11Exception {
    int next = 1 - inUse;
    if (standbyDirty && instances[next] != null) {
      boolean refreshed = refresh(instances[next]);
      standbyDirty = false;
      if (!refreshed) {
        // The shared instance, and another user holds it now: out of the rotation.
        instances[next] = null;
      }
    }
    if (instances[next] == null) {
      instances[next] = loader.load(modulePath);
      // Dirty until initialized: a failed first initialize is retried as a refresh.
      standbyDirty = true;
      initialize(instances[next]);
      standbyDirty = false;
    }
    return instances[next];
  }

  /** Whether the connection is on the shared instance (the only one it can recycle in place). */
  boolean onShared() {
    return instances[inUse] == primary;
  }

  /** The connection switched to {@link #ready()}. */
  void switched() {
    inUse = 1 - inUse;
  }

  /**
   * Finalizes and initializes again the instance the connection just left, freeing all it held. The
   * shared instance, when another user holds it too, is not finalized (that would end the other
   * user's sessions): it leaves the rotation, and a second copy takes its place.
   *
   * @return whether it was finalized (if not, the caller closes its sessions there one by one)
   * @throws PKCS11Exception when the finalize or initialize fails; the next {@link #ready()} tries
   *     again
   */
  boolean refreshLeft() throws PKCS11Exception {
    int left = 1 - inUse;
    try {
      boolean done = refresh(instances[left]);
      standbyDirty = false;
      if (!done) {
        instances[left] = null;
      }
      return done;
    } catch (PKCS11Exception | RuntimeException e) {
      standbyDirty = true;
      throw e;
    }
  }

  private boolean refresh(PKCS11Module instance) throws PKCS11Exception {
    calls.before(Pkcs11Function.C_FINALIZE);
    if (instance == primary) {
      return Pkcs11Modules.reinitialize(modulePath);
    }
    try {
      instance.finalize(null);
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_CRYPTOKI_NOT_INITIALIZED) {
        throw e;
      }
    }
    initialize(instance);
    return true;
  }

  private void initialize(PKCS11Module instance) throws PKCS11Exception {
    calls.before(Pkcs11Function.C_INITIALIZE);
    Pkcs11Modules.initialize(instance, Pkcs11Modules.initStringOf(modulePath));
  }

  /**
   * Finalizes the copies, except the one in use if {@code keepInUse} (a call hung in it). The
   * shared instance is given back by its owner ({@link Pkcs11Modules#release}).
   */
  void close(boolean keepInUse) {
    for (int i = 0; i < instances.length; i++) {
      PKCS11Module instance = instances[i];
      if (instance == null || instance == primary || (keepInUse && i == inUse)) {
        continue;
      }
      try {
        instance.finalize(null);
      } catch (PKCS11Exception e) {
        // Not initialized, or a library that will not finalize: nothing more to do with it.
      }
    }
  }

  /**
   * Copies the library file into a directory only this user can read, loads it from there and
   * deletes both: the loaded mapping outlives the file.
   */
  private static PKCS11Module loadPrivateCopy(Path modulePath) throws IOException {
    Path dir =
        Files.createTempDirectory(
            "p11kms-module-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path copy = dir.resolve(modulePath.getFileName());
    try {
      Files.copy(modulePath, copy);
      return PKCS11Module.getInstance(copy.toString());
    } catch (RuntimeException e) {
      throw new IOException("cannot load a copy of " + modulePath, e);
    } finally {
      Files.deleteIfExists(copy);
      Files.deleteIfExists(dir);
    }
  }
}
