package io.p11kms.server.region;

import io.p11kms.server.config.ConfigException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The peer regions of this one, from the server's properties:
 *
 * <pre>
 * region.peers=eu-west-1,us-east-1
 * region.peer.eu-west-1.endpoint=kms.eu-west-1.example:7443
 * region.peer.eu-west-1.server.name=kms.eu-west-1.example   # the name its TLS certificate holds
 * region.peer.eu-west-1.principal=spiffe://example/region/eu-west-1   # its client certificate's
 * region.tls.cert.file=region.crt    # this region's identity towards its peers (mutual TLS)
 * region.tls.key.file=region.key
 * region.tls.ca.file=regions-ca.crt  # the CA the peers' server certificates chain to
 * </pre>
 *
 * @param peers each peer region by name
 * @param clientCert this region's certificate towards its peers
 * @param clientKey its private key (PKCS#8 PEM)
 * @param caFile the CA the peers' server certificates chain to
 */
public record RegionConfig(Map<String, Peer> peers, Path clientCert, Path clientKey, Path caFile) {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  /**
   * One peer region.
   *
   * @param endpoint its server's gRPC address, {@code host:port}
   * @param serverName the DNS name its server's TLS certificate must hold
   * @param principal the principal its client certificate names: only it may send replicas here
   */
  public record Peer(String region, String endpoint, String serverName, String principal) {}

  /** A region with no peers. */
  public static final RegionConfig NONE = new RegionConfig(Map.of(), null, null, null);

  public RegionConfig {
    peers = Map.copyOf(peers);
  }

  /** The peer whose client certificate names {@code principal}, or null. */
  public Peer byPrincipal(String principal) {
    return peers.values().stream()
        .filter(p -> p.principal().equals(principal))
        .findFirst()
        .orElse(null);
  }

  /** Reads {@code region.*} from {@code p}; {@link #NONE} when {@code region.peers} is unset. */
  public static RegionConfig from(Properties p, Path baseDir) {
    String list = p.getProperty("region.peers", "").trim();
    if (list.isEmpty()) {
      return NONE;
    }
    Map<String, Peer> peers = new TreeMap<>();
    for (String raw : list.split(",")) {
      String region = raw.trim();
      if (!NAME.matcher(region).matches()) {
        throw new ConfigException(
            "region.peers: " + region + " is not a region name (lower-case letters, digits, -)");
      }
      peers.put(
          region,
          new Peer(
              region,
              required(p, "region.peer." + region + ".endpoint"),
              required(p, "region.peer." + region + ".server.name"),
              required(p, "region.peer." + region + ".principal")));
    }
    return new RegionConfig(
        peers,
        file(p, baseDir, "region.tls.cert.file"),
        file(p, baseDir, "region.tls.key.file"),
        file(p, baseDir, "region.tls.ca.file"));
  }

  private static String required(Properties p, String key) {
    String value = p.getProperty(key, "").trim();
    if (value.isEmpty()) {
      throw new ConfigException(key + " is required for each region in region.peers");
    }
    return value;
  }

  private static Path file(Properties p, Path baseDir, String key) {
    Path path = Path.of(required(p, key));
    return path.isAbsolute() || baseDir == null ? path : baseDir.resolve(path);
  }
}
