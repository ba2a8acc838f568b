package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.server.KmsServer;
import io.p11kms.server.Main;
import io.p11kms.server.RunningServer;
import io.p11kms.server.ServeConfig;
import io.p11kms.server.auth.Principals;
import io.p11kms.server.region.RegionListener;
import io.p11kms.server.sigv4.AccessKeyService;
import io.p11kms.server.store.AccessKeyScope;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import software.amazon.awssdk.services.kms.KmsClient;

/**
 * Regions for the multi-Region tests: each region's own token (with a domain key of its own, other
 * bytes than every other region's), and regions run as an operator runs them: a server each,
 * started from its properties file by what {@code p11kms serve} runs ({@link RunningServer}), with
 * its own database, every region naming every other as a peer ({@code region.*}, mutual TLS under
 * each region's certificate), peered both ways with the {@code p11kms region} commands before any
 * server runs.
 */
final class PeeredRegions implements AutoCloseable {
  static final String ACCOUNT = "111122223333";

  private final Path dir;
  private final List<SoftHsmTestToken> tokens;
  private final Map<String, Region> regions = new LinkedHashMap<>();
  private final Map<String, RegionListener> peerListeners = new LinkedHashMap<>();
  private final StringBuilder peeringOutput = new StringBuilder();

  /** The principal a region calls its peers with (its certificate's SAN URI). */
  static String principal(String region) {
    return "spiffe://p11kms.test/region/" + region;
  }

  /**
   * {@code count} tokens: the first made as every test's, each other beside it with its own domain
   * key, made by its SO.
   */
  static List<SoftHsmTestToken> tokens(int count) throws Exception {
    List<SoftHsmTestToken> tokens = new ArrayList<>();
    tokens.add(SoftHsmTestToken.create());
    for (int i = 1; i < count; i++) {
      SoftHsmTestToken token = SoftHsmTestToken.createBeside(tokens.get(0));
      tokens.add(token);
      char[] soPin = token.soPin();
      try {
        DomainKeyCeremony.createDomainKey(token.modulePath(), token.label(), soPin, 1);
      } finally {
        Arrays.fill(soPin, '\0');
      }
    }
    return tokens;
  }

  /** One region's server, as {@code serve} runs it, and an AWS SDK client of its AWS KMS API. */
  record Region(String name, Path config, RunningServer running, KmsClient kms) {
    KmsServer server() {
      return running.server();
    }

    /** A client signing with a new access key of {@code principal} made by this server. */
    KmsClient client(String principal) {
      AccessKeyService.NewAccessKey key =
          server().accessKeys().create(ACCOUNT, principal, AccessKeyScope.KMS_API);
      try {
        return AwsClients.kms(
            URI.create("http://127.0.0.1:" + running.awsApi().port()),
            name,
            key.record().accessKeyId(),
            new String(key.secret()));
      } finally {
        key.clearSecret();
      }
    }

    void close() {
      if (kms != null) {
        kms.close();
      }
      running.stop();
    }
  }

  private PeeredRegions(Path dir, List<SoftHsmTestToken> tokens) {
    this.dir = dir;
    this.tokens = tokens;
  }

  /** The regions named, each peered with every other, their servers running. */
  static PeeredRegions start(String... names) throws Exception {
    Path dir = Files.createTempDirectory("p11kms-regions");
    PeeredRegions regions = new PeeredRegions(dir, tokens(names.length));
    try {
      regions.configureAndPeer(names);
      return regions;
    } catch (Exception | Error e) {
      regions.close();
      throw e;
    }
  }

