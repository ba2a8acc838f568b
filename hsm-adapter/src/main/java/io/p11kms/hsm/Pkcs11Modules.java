package io.p11kms.hsm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;

/**
 * One initialized module per library path in this JVM, reference counted.
 *
 * <p>Why: {@code C_Initialize} and {@code C_Finalize} are process-wide. Two users of the same
 * library (a {@link Pkcs11Hsm} and a {@link DomainKeyCeremony}, or two adapters in one test) must
 * not finalize the library under each other's feet, and a second {@code C_Initialize} answers
 * {@code CKR_CRYPTOKI_ALREADY_INITIALIZED}.
 */
final class Pkcs11Modules {
  private static final Map<Path, Entry> MODULES = new HashMap<>();

  private Pkcs11Modules() {}

  private static final class Entry {
    final PKCS11Module module;
    int users;

    Entry(PKCS11Module module) {
      this.module = module;
    }
  }

  /** Loads and initializes the library at {@code path}, or shares the instance already open. */
  static synchronized PKCS11Module acquire(Path path) {
    Path key = path.toAbsolutePath().normalize();
    Entry entry = MODULES.get(key);
    if (entry == null) {
      WrapperLogging.install();
      PKCS11Module module;
      try {
        module = PKCS11Module.getInstance(key.toString());
      } catch (IOException | RuntimeException e) {
        throw new HsmException(
            "cannot load PKCS#11 module " + key + ": " + e.getClass().getSimpleName());
      }
      try {
        initialize(module);
      } catch (PKCS11Exception e) {
        throw Pkcs11Errors.map("C_Initialize", e);
      }
      entry = new Entry(module);
      MODULES.put(key, entry);
    }
    entry.users++;
    return entry.module;
  }

  /** Initializes {@code module}; one this process initialized already is as good. */
  static void initialize(PKCS11Module module) throws PKCS11Exception {
    try {
      module.initialize();
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw e;
      }
    }
  }

  /** Gives the module back; the last user finalizes it. */
  static synchronized void release(Path path) {
    Path key = path.toAbsolutePath().normalize();
    Entry entry = MODULES.get(key);
    if (entry == null) {
      return;
    }
    entry.users--;
    if (entry.users <= 0) {
      MODULES.remove(key);
      try {
        entry.module.finalize(null);
      } catch (PKCS11Exception e) {
        // Nothing left to do with a module that will not finalize; the process keeps going.
      }
    }
  }

  /**
   * Finalizes and initializes again the library at {@code path}, if exactly one user holds it (a
   * {@code C_Finalize} ends every session of the process: with another user it is not done).
   *
   * @return whether it was done
   * @throws PKCS11Exception when {@code C_Initialize} fails after the finalize
   */
  static synchronized boolean reinitialize(Path path) throws PKCS11Exception {
    Entry entry = MODULES.get(path.toAbsolutePath().normalize());
    if (entry == null || entry.users != 1) {
      return false;
    }
    try {
      entry.module.finalize(null);
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_CRYPTOKI_NOT_INITIALIZED) {
        throw e;
      }
    }
    entry.module.initialize();
    return true;
  }
}
