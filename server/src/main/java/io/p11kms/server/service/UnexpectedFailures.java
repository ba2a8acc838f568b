package io.p11kms.server.service;

import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An unexpected failure as every front end reports it: logged in full with a new error id, and
 * returned as {@code KMSInternalException} naming only that id, never its detail.
 */
public final class UnexpectedFailures {
  private static final Logger log = LoggerFactory.getLogger(UnexpectedFailures.class);

  private UnexpectedFailures() {}

  /** Logs {@code failure} under a new error id; the INTERNAL error the caller sees. */
  public static KmsException report(Throwable failure) {
    String errorId = UUID.randomUUID().toString();
    log.error("internal error {}", errorId, failure);
    return new KmsException(KmsError.INTERNAL, "Internal error " + errorId);
  }
}
