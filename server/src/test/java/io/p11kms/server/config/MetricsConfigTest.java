package io.p11kms.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class MetricsConfigTest {
  private static MetricsConfig read(Properties p) {
    return MetricsConfig.from(new ConfigProperties(p, Path.of(".")));
  }

  private static Properties props(String... pairs) {
    Properties p = new Properties();
    for (int i = 0; i < pairs.length; i += 2) {
      p.setProperty(pairs[i], pairs[i + 1]);
    }
    return p;
  }

  @Test
  void noPort_endpointOff() {
    assertThat(read(props()).enabled()).isFalse();
  }

  @Test
  void port_endpointOnLoopback() {
    MetricsConfig config = read(props("metrics.listen.port", "9464"));
    assertThat(config.enabled()).isTrue();
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.port()).isEqualTo(9464);
  }

  @Test
  void nonLoopbackHost_rejected() {
    assertThatThrownBy(
            () -> read(props("metrics.listen.port", "9464", "metrics.listen.host", "8.8.8.8")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("loopback");
  }

  @Test
  void unknownMetricsKey_rejectedAsTypo() {
    assertThatThrownBy(() -> read(props("metrics.listen.prot", "1")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("metrics.listen.prot");
  }

  @Test
  void serverConfig_ownsTheMetricsPrefix() {
    Properties p =
        props("hsm.token.label", "t", "hsm.pin.env", "PIN", "metrics.listen.port", "9464");
    assertThat(io.p11kms.server.config.ServerConfig.fromProperties(p, java.nio.file.Path.of(".")))
        .isNotNull();
    p.setProperty("metrics.listen.prot", "9464");
    assertThatThrownBy(
            () ->
                io.p11kms.server.config.ServerConfig.fromProperties(p, java.nio.file.Path.of(".")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("metrics.listen.prot");
  }

  @Test
  void badPort_rejected() {
    assertThatThrownBy(() -> read(props("metrics.listen.port", "x")))
        .isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> read(props("metrics.listen.port", "70000")))
        .isInstanceOf(ConfigException.class);
  }
}
