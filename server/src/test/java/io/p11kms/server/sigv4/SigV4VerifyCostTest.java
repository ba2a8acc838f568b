package io.p11kms.server.sigv4;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What verifying one SDK-signed JSON API Encrypt costs in CPU, the request as the front end builds
 * it from the HTTP headers included (a figure, no assertion): {@code mvn -B -pl server test
 * -Dtest=SigV4VerifyCostTest -Dp11kms.bench=true}. CPU time of the thread, so that other processes
 * on the machine change it little.
 */
@EnabledIfSystemProperty(named = "p11kms.bench", matches = "true")
class SigV4VerifyCostTest {
  private static final String ID = "AKIAEXAMPLEKEY234567";
  private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY01";
  private static final Instant NOW = Instant.parse("2026-12-06T08:30:00Z");
  private static final int ROUNDS = 5;
  private static final int CALLS = 200_000;

  @Test
  void verifyCost() {
    byte[] body = new byte[400];
    java.util.Arrays.fill(body, (byte) 'a');
    SdkSigner.Signed signed =
        new SdkSigner(ID, SECRET, "eu-west-3", "kms")
            .kmsCall(
                "http://127.0.0.1:7444/", "Encrypt", new String(body, StandardCharsets.UTF_8), NOW);
    // The server keeps each day's signing key (AccessKeySigningKeys): so does this.
    SigningKeys derive = new SecretSigningKeys("kms", Map.of(ID, SECRET));
    Map<String, Optional<SigningKey>> kept = new ConcurrentHashMap<>();
    SigningKeys keys =
        (id, date, region, service) ->
            kept.computeIfAbsent(
                String.join("/", id, date, region, service),
                s -> derive.find(id, date, region, service));
    SigV4Verifier verifier =
        new SigV4Verifier(
            keys, Clock.fixed(NOW, ZoneOffset.UTC), "kms", "eu-west-3", Set.of("x-amz-target"));
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    for (int round = 0; round < ROUNDS; round++) {
      long start = cpu.getCurrentThreadCpuTime();
      for (int i = 0; i < CALLS; i++) {
        verifier.verify(signed.received());
      }
      double micros = (cpu.getCurrentThreadCpuTime() - start) / 1e3 / CALLS;
      System.out.printf("round %d: %.2f us of CPU per request built and verified%n", round, micros);
    }
  }
}
