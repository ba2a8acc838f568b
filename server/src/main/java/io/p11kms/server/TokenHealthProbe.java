package io.p11kms.server;

import io.p11kms.hsm.Hsm;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the token {@link Hsm#isHealthy()} at a fixed interval (the adapter recovers the token if it
 * can) and reports each change, usable or not, to a listener (the gRPC health status). It starts
 * from usable.
 */
final class TokenHealthProbe implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TokenHealthProbe.class);

  private final Hsm hsm;
  private final Consumer<Boolean> report;
  private final ScheduledExecutorService probe =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "p11kms-health");
            t.setDaemon(true);
            return t;
          });
  private boolean reported = true;

  /** Reports to {@code report} whether the token is usable, each time that changes. */
  TokenHealthProbe(Hsm hsm, Consumer<Boolean> report) {
    this.hsm = hsm;
    this.report = report;
  }

  /** Probes every {@code interval} from now on. */
  void start(Duration interval) {
    long millis = interval.toMillis();
    probe.scheduleWithFixedDelay(this::probeToken, millis, millis, TimeUnit.MILLISECONDS);
  }

  private synchronized void probeToken() {
    boolean healthy;
    try {
      healthy = hsm.isHealthy();
    } catch (RuntimeException e) {
      healthy = false;
    }
    if (healthy != reported && !probe.isShutdown()) {
      reported = healthy;
      report.accept(healthy);
      if (healthy) {
        log.info("token usable again: health SERVING");
      } else {
        log.warn("token unusable: health NOT_SERVING");
      }
    }
  }

  @Override
  public void close() {
    probe.shutdownNow();
  }
}
