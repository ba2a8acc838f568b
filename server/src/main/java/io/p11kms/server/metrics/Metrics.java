package io.p11kms.server.metrics;

import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.server.access.RefusalAuditLimit;
import io.p11kms.server.service.DomainKeyRewrap;
import io.p11kms.server.service.KeyRotationService;
import java.lang.management.ManagementFactory;

/**
 * The server's meters, in one Prometheus registry: requests (by {@link RequestInterceptor}), token
 * calls (by {@link TimedHsm}), the adapter's backing-key cache size, and the JVM's memory (the heap
 * bytes allocated so far among them), threads and CPU.
 */
public final class Metrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  /**
   * The registry, whose JVM meters are bound on a thread of their own: they load the platform's
   * management beans, 60-70 ms of the main thread's CPU on the way to SERVING, which the token's
   * opening can overlap. A scrape in the first moments may lack them.
   */
  public Metrics() {
    Thread binder = new Thread(this::bindJvmMeters, "p11kms-metrics-jvm");
    binder.setDaemon(true);
    binder.start();
  }

  private void bindJvmMeters() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads
        && threads.isThreadAllocatedMemorySupported()) {
      FunctionCounter.builder(
              "p11kms.jvm.allocated", threads, t -> (double) t.getTotalThreadAllocatedBytes())
          .baseUnit("bytes")
          .description("heap bytes allocated since the start, by every thread, ended ones included")
          .register(registry);
    }
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The interceptor that measures and logs every gRPC call. */
  public ServerInterceptor interceptor() {
    return new RequestInterceptor(registry);
  }

  /** {@code hsm}, with every call timed; gauges for what a {@link Pkcs11Hsm} exposes. */
  public Hsm instrument(Hsm hsm) {
    if (hsm instanceof Pkcs11Hsm pkcs11) {
      Gauge.builder("p11kms.hsm.cache.backing.keys", pkcs11, Pkcs11Hsm::cachedBackingKeyCount)
          .description("unwrapped backing keys held in the adapter's cache")
          .register(registry);
      Gauge.builder("p11kms.hsm.sessions.in.use", pkcs11, Pkcs11Hsm::sessionsInUse)
          .description("pooled token sessions borrowed now")
          .register(registry);
      Gauge.builder("p11kms.hsm.sessions.waiting", pkcs11, Pkcs11Hsm::sessionsWaiting)
          .description("callers waiting for a pooled token session")
          .register(registry);
      FunctionCounter.builder(
              "p11kms.hsm.cache.hits", pkcs11, p -> (double) p.backingKeyCacheHits())
          .description("requests whose backing key was in the cache")
          .register(registry);
      FunctionCounter.builder(
              "p11kms.hsm.cache.misses", pkcs11, p -> (double) p.backingKeyCacheMisses())
          .description("requests that unwrapped their backing key")
          .register(registry);
      FunctionCounter.builder(
              "p11kms.hsm.library.recycles", pkcs11, p -> (double) p.libraryRecycles())
          .description("times the PKCS#11 library was initialized afresh to free destroyed objects")
          .register(registry);
    }
    return TimedHsm.wrap(hsm, registry);
  }

  /**
   * Counters of the rotations the server performs: key versions made, EKTs re-wrapped. Micrometer
   * holds the objects weakly; the server holds them for its life.
   */
  public void countRotations(KeyRotationService rotations, DomainKeyRewrap rewrap) {
    FunctionCounter.builder("p11kms.key.rotations", rotations, r -> (double) r.rotationsPerformed())
        .description("backing keys rotated (new key versions), automatic and on demand")
        .register(registry);
    FunctionCounter.builder("p11kms.domain.key.rewraps", rewrap, r -> (double) r.ektsRewrapped())
        .description("EKTs re-wrapped under a newer domain key generation")
        .register(registry);
  }

  /**
   * A counter of the requests refused before authentication that were not recorded in the audit
   * log, being over {@code limit}'s bound per client address.
   */
  public void countRefusalsNotAudited(RefusalAuditLimit limit) {
    FunctionCounter.builder(
            "p11kms.audit.refusals.not.audited", limit, l -> (double) l.notAudited())
        .description(
            "requests refused before authentication, not audited: over the bound per address")
        .register(registry);
  }

  /** The Prometheus text of every meter, as the endpoint serves it. */
  public String scrape() {
    return registry.scrape();
  }
}
