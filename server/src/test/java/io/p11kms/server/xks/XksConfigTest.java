package io.p11kms.server.xks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.ConfigProperties;
import io.p11kms.server.http.ListenerSecurity;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class XksConfigTest {
  private static XksConfig of(String... keyValues) {
    Properties p = new Properties();
    for (int i = 0; i < keyValues.length; i += 2) {
      p.setProperty(keyValues[i], keyValues[i + 1]);
    }
    return XksConfig.from(new ConfigProperties(p, Path.of(".")), "127.0.0.1");
  }

  @Test
  void offUnlessThePortIsSet_andTheDefaults() {
    assertThat(of().enabled()).isFalse();
    XksConfig c = of("xks.port", "8443");
    assertThat(c.enabled()).isTrue();
    assertThat(c.host()).isEqualTo("127.0.0.1");
    assertThat(c.basePath()).isEqualTo("/kms/xks/v1");
    assertThat(c.fleetSize()).isEqualTo(1);
    assertThat(c.clientCertificates()).isEqualTo(ListenerSecurity.ClientCertificates.NONE);
    assertThat(of("xks.port", "0", "xks.path.prefix", "/keystores/a_b-1").basePath())
        .isEqualTo("/keystores/a_b-1/kms/xks/v1");
  }

  @Test
  void pathPrefix_isTheSpecificationsXksProxyUriPath() {
    for (String bad : new String[] {"keystores", "/ks/", "/k s", "/k.s", "/" + "p".repeat(117)}) {
      assertThatThrownBy(() -> of("xks.port", "0", "xks.path.prefix", bad))
          .as(bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("xks.path.prefix");
    }
    // 128 characters in all is the limit.
    assertThat(of("xks.port", "0", "xks.path.prefix", "/" + "p".repeat(116)).basePath())
        .hasSize(128);
  }

  @Test
  void typos_badValues_andACommonNameWithoutRequiredCertificates_areRefused() {
    assertThatThrownBy(() -> of("xks.prot", "1")).hasMessageContaining("xks.prot");
    assertThatThrownBy(() -> of("xks.port", "x")).hasMessageContaining("xks.port");
    assertThatThrownBy(() -> of("xks.port", "1", "xks.fleet.size", "0"))
        .hasMessageContaining("xks.fleet.size");
    assertThatThrownBy(() -> of("xks.port", "1", "xks.tls.client.certificates", "maybe"))
        .hasMessageContaining("none, optional or required");
    assertThatThrownBy(() -> of("xks.port", "1", "xks.tls.client.cn", "cks.kms.x.amazonaws.com"))
        .hasMessageContaining("required");
    assertThatThrownBy(() -> of("xks.port", "1", "xks.health.refresh.ms", "60000"))
        .hasMessageContaining("minute");
    assertThat(
            of(
                    "xks.port",
                    "1",
                    "xks.tls.client.certificates",
                    "required",
                    "xks.tls.client.cn",
                    "cks.kms.eu-west-1.amazonaws.com")
                .clientCommonName())
        .isEqualTo("cks.kms.eu-west-1.amazonaws.com");
  }
}