  private void configureAndPeer(String[] names) throws Exception {
    TestPki pki = TestPki.create(dir, "regions");
    Map<String, Integer> peerPorts = new LinkedHashMap<>();
    for (String name : names) {
      peerPorts.put(name, freePort());
    }
    Map<String, Path> configs = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) {
      configs.put(
          names[i],
          config(
              tokens.get(i), names[i], pki.region(names[i], principal(names[i])), peerPorts, pki));
    }
    // The peering, every pair both ways, before any server runs (an SO logs in where no user
    // is): each region's transport key, its fingerprint read out to the other regions'
    // operators, who trust it as their tokens' SO.
    Map<String, String> fingerprints = new LinkedHashMap<>();
    for (String name : names) {
      fingerprints.put(name, transportKey(configs.get(name), name));
    }
    for (int to = 0; to < names.length; to++) {
      for (int from = 0; from < names.length; from++) {
        if (to != from) {
          trust(names[to], fingerprints.get(names[to]), configs.get(names[from]), tokens.get(from));
        }
      }
    }
    for (String name : names) {
      regions.put(name, serve(name, configs.get(name)));
    }
  }

  private static Region serve(String name, Path config) {
    RunningServer running = RunningServer.start(config, true, System.out);
    Region started = new Region(name, config, running, null);
    return new Region(name, config, running, started.client(Principals.LOCAL));
  }

  Region region(String name) {
    return regions.get(name);
  }

  /** What the peering commands printed. */
  String peeringOutput() {
    return peeringOutput.toString();
  }

  /**
   * Stops {@code name}'s peer listener: its peers cannot reach it (its KMS API still serves). The
   * returned action serves the peers again, on the same port.
   */
  Runnable cutOff(String name) {
    Region region = regions.get(name);
    peerListeners.computeIfAbsent(name, n -> region.running().regionListener()).close();
    return () ->
        peerListeners.put(
            name,
            region.server().serveRegion(ServeConfig.load(region.config(), true).server().region()));
  }

  /** {@code region transport-key} in {@code region}: the fingerprint it printed. */
  private String transportKey(Path config, String region) {
    Path transport = dir.resolve(region + ".transport");
    String made =
        cli("region", "transport-key", "--config", config.toString(), "--out", "" + transport);
    Matcher fingerprint =
        Pattern.compile("region transport key (sha256:\\S+) written to").matcher(made);
    assertThat(fingerprint.find()).as(made).isTrue();
    peeringOutput.append(made);
    return fingerprint.group(1);
  }

  /**
   * {@code region trust} of {@code region}'s transport key by the SO of the sending region's token,
   * with the fingerprint {@code region} printed, then {@code region list} there.
   */
  private void trust(String region, String fingerprint, Path sending, SoftHsmTestToken sendingToken)
      throws Exception {
    Path soPinFile = dir.resolve(sendingToken.label() + ".so-pin");
    char[] soPin = sendingToken.soPin();
    try {
      Files.writeString(soPinFile, new String(soPin));
    } finally {
      Arrays.fill(soPin, '\0');
    }
    String trusted =
        cli(
            "region",
            "trust",
            "--config",
            sending.toString(),
            "--so-pin-file",
            soPinFile.toString(),
            "--region",
            region,
            "--transport-key",
            dir.resolve(region + ".transport").toString(),
            "--expect-fingerprint",
            fingerprint);
    assertThat(trusted).contains("region " + region + " trusted: " + fingerprint);
    String listed = cli("region", "list", "--config", sending.toString());
    assertThat(listed).contains(region + " " + fingerprint + "\n");
    peeringOutput.append(trusted).append(listed);
  }

  private Path config(
      SoftHsmTestToken token,
      String region,
      TestPki.Issued identity,
      Map<String, Integer> peerPorts,
      TestPki pki)
      throws Exception {
    Path folder = Files.createDirectories(dir.resolve(region));
    Path file = folder.resolve("p11kms.properties");
    List<String> peers = peerPorts.keySet().stream().filter(p -> !p.equals(region)).toList();
    List<String> lines =
        new ArrayList<>(
            List.of(
                "listen.host=127.0.0.1",
                "listen.port=0",
                "aws.listen.port=0",
                "dev.mode=true",
                "hsm.module=" + token.modulePath(),
                "hsm.token.label=" + token.label(),
                "hsm.pin.file=" + token.userPinFile(),
                "store.jdbc.url=jdbc:sqlite:" + folder.resolve("p11kms.db"),
                "arn.region=" + region,
                "arn.account=" + ACCOUNT,
                "region.peers=" + String.join(",", peers),
                "region.listen.port=" + peerPorts.get(region),
                "region.tls.cert.file=" + identity.cert(),
                "region.tls.key.file=" + identity.key(),
                "region.tls.ca.file=" + pki.caFile()));
    for (String peer : peers) {
      lines.add("region.peer." + peer + ".endpoint=127.0.0.1:" + peerPorts.get(peer));
      lines.add("region.peer." + peer + ".server.name=localhost");
      lines.add("region.peer." + peer + ".principal=" + principal(peer));
    }
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** Runs {@code p11kms ARGS} in this JVM; what it printed, after checking it succeeded. */
  static String cli(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    int exit;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      exit = new CommandLine(new Main()).execute(args);
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
    assertThat(exit).as(err.toString(StandardCharsets.UTF_8)).isZero();
    return out.toString(StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws Exception {
    for (Region region : regions.values()) {
      region.close();
    }
    for (int i = tokens.size() - 1; i >= 0; i--) {
      tokens.get(i).close();
    }
    TempDirs.deleteTree(dir);
  }
}
