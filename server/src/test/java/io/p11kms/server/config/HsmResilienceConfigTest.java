package io.p11kms.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.HsmConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The call deadline, cache, reopen and health keys: defaults, passing through, ranges. */
class HsmResilienceConfigTest {

  private static ServerConfig config(String... keyValues) {
    Properties p = new Properties();
    p.setProperty("hsm.token.label", "t");
    p.setProperty("hsm.pin.env", "PIN");
    for (int i = 0; i < keyValues.length; i += 2) {
      p.setProperty(keyValues[i], keyValues[i + 1]);
    }
    return ServerConfig.fromProperties(p, Path.of("/etc/p11kms"));
  }

  @Test
  void defaults_matchTheAdapterDefaults() {
    HsmConfig hsm = config().hsm().hsmConfig();
    assertThat(hsm.callTimeout()).isEqualTo(HsmConfig.DEFAULT_CALL_TIMEOUT);
    assertThat(hsm.cacheMaxKeys()).isEqualTo(HsmConfig.DEFAULT_CACHE_MAX_KEYS);
    assertThat(hsm.cacheMaxKeys()).isEqualTo(18_000);
    assertThat(hsm.cacheMaxAge()).isEqualTo(HsmConfig.DEFAULT_CACHE_MAX_AGE);
    assertThat(hsm.reopenInterval()).isEqualTo(HsmConfig.DEFAULT_REOPEN_INTERVAL);
    assertThat(config().hsm().healthInterval()).isEqualTo(TokenConfig.DEFAULT_HEALTH_INTERVAL);
    assertThat(hsm.libraryRecycleObjects()).isEqualTo(HsmConfig.LIBRARY_RECYCLE_AUTO);
    assertThat(config().toRedactedString()).contains("hsm.library.recycle.objects=auto");
  }

  @Test
  void libraryRecycle_aCountOrZero_reachesTheAdapter() {
    assertThat(
            config("hsm.library.recycle.objects", "250000")
                .hsm()
                .hsmConfig()
                .libraryRecycleObjects())
        .isEqualTo(250_000);
    assertThat(config("hsm.library.recycle.objects", "0").hsm().hsmConfig().libraryRecycleObjects())
        .isZero();
  }

  @Test
  void values_reachTheAdapterAndTheRedactedString() {
    ServerConfig c =
        config(
            "hsm.call.timeout.ms", "2500",
            "hsm.cache.max.keys", "0",
            "hsm.cache.max.age.ms", "60000",
            "hsm.reopen.interval.ms", "250",
            "hsm.health.interval.ms", "500");
    HsmConfig hsm = c.hsm().hsmConfig();
    assertThat(hsm.callTimeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(hsm.cacheMaxKeys()).isZero();
    assertThat(hsm.cacheMaxAge()).isEqualTo(Duration.ofMinutes(1));
    assertThat(hsm.reopenInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(c.hsm().healthInterval()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.toRedactedString())
        .contains("hsm.call.timeout.ms=2500", "hsm.cache.max.keys=0", "hsm.health.interval.ms=500");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "hsm.call.timeout.ms | 0 | hsm.call.timeout.ms must be 1-600000, was 0",
        "hsm.cache.max.keys | -1 | hsm.cache.max.keys must be 0-100000, was -1",
        "hsm.cache.max.age.ms | 0 | hsm.cache.max.age.ms must be 1-86400000, was 0",
        "hsm.reopen.interval.ms | -5 | hsm.reopen.interval.ms must be 0-600000, was -5",
        "hsm.health.interval.ms | 10 | hsm.health.interval.ms must be 100-600000, was 10",
        "hsm.call.timeout.ms | soon | hsm.call.timeout.ms must be an integer, was 'soon'",
        "hsm.library.recycle.objects | 999 | hsm.library.recycle.objects must be auto, 0 or at"
            + " least 1000, was 999",
        "hsm.library.recycle.objects | -1 | hsm.library.recycle.objects must be auto or a count,"
            + " was '-1'",
        "hsm.library.recycle.objects | often | hsm.library.recycle.objects must be auto or a"
            + " count, was 'often'",
      })
  void outOfRange_isRejectedNamingTheKey(String key, String value, String message) {
    assertThatThrownBy(() -> config(key, value))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }
}
