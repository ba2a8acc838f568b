package io.p11kms.server.awsjson;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.ConfigProperties;
import io.p11kms.server.http.ListenerSecurity.ClientCertificates;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class AwsApiConfigTest {
  private static AwsApiConfig of(String... keyValues) {
    Properties p = new Properties();
    for (int i = 0; i < keyValues.length; i += 2) {
      p.setProperty(keyValues[i], keyValues[i + 1]);
    }
    return AwsApiConfig.from(new ConfigProperties(p, Path.of(".")), "127.0.0.1", 7443);
  }

  @Test
  void onByDefault_besideGrpc_onTheNextPort() {
    AwsApiConfig config = of();
    assertThat(config.enabled()).isTrue();
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.port()).isEqualTo(7444);
    assertThat(config.clientCertificates()).isEqualTo(ClientCertificates.NONE);
    assertThat(
            AwsApiConfig.from(new ConfigProperties(new Properties(), Path.of(".")), "::1", 0)
                .port())
        .isZero();
  }

  @Test
  void everyKeySet_readsThem() {
    AwsApiConfig config =
        of(
            "aws.enabled", " false ",
            "aws.listen.host", "0.0.0.0",
            "aws.listen.port", "9000",
            "aws.client.certificates", "Required");
    assertThat(config.enabled()).isFalse();
    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.port()).isEqualTo(9000);
    assertThat(config.clientCertificates()).isEqualTo(ClientCertificates.REQUIRED);
  }

  @Test
  void typos_andBadValues_areRefusedNamingTheKeyAndValue() {
    assertThatThrownBy(() -> of("aws.enabeld", "true"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("unknown configuration key aws.enabeld");
    assertThatThrownBy(() -> of("aws.enabled", "yes"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("aws.enabled must be true or false, was 'yes'");
    assertThatThrownBy(() -> of("aws.listen.port", "x"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("aws.listen.port must be an integer, was 'x'");
    assertThatThrownBy(() -> of("aws.listen.port", "70000"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("aws.listen.port must be 0-65535, was 70000");
    assertThatThrownBy(() -> of("aws.client.certificates", "maybe"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("aws.client.certificates must be none, optional or required, was 'maybe'");
  }
}
