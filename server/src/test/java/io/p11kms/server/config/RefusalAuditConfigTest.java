package io.p11kms.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.access.RefusalAuditLimit;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code audit.refused.per.address.per.minute} and {@code audit.refused.per.minute}: the bounds on
 * audit records of requests refused before authentication, read with the other {@code audit.} keys,
 * validated, and the bounds the limit then applies.
 */
class RefusalAuditConfigTest {
  @TempDir Path dir;

  private Properties props(String... keyValues) {
    Properties p = new Properties();
    p.setProperty("hsm.module", dir.resolve("no-such-module.so").toString());
    p.setProperty("hsm.token.label", "p11kms");
    p.setProperty("hsm.pin.env", "P11KMS_PIN");
    for (int i = 0; i < keyValues.length; i += 2) {
      p.setProperty(keyValues[i], keyValues[i + 1]);
    }
    return p;
  }

  @Test
  void absent_areSixtyPerAddressAndTwelveHundredOverall() {
    SecurityConfig security = SecurityConfig.fromProperties(props(), dir);

    assertThat(security.refusalAudit()).isEqualTo(new RefusalAuditConfig(60, 1200));
    assertThat(security.refusalAudit()).isEqualTo(RefusalAuditConfig.DEFAULTS);
    assertThat(RefusalAuditLimit.DEFAULT_PER_ADDRESS).isEqualTo(60);
    assertThat(RefusalAuditLimit.DEFAULT_OVERALL).isEqualTo(1200);
  }

  @Test
  void set_areRead_keptInDevMode_shownInTheStartUpLine_andApplied() {
    Properties p =
        props("audit.refused.per.address.per.minute", " 5 ", "audit.refused.per.minute", "40");
    ServerConfig.fromProperties(p, dir); // known keys: no typo refused
    SecurityConfig security = SecurityConfig.fromProperties(p, dir);

    assertThat(security.refusalAudit()).isEqualTo(new RefusalAuditConfig(5, 40));
    assertThat(security.withDevMode().refusalAudit()).isEqualTo(new RefusalAuditConfig(5, 40));
    assertThat(security.toRedactedString())
        .contains("audit.refused.per.address.per.minute=5")
        .contains("audit.refused.per.minute=40");

    RefusalAuditLimit limit = RefusalAuditLimit.of(Clock.systemUTC(), security.refusalAudit());
    assertThat(limit.perAddress()).isEqualTo(5);
    assertThat(limit.overall()).isEqualTo(40);
    for (int i = 0; i < 5; i++) {
      assertThat(limit.admit("192.0.2.1")).isTrue();
    }
    assertThat(limit.admit("192.0.2.1")).isFalse();
    assertThat(limit.notAudited()).isEqualTo(1);
  }

  @Test
  void blank_takesTheDefault() {
    SecurityConfig security =
        SecurityConfig.fromProperties(props("audit.refused.per.minute", "  "), dir);

    assertThat(security.refusalAudit().overall()).isEqualTo(1200);
  }

  @Test
  void zeroOrNegative_isRefused_namingTheKey() {
    assertThatThrownBy(
            () ->
                SecurityConfig.fromProperties(
                    props("audit.refused.per.address.per.minute", "0"), dir))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "audit.refused.per.address.per.minute must be 1 to audit.refused.per.minute"
                + " (1200), was 0");
    assertThatThrownBy(
            () -> SecurityConfig.fromProperties(props("audit.refused.per.minute", "-1"), dir))
        .isInstanceOf(ConfigException.class)
        .hasMessage("audit.refused.per.minute must be 1-1000000, was -1");
  }

  @Test
  void perAddressOverTheOverallBound_isRefused() {
    assertThatThrownBy(
            () ->
                SecurityConfig.fromProperties(
                    props(
                        "audit.refused.per.address.per.minute",
                        "100",
                        "audit.refused.per.minute",
                        "50"),
                    dir))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "audit.refused.per.address.per.minute must be 1 to audit.refused.per.minute (50),"
                + " was 100");
  }

  @Test
  void overTheMaximum_orNotAnInteger_isRefused() {
    assertThatThrownBy(
            () -> SecurityConfig.fromProperties(props("audit.refused.per.minute", "1000001"), dir))
        .isInstanceOf(ConfigException.class)
        .hasMessage("audit.refused.per.minute must be 1-1000000, was 1000001");
    assertThatThrownBy(
            () ->
                SecurityConfig.fromProperties(
                    props("audit.refused.per.address.per.minute", "sixty"), dir))
        .isInstanceOf(ConfigException.class)
        .hasMessage("audit.refused.per.address.per.minute must be an integer, was 'sixty'");
  }

  @Test
  void aTypoUnderAuditRefused_isRefused() {
    assertThatThrownBy(
            () ->
                ServerConfig.fromProperties(props("audit.refused.per.adress.per.minute", "5"), dir))
        .isInstanceOf(ConfigException.class)
        .hasMessage("unknown configuration key audit.refused.per.adress.per.minute");
  }
}
