package io.p11kms.hsm.session;

import iaik.pkcs.pkcs11.wrapper.CK_C_INITIALIZE_ARGS;
import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
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
 *
 * <p>A library may need an initialization string in {@code C_Initialize}'s {@code pReserved} (NSS
 * softoken reads its database directory and token label there): it is the library's, so one process
 * initializes a library with one string, and a user that brings none shares the instance whatever
 * string it was initialized with.
 */
public final class Pkcs11Modules {
  private static final Map<Path, Entry> MODULES = new HashMap<>();

  private Pkcs11Modules() {}

  private static final class Entry {
    final PKCS11Module module;
    final String initString;
    int users;

    Entry(PKCS11Module module, String initString) {
      this.module = module;
      this.initString = initString;
    }
  }

  /** Loads and initializes the library at {@code path}, or shares the instance already open. */
  public static synchronized PKCS11Module acquire(Path path) {
    return acquire(path, "");
  }

  /** The library {@code config} names, initialized with its initialization string. */
  public static PKCS11Module acquire(HsmConfig config) {
    return acquire(config.modulePath(), config.moduleInitString());
  }

  /**
   * Loads and initializes the library at {@code path} with {@code initString} in {@code
   * C_Initialize}'s {@code pReserved} (empty: none), or shares the instance already open.
   *
   * @throws HsmException when the instance already open was initialized with another non-empty
   *     string (a process initializes a library once)
   */
  static synchronized PKCS11Module acquire(Path path, String initString) {
    String init = initString == null ? "" : initString;
    Path key = path.toAbsolutePath().normalize();
    Entry entry = MODULES.get(key);
    if (entry != null && !init.isEmpty() && !init.equals(entry.initString)) {
      throw new HsmException(
          "PKCS#11 module "
              + key
              + " is already initialized in this process with another initialization string");
    }
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
        initialize(module, init);
      } catch (PKCS11Exception e) {
        throw Pkcs11Errors.map(Pkcs11Function.C_INITIALIZE, e);
      }
      entry = new Entry(module, init);
      MODULES.put(key, entry);
    }
    entry.users++;
    return entry.module;
  }

  /** Initializes {@code module}; one this process initialized already is as good. */
  static void initialize(PKCS11Module module) throws PKCS11Exception {
    initialize(module, "");
  }

  /**
   * Initializes {@code module}, with {@code initString} in {@code pReserved} unless it is empty;
   * one this process initialized already is as good.
   */
  public static void initialize(PKCS11Module module, String initString) throws PKCS11Exception {
    try {
      if (initString == null || initString.isEmpty()) {
        module.initialize();
      } else {
        CK_C_INITIALIZE_ARGS args = new CK_C_INITIALIZE_ARGS();
        args.flags = PKCS11Constants.CKF_OS_LOCKING_OK;
        args.pReserved = initString;
        try {
          module.getPKCS11Module().C_Initialize(args, true);
        } catch (iaik.pkcs.pkcs11.wrapper.PKCS11Exception e) {
          throw module.convertException(e);
        }
      }
    } catch (PKCS11Exception e) {
      if (e.getErrorCode() != PKCS11Constants.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        throw e;
      }
    }
  }

  /** The initialization string the library at {@code path} was initialized with, or empty. */
  public static synchronized String initStringOf(Path path) {
    Entry entry = MODULES.get(path.toAbsolutePath().normalize());
    return entry == null ? "" : Objects.requireNonNullElse(entry.initString, "");
  }

  /** Gives the module back; the last user finalizes it. */
  public static synchronized void release(Path path) {
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
    initialize(entry.module, entry.initString);
    return true;
  }
}
