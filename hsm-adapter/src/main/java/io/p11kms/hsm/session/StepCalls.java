package io.p11kms.hsm.session;

import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/**
 * Runs a request's token work through the connection (deadline, recovery, one retry), telling the
 * work the {@link Step} it is in, and maps a failure by that step: a ciphertext rejected at
 * C_Decrypt is a decryption failure, anything else is mapped by its CKR code.
 */
public final class StepCalls {
  /**
   * Call deadlines an RSA key generation gets: SoftHSM2 takes about a second for RSA-4096 on an
   * idle machine and over ten on a loaded one.
   */
  public static final int RSA_GENERATION_DEADLINE_FACTOR = 6;

  /** Token work that says which step it is in. */
  @FunctionalInterface
  public interface StepWork<T> {
    T run(Session session, Step step) throws PKCS11Exception;
  }

  private final TokenConnection connection;

  public StepCalls(TokenConnection connection) {
    this.connection = connection;
  }

  /** Runs {@code work} within one call deadline. */
  public <T> T run(String operation, StepWork<T> work) {
    return run(operation, 1, work);
  }

  /** Runs {@code work} within {@code deadlineFactor} call deadlines. */
  public <T> T run(String operation, int deadlineFactor, StepWork<T> work) {
    connection.checkOpen();
    Step step = new Step(operation);
    try {
      return connection.call(operation, session -> work.run(session, step), true, deadlineFactor);
    } catch (PKCS11Exception e) {
      if (step.is(Pkcs11Function.C_DECRYPT)) {
        throw Pkcs11Errors.mapDecrypt(e);
      }
      throw Pkcs11Errors.map(step.label(), e);
    }
  }
}
