package io.p11kms.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.metrics.Metrics;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Development mode is asked for by name, never implied by missing TLS files. The server refuses to
 * start before it opens the token (the module here does not exist, so any token call would fail
 * with another message). The end-to-end case, a real {@code Main serve}, is {@code DevModeIT}.
 */
class DevModeTest {
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
  void noTlsFilesAndNoDevMode_refusesToStart_namingBothWays() {
    Properties p = props();
    ServerConfig config = ServerConfig.fromProperties(p, dir);
    SecurityConfig security = SecurityConfig.fromProperties(p, dir);
    assertThat(security.devMode()).isFalse();

    assertThatThrownBy(() -> KmsServer.open(config, security, new Metrics()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("tls.cert.file")
        .hasMessageContaining("tls.client.ca.file")
        .hasMessageContaining("dev.mode=true")
        .hasMessageContaining("serve --dev")
        .hasMessageContaining("administrator of every key");
  }

  @Test
  void devModeFalse_isTheSameAsAbsent() {
    Properties p = props("dev.mode", "false");
    assertThatThrownBy(
            () ->
                KmsServer.open(
                    ServerConfig.fromProperties(p, dir),
                    SecurityConfig.fromProperties(p, dir),
                    new Metrics()))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("no listener security configured");
  }

  @Test
  void devModeTrue_passesTheCheck_andGoesOnToTheToken() {
    Properties p = props("dev.mode", "true");
    SecurityConfig security = SecurityConfig.fromProperties(p, dir);
    assertThat(security.devMode()).isTrue();
    assertThat(security.toRedactedString()).contains("dev.mode=true");

    // Past the listener check the missing module is what fails.
    assertThatThrownBy(
            () -> KmsServer.open(ServerConfig.fromProperties(p, dir), security, new Metrics()))
        .isNotInstanceOf(ConfigException.class);
  }

  @Test
  void withDevMode_isWhatServeDevAsksFor() {
    SecurityConfig security = SecurityConfig.fromProperties(props(), dir);
    assertThat(security.withDevMode().devMode()).isTrue();
    assertThat(security.withDevMode()).isEqualTo(security.withDevMode());
  }

  @Test
  void devModeValue_mustBeTrueOrFalse() {
    assertThatThrownBy(() -> SecurityConfig.fromProperties(props("dev.mode", "yes"), dir))
        .isInstanceOf(ConfigException.class)
        .hasMessage("dev.mode must be true or false, was 'yes'");
  }

  @Test
  void aTypoUnderDev_isRefused() {
    assertThatThrownBy(() -> ServerConfig.fromProperties(props("dev.mod", "true"), dir))
        .isInstanceOf(ConfigException.class)
        .hasMessage("unknown configuration key dev.mod");
  }

  @Test
  void devModeWithTlsFiles_isRefused() {
    Properties p =
        props(
            "dev.mode",
            "true",
            "tls.cert.file",
            "server.pem",
            "tls.key.file",
            "server.key",
            "tls.client.ca.file",
            "ca.pem");
    assertThatThrownBy(() -> SecurityConfig.fromProperties(p, dir))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("dev.mode=true is for the plaintext loopback listener");
  }
}
