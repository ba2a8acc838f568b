package io.p11kms.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegionConfigTest {
  @TempDir Path dir;

  @BeforeEach
  void files() throws Exception {
    for (String f : new String[] {"region.pem", "region.key", "ca.pem"}) {
      Files.writeString(dir.resolve(f), "x");
    }
  }

  private ServerConfig config(String... keyValues) {
    Properties p = new Properties();
    p.setProperty("hsm.token.label", "p11kms");
    p.setProperty("hsm.pin.env", "P11KMS_PIN");
    for (int i = 0; i < keyValues.length; i += 2) {
      p.setProperty(keyValues[i], keyValues[i + 1]);
    }
    return ServerConfig.fromProperties(p, dir);
  }

  private static String[] peered(String... more) {
    String[] base = {
      "region.peers", "region-b",
      "region.peer.region-b.endpoint", "kms-b.example:7445",
      "region.peer.region-b.server.name", "kms-b.example",
      "region.peer.region-b.principal", "spiffe://example/region/region-b",
      "region.listen.port", "7445",
      "region.tls.cert.file", "region.pem",
      "region.tls.key.file", "region.key",
      "region.tls.ca.file", "ca.pem"
    };
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @Test
  void withoutRegionKeys_aRegionOnItsOwn() {
    assertThat(config().region()).isEqualTo(RegionConfig.NONE);
    assertThat(config().region().enabled()).isFalse();
  }

  @Test
  void everyRegionKey_isRead_andFilesResolveAgainstTheConfigFolder() {
    RegionConfig r = config(peered("region.listen.host", "0.0.0.0")).region();
    assertThat(r.enabled()).isTrue();
    assertThat(r.peers()).containsOnlyKeys("region-b");
    RegionConfig.Peer b = r.peers().get("region-b");
    assertThat(b.endpoint()).isEqualTo("kms-b.example:7445");
    assertThat(b.serverName()).isEqualTo("kms-b.example");
    assertThat(r.byPrincipal("spiffe://example/region/region-b")).isEqualTo(b);
    assertThat(r.byPrincipal("spiffe://example/region/region-c")).isNull();
    assertThat(r.listenHost()).isEqualTo("0.0.0.0");
    assertThat(r.listenPort()).isEqualTo(7445);
    assertThat(r.cert()).isEqualTo(dir.toAbsolutePath().resolve("region.pem"));
    assertThat(r.caFile()).isEqualTo(dir.toAbsolutePath().resolve("ca.pem"));
    assertThat(config(peered()).toRedactedString())
        .contains("region.peers=region-b, region.listen.host=127.0.0.1, region.listen.port=7445");
  }

  @Test
  void aPeerKeyOfARegionNotListed_isAnUnknownKey() {
    assertThatThrownBy(() -> config(peered("region.peer.region-c.endpoint", "c.example:1")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("unknown configuration key region.peer.region-c.endpoint");
    assertThatThrownBy(() -> config(peered("region.peer.region-b.endpiont", "c.example:1")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("unknown configuration key region.peer.region-b.endpiont");
  }

  @Test
  void regionKeysWithoutPeers_areRefused() {
    assertThatThrownBy(() -> config("region.listen.port", "7445"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("region.listen.port is set but region.peers is not");
  }

  @Test
  void eachMissingOrMalformedValue_isNamed() {
    assertThatThrownBy(() -> config(peered("region.peer.region-b.endpoint", "")))
        .hasMessage("region.peer.region-b.endpoint is required when region.peers is set");
    assertThatThrownBy(() -> config(peered("region.peer.region-b.endpoint", "no-port")))
        .hasMessage("region.peer.region-b.endpoint must be host:port, was no-port");
    assertThatThrownBy(() -> config(peered("region.listen.port", "")))
        .hasMessage("region.listen.port is required when region.peers is set");
    assertThatThrownBy(() -> config(peered("region.listen.port", "70000")))
        .hasMessage("region.listen.port must be 0-65535, was 70000");
    assertThatThrownBy(() -> config(peered("region.tls.ca.file", "absent.pem")))
        .hasMessageStartingWith("region.tls.ca.file: cannot read ");
    assertThatThrownBy(() -> config(peered("region.peers", "region-b,Region_C")))
        .hasMessage(
            "region.peers: 'Region_C' is not a region name (lower-case letters, digits, -)");
  }

  @Test
  void twoPeersWithOnePrincipal_areRefused() {
    assertThatThrownBy(
            () ->
                config(
                    peered(
                        "region.peers", "region-b,region-c",
                        "region.peer.region-c.endpoint", "kms-c.example:7445",
                        "region.peer.region-c.server.name", "kms-c.example",
                        "region.peer.region-c.principal", "spiffe://example/region/region-b")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("each region in region.peers needs its own principal");
  }
}
