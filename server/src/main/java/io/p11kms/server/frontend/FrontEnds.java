package io.p11kms.server.frontend;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front ends a server runs, closed together, the last started first: a front end that fails to
 * close does not keep the others open.
 */
public final class FrontEnds implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FrontEnds.class);

  private final Deque<FrontEnd> running = new ArrayDeque<>();

  /** Holds {@code frontEnd} until {@link #close()}; returns it. */
  public synchronized <F extends FrontEnd> F add(F frontEnd) {
    running.push(frontEnd);
    return frontEnd;
  }

  @Override
  public synchronized void close() {
    while (!running.isEmpty()) {
      FrontEnd frontEnd = running.pop();
      try {
        frontEnd.close();
      } catch (RuntimeException e) {
        log.warn("closing a front end failed: {}", e.toString());
      }
    }
  }
}
