package io.p11kms.server.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class EndpointTest {
  @Test
  void parse_hostAndPort() {
    assertThat(Endpoint.parse(" kms-a.example:7443 "))
        .isEqualTo(new Endpoint("kms-a.example", 7443));
    assertThat(Endpoint.parse("127.0.0.1:1")).isEqualTo(new Endpoint("127.0.0.1", 1));
  }

  @Test
  void parse_ipv6InBrackets_keepsBracketsInTheAuthority() {
    Endpoint endpoint = Endpoint.parse("[::1]:7443");

    assertThat(endpoint.host()).isEqualTo("::1");
    assertThat(endpoint.authority()).isEqualTo("[::1]:7443");
  }

  @Test
  void parseList_commaSeparated_keepsOrder() {
    assertThat(Endpoint.parseList("a:1,b:2,[::1]:3"))
        .containsExactly(new Endpoint("a", 1), new Endpoint("b", 2), new Endpoint("::1", 3));
  }

  @Test
  void parse_malformed_namesTheValueAndTheRule() {
    assertThatThrownBy(() -> Endpoint.parse("kms")).hasMessageContaining("'kms' is not host:port");
    assertThatThrownBy(() -> Endpoint.parse("::1:7443")).hasMessageContaining("brackets");
    assertThatThrownBy(() -> Endpoint.parse("[::1]7443")).hasMessageContaining("[ipv6]:port");
    assertThatThrownBy(() -> Endpoint.parse("kms:http")).hasMessageContaining("no numeric port");
    assertThatThrownBy(() -> Endpoint.parse("kms:0")).hasMessageContaining("not in 1-65535");
    assertThatThrownBy(() -> Endpoint.parse(":7443")).hasMessageContaining("needs a host");
    assertThatThrownBy(() -> Endpoint.parseList("a:1,,b:2")).hasMessageContaining("empty endpoint");
  }

  @Test
  void target_roundTripsThroughTheResolverUri() throws Exception {
    List<Endpoint> endpoints = List.of(new Endpoint("a", 1), new Endpoint("::1", 2));
    java.net.URI uri = new java.net.URI(StaticNameResolverProvider.target(endpoints));

    assertThat(uri.getScheme()).isEqualTo("static");
    assertThat(Endpoint.parseList(uri.getPath().substring(1))).isEqualTo(endpoints);
  }
}
