package io.p11kms.server.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * This region's peer regions and its peer listener ({@code region.*}); {@link #NONE} when {@code
 * region.peers} is unset: a region on its own, as a server without these keys always was.
 *
 * <pre>
 * region.peers=eu-west-1,us-east-1
 * region.peer.eu-west-1.endpoint=kms.eu-west-1.example:7444
 * region.peer.eu-west-1.server.name=kms.eu-west-1.example   # the name its TLS certificate holds
 * region.peer.eu-west-1.principal=spiffe://example/region/eu-west-1   # its certificate's
 * region.listen.host=0.0.0.0         # the peer listener (mutual TLS), default 127.0.0.1
 * region.listen.port=7444
 * region.tls.cert.file=region.crt    # this region's identity: served and presented to its peers
 * region.tls.key.file=region.key
 * region.tls.ca.file=regions-ca.crt  # the CA the peers' certificates chain to
 * </pre>
 *
 * @param peers each peer region by name
 * @param listenHost the peer listener's address
 * @param listenPort its port (0: any free port)
 * @param cert this region's certificate: its peer listener's, and the one it calls its peers with
 * @param key its private key (PKCS#8 PEM)
 * @param caFile the CA the peers' certificates chain to (server and client side)
 */
public record RegionConfig(
    Map<String, Peer> peers, String listenHost, int listenPort, Path cert, Path key, Path caFile) {
  public static final String PEERS = "region.peers";
  public static final String LISTEN_HOST = "region.listen.host";
  public static final String LISTEN_PORT = "region.listen.port";
  public static final String TLS_CERT_FILE = "region.tls.cert.file";
  public static final String TLS_KEY_FILE = "region.tls.key.file";
  public static final String TLS_CA_FILE = "region.tls.ca.file";
  public static final String PEER_PREFIX = "region.peer.";
  static final Set<String> KEYS =
      Set.of(PEERS, LISTEN_HOST, LISTEN_PORT, TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE);
  private static final Set<String> PEER_KEYS = Set.of("endpoint", "server.name", "principal");
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final Pattern ENDPOINT = Pattern.compile("[A-Za-z0-9._-]{1,253}:[0-9]{1,5}");

  /**
   * One peer region.
   *
   * @param endpoint its peer listener, {@code host:port}
   * @param serverName the DNS name its certificate must hold
   * @param principal the principal its certificate names: only it may send replicas here
   */
  public record Peer(String region, String endpoint, String serverName, String principal) {}

  /** A region with no peers. */
  public static final RegionConfig NONE =
      new RegionConfig(Map.of(), ListenConfig.DEFAULT_HOST, 0, null, null, null);

  public RegionConfig {
    peers = Map.copyOf(peers);
    if (listenPort < 0 || listenPort > 65535) {
      throw new ConfigException(LISTEN_PORT + " must be 0-65535, was " + listenPort);
    }
    if (peers.values().stream().map(Peer::principal).distinct().count() != peers.size()) {
      throw new ConfigException("each region in " + PEERS + " needs its own principal");
    }
  }

  /** Whether this region has peers (and so a peer listener). */
  public boolean enabled() {
    return !peers.isEmpty();
  }

  /** The peer whose certificate names {@code principal}, or null. */
  public Peer byPrincipal(String principal) {
    return peers.values().stream()
        .filter(p -> p.principal().equals(principal))
        .findFirst()
        .orElse(null);
  }

  /** Reads {@code region.*}; {@link #NONE} when {@code region.peers} is unset. */
  static RegionConfig from(ConfigProperties p) {
    String list = p.get(PEERS, "");
    if (list.isEmpty()) {
      for (String key : p.properties().stringPropertyNames()) {
        if (key.startsWith("region.") && !p.get(key, "").isEmpty()) {
          throw new ConfigException(key + " is set but " + PEERS + " is not");
        }
      }
      return NONE;
    }
    Map<String, Peer> peers = new TreeMap<>();
    for (String raw : list.split(",")) {
      String region = raw.strip();
      if (!NAME.matcher(region).matches()) {
        throw new ConfigException(
            PEERS + ": '" + region + "' is not a region name (lower-case letters, digits, -)");
      }
      String endpoint = required(p, PEER_PREFIX + region + ".endpoint");
      if (!ENDPOINT.matcher(endpoint).matches()) {
        throw new ConfigException(
            PEER_PREFIX + region + ".endpoint must be host:port, was " + endpoint);
      }
      peers.put(
          region,
          new Peer(
              region,
              endpoint,
              required(p, PEER_PREFIX + region + ".server.name"),
              required(p, PEER_PREFIX + region + ".principal")));
    }
    required(p, LISTEN_PORT);
    return new RegionConfig(
        peers,
        p.get(LISTEN_HOST, ListenConfig.DEFAULT_HOST),
        p.getInt(LISTEN_PORT, 0),
        file(p, TLS_CERT_FILE),
        file(p, TLS_KEY_FILE),
        file(p, TLS_CA_FILE));
  }

  /**
   * Whether {@code key} is one of {@code region.*}'s: the fixed keys, and the three of each peer
   * region {@code region.peers} names.
   */
  static boolean knows(String key, ConfigProperties p) {
    if (KEYS.contains(key)) {
      return true;
    }
    if (!key.startsWith(PEER_PREFIX)) {
      return false;
    }
    String rest = key.substring(PEER_PREFIX.length());
    for (String raw : p.get(PEERS, "").split(",")) {
      String region = raw.strip() + ".";
      if (rest.startsWith(region) && PEER_KEYS.contains(rest.substring(region.length()))) {
        return true;
      }
    }
    return false;
  }

  String redacted() {
    if (!enabled()) {
      return PEERS + "=";
    }
    return PEERS
        + "="
        + String.join(",", peers.keySet())
        + ", "
        + LISTEN_HOST
        + "="
        + listenHost
        + ", "
        + LISTEN_PORT
        + "="
        + listenPort;
  }

  private static String required(ConfigProperties p, String key) {
    String value = p.get(key, "");
    if (value.isEmpty()) {
      throw new ConfigException(key + " is required when " + PEERS + " is set");
    }
    return value;
  }

  private static Path file(ConfigProperties p, String key) {
    Path path = p.resolve(key, required(p, key));
    if (!Files.isReadable(path)) {
      throw new ConfigException(key + ": cannot read " + path);
    }
    return path;
  }
}
