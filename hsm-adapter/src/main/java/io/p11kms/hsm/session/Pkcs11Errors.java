package io.p11kms.hsm.session;

import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_CRYPTOKI_NOT_INITIALIZED;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_DEVICE_ERROR;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_DEVICE_MEMORY;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_DEVICE_REMOVED;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_ENCRYPTED_DATA_INVALID;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_ENCRYPTED_DATA_LEN_RANGE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_FUNCTION_CANCELED;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_GENERAL_ERROR;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_KEY_HANDLE_INVALID;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_OBJECT_HANDLE_INVALID;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_SESSION_CLOSED;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_SESSION_COUNT;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_SESSION_EXISTS;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_SESSION_HANDLE_INVALID;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_SESSION_READ_ONLY_EXISTS;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_SESSION_READ_WRITE_SO_EXISTS;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_SLOT_ID_INVALID;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_TOKEN_NOT_PRESENT;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_TOKEN_NOT_RECOGNIZED;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_UNWRAPPING_KEY_HANDLE_INVALID;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_USER_NOT_LOGGED_IN;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_WRAPPED_KEY_INVALID;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_WRAPPED_KEY_LEN_RANGE;
import static org.xipki.pkcs11.wrapper.PKCS11Constants.CKR_WRAPPING_KEY_HANDLE_INVALID;

import io.p11kms.hsm.HsmDecryptionFailedException;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.HsmUnavailableException;
import java.util.Set;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;

/**
 * Turns CKR codes into the adapter's exception types.
 *
 * <p>Why one place: the service layer decides retries and client errors by exception type only, so
 * the split between "token unreachable" and "internal fault" must be made consistently. Messages
 * name the operation and the CKR name and nothing else: no key bytes, no PIN, no handle.
 */
public final class Pkcs11Errors {

  /** The token, the session or the library went away: retrying later may succeed. */
  private static final Set<Long> UNAVAILABLE =
      Set.of(
          CKR_DEVICE_ERROR,
          CKR_DEVICE_MEMORY,
          CKR_DEVICE_REMOVED,
          CKR_TOKEN_NOT_PRESENT,
          CKR_TOKEN_NOT_RECOGNIZED,
          CKR_SESSION_CLOSED,
          CKR_SESSION_COUNT,
          CKR_SESSION_HANDLE_INVALID,
          CKR_SESSION_EXISTS,
          CKR_SESSION_READ_ONLY_EXISTS,
          CKR_SESSION_READ_WRITE_SO_EXISTS,
          CKR_USER_NOT_LOGGED_IN,
          CKR_CRYPTOKI_NOT_INITIALIZED,
          CKR_FUNCTION_CANCELED,
          CKR_SLOT_ID_INVALID);

  /** Codes that mean this session is dead: it is closed and replaced, never pooled again. */
  private static final Set<Long> DEAD_SESSION =
      Set.of(CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED);

  /** A ciphertext that does not authenticate, as tokens report it at C_Decrypt. */
  private static final Set<Long> BAD_CIPHERTEXT =
      Set.of(CKR_GENERAL_ERROR, CKR_ENCRYPTED_DATA_INVALID, CKR_ENCRYPTED_DATA_LEN_RANGE);

  /** An EKT that does not unwrap under its domain key, as tokens report it at C_UnwrapKey. */
  private static final Set<Long> BAD_EKT =
      Set.of(
          CKR_GENERAL_ERROR,
          CKR_WRAPPED_KEY_INVALID,
          CKR_WRAPPED_KEY_LEN_RANGE,
          CKR_UNWRAPPING_KEY_HANDLE_INVALID,
          CKR_ENCRYPTED_DATA_INVALID,
          CKR_ENCRYPTED_DATA_LEN_RANGE);

  /** What the adapter does about a failed call before it retries it once. */
  public enum Recovery {
    /** Nothing: the failure is the answer. */
    NONE,
    /** The application's login was lost (and with it every private session object): log in. */
    LOG_IN,
    /** Sessions or object handles went stale: close every session, log in, find keys again. */
    RESET,
    /** The device or the library went away: as RESET, after initializing and finding the token. */
    REOPEN
  }

  private static final Set<Long> RESET_CODES =
      Set.of(
          CKR_SESSION_HANDLE_INVALID,
          CKR_SESSION_CLOSED,
          CKR_KEY_HANDLE_INVALID,
          CKR_OBJECT_HANDLE_INVALID,
          CKR_UNWRAPPING_KEY_HANDLE_INVALID,
          CKR_WRAPPING_KEY_HANDLE_INVALID);

  private static final Set<Long> REOPEN_CODES =
      Set.of(
          CKR_DEVICE_REMOVED,
          CKR_TOKEN_NOT_PRESENT,
          CKR_DEVICE_ERROR,
          CKR_CRYPTOKI_NOT_INITIALIZED);

  /** The one message every authentication failure carries, so that it leaks nothing. */
  public static final String DECRYPTION_FAILED = "decryption failed";

  private Pkcs11Errors() {}

  static boolean isDeadSession(PKCS11Exception e) {
    return DEAD_SESSION.contains(e.getErrorCode());
  }

  /** The recovery a failure with {@code code} calls for. */
  public static Recovery recoveryFor(long code) {
    if (code == CKR_USER_NOT_LOGGED_IN) {
      return Recovery.LOG_IN;
    }
    if (RESET_CODES.contains(code)) {
      return Recovery.RESET;
    }
    if (REOPEN_CODES.contains(code)) {
      return Recovery.REOPEN;
    }
    return Recovery.NONE;
  }

  public static String name(long code) {
    String name = PKCS11Constants.ckrCodeToName(code);
    return name != null ? name : String.format("CKR_0x%08X", code);
  }

  /** Session, device or library trouble becomes unavailable; the rest an internal fault. */
  public static HsmException map(String operation, PKCS11Exception e) {
    long code = e.getErrorCode();
    String message = operation + " failed: " + name(code);
    if (UNAVAILABLE.contains(code) || name(code).startsWith("CKR_SESSION_")) {
      return new HsmUnavailableException(message);
    }
    return new HsmException(message);
  }

  /** As {@link #map(String, PKCS11Exception)}, named by the step that failed. */
  public static HsmException map(TokenStep step, PKCS11Exception e) {
    return map(step.label(), e);
  }

  /** As {@link #map}, but a C_Decrypt that rejects the data is a decryption failure. */
  public static HsmException mapDecrypt(PKCS11Exception e) {
    if (BAD_CIPHERTEXT.contains(e.getErrorCode())) {
      return new HsmDecryptionFailedException(DECRYPTION_FAILED);
    }
    return map(Pkcs11Function.C_DECRYPT, e);
  }

  /** As {@link #map}, but an EKT that will not unwrap during decrypt is a decryption failure. */
  public static HsmException mapUnwrapForDecrypt(PKCS11Exception e) {
    if (BAD_EKT.contains(e.getErrorCode())) {
      return new HsmDecryptionFailedException(DECRYPTION_FAILED);
    }
    return map(Pkcs11Function.C_UNWRAP_KEY, e);
  }
}
