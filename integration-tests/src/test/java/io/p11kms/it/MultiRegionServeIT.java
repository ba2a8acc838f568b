package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.hsm.testing.TempDirs;
import io.p11kms.server.KmsServer;
import io.p11kms.server.Main;
import io.p11kms.server.ServeConfig;
import io.p11kms.server.auth.Principals;
import io.p11kms.server.awsjson.AwsJsonFrontEnd;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.metrics.Metrics;
import io.p11kms.server.sigv4.AccessKeyService;
import io.p11kms.server.store.AccessKeyScope;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.AlreadyExistsException;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KmsException;
import software.amazon.awssdk.services.kms.model.MultiRegionKeyType;
import software.amazon.awssdk.services.kms.model.ReplicateKeyResponse;
import software.amazon.awssdk.services.kms.model.Tag;
import software.amazon.awssdk.services.kms.model.UnsupportedOperationException;

/**
 * Two regions as an operator runs them: two tokens with different domain keys, two stores, two
 * servers started from their properties files as {@code p11kms serve} starts them ({@code region.*}
 * naming each other, each with its own peer listener under mutual TLS), peered with the {@code
 * p11kms region} commands, and driven by the AWS SDK for Java v2 through each region's AWS KMS API:
 * CreateKey MultiRegion, ReplicateKey, Encrypt in one region and Decrypt in the other,
 * DescribeKey's MultiRegionConfiguration in both, and ReplicateKey's errors by their AWS names.
 */
class MultiRegionServeIT {
  private static final String ACCOUNT = "111122223333";
  private static final String REGION_A = "region-a";
  private static final String REGION_B = "region-b";
  private static final Map<String, String> CONTEXT = Map.of("purpose", "multi-region");

  private static Path dir;
  private static SoftHsmTestToken tokenA;
  private static SoftHsmTestToken tokenB;
  private static Region a;
  private static Region b;
  private static String peeringOutput = "";

  /** One region's server, as {@code serve} runs it, and an AWS SDK client of its AWS KMS API. */
  private record Region(KmsServer server, AwsJsonFrontEnd api, KmsClient kms) {
    static Region serve(Path config, String region) {
      ServeConfig serve = ServeConfig.load(config, true);
      KmsServer server = KmsServer.open(serve.server(), serve.security(), new Metrics()).start();
      server.serveRegion(serve.server().region());
      AwsJsonFrontEnd api = server.serveAwsApi(serve.awsApi(), serve.security(), 4);
      return new Region(server, api, client(server, api, region, Principals.LOCAL));
    }

    /** A client signing with a new access key of {@code principal} made by this server. */
    static KmsClient client(
        KmsServer server, AwsJsonFrontEnd api, String region, String principal) {
      AccessKeyService.NewAccessKey key =
          server.accessKeys().create(ACCOUNT, principal, AccessKeyScope.KMS_API);
      try {
        return AwsClients.kms(
            URI.create("http://127.0.0.1:" + api.port()),
            region,
            key.record().accessKeyId(),
            new String(key.secret()));
      } finally {
        key.clearSecret();
      }
    }

    void close() {
      kms.close();
      server.stop();
    }
  }

  @BeforeAll
  static void twoPeeredRegions() throws Exception {
    dir = Files.createTempDirectory("p11kms-regions-serve-it");
    tokenA = SoftHsmTestToken.create();
    tokenB = SoftHsmTestToken.createBeside(tokenA);
    char[] soPinB = tokenB.soPin();
    try {
      io.p11kms.hsm.domain.DomainKeyCeremony.createDomainKey(
          tokenB.modulePath(), tokenB.label(), soPinB, 1);
    } finally {
      Arrays.fill(soPinB, '\0');
    }
    TestPki pki = TestPki.create(dir, "regions");
    TestPki.Issued identityA = pki.region(REGION_A, principal(REGION_A));
    TestPki.Issued identityB = pki.region(REGION_B, principal(REGION_B));
    int peerPortA = freePort();
    int peerPortB = freePort();
    Path configA = config(tokenA, REGION_A, peerPortA, identityA, REGION_B, peerPortB, pki);
    Path configB = config(tokenB, REGION_B, peerPortB, identityB, REGION_A, peerPortA, pki);

    // The peering, both ways, before either server runs (an SO logs in where no user is): each
    // region's transport key, its fingerprint read out to the other's operator, who trusts it as
    // that token's SO.
    String listed = peer(configB, REGION_B, configA, tokenA);
    peer(configA, REGION_A, configB, tokenB);
    assertThat(listed).startsWith("region-b sha256:");

    b = Region.serve(configB, REGION_B);
    a = Region.serve(configA, REGION_A);
  }

  @AfterAll
  static void close() throws Exception {
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
    if (tokenB != null) {
      tokenB.close();
    }
    if (tokenA != null) {
      tokenA.close();
    }
    TempDirs.deleteTree(dir);
  }

  /**
   * {@code region transport-key} in the receiving region, {@code region trust} by the SO of the
   * sending region's token with the fingerprint it printed, then {@code region list} there.
   */
  private static String peer(
      Path receiving, String region, Path sending, SoftHsmTestToken sendingToken) throws Exception {
    Path transport = dir.resolve(region + ".transport");
    String made =
        cli("region", "transport-key", "--config", receiving.toString(), "--out", "" + transport);
    Matcher fingerprint =
        Pattern.compile("region transport key (sha256:\\S+) written to").matcher(made);
    assertThat(fingerprint.find()).as(made).isTrue();
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
            transport.toString(),
            "--expect-fingerprint",
            fingerprint.group(1));
    assertThat(trusted).contains("region " + region + " trusted: " + fingerprint.group(1));
    String listed = cli("region", "list", "--config", sending.toString());
    assertThat(listed).isEqualTo(region + " " + fingerprint.group(1) + "\n");
    peeringOutput += made + trusted + listed;
    return listed;
  }

  private static String principal(String region) {
    return "spiffe://p11kms.test/region/" + region;
  }

  private static Path config(
      SoftHsmTestToken token,
      String region,
      int peerPort,
      TestPki.Issued identity,
      String peer,
      int peerPeerPort,
      TestPki pki)
      throws Exception {
    Path folder = Files.createDirectories(dir.resolve(region));
    Path file = folder.resolve("p11kms.properties");
    Files.writeString(
        file,
        String.join(
            "\n",
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
            "region.peers=" + peer,
            "region.peer." + peer + ".endpoint=127.0.0.1:" + peerPeerPort,
            "region.peer." + peer + ".server.name=localhost",
            "region.peer." + peer + ".principal=" + principal(peer),
            "region.listen.port=" + peerPort,
            "region.tls.cert.file=" + identity.cert(),
            "region.tls.key.file=" + identity.key(),
            "region.tls.ca.file=" + pki.caFile(),
            ""));
    return file;
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** Runs {@code p11kms ARGS} in this JVM; what it printed, after checking it succeeded. */
  private static String cli(String... args) {
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

  private static String newPrimary(String description) {
    return a.kms()
        .createKey(k -> k.multiRegion(true).description(description))
        .keyMetadata()
        .keyId();
  }

  private static SdkBytes encrypt(KmsClient kms, String keyId, String text) {
    return kms.encrypt(
            e -> e.keyId(keyId).plaintext(SdkBytes.fromUtf8String(text)).encryptionContext(CONTEXT))
        .ciphertextBlob();
  }

  private static String decrypt(KmsClient kms, SdkBytes blob) {
    return kms.decrypt(d -> d.ciphertextBlob(blob).encryptionContext(CONTEXT))
        .plaintext()
        .asUtf8String();
  }

  @Test
  void aPrimaryReplicatedToThePeer_decryptsThereWhatItEncryptedHere_andTheOtherWay() {
    KeyMetadata primary =
        a.kms().createKey(k -> k.multiRegion(true).description("the primary")).keyMetadata();
    assertThat(primary.keyId()).matches("mrk-[0-9a-f]{32}");
    assertThat(primary.multiRegion()).isTrue();
    assertThat(primary.arn())
        .isEqualTo("arn:aws:kms:region-a:" + ACCOUNT + ":key/" + primary.keyId());
    assertThat(primary.multiRegionConfiguration().multiRegionKeyType())
        .isEqualTo(MultiRegionKeyType.PRIMARY);
    assertThat(primary.multiRegionConfiguration().replicaKeys()).isEmpty();
    SdkBytes fromA = encrypt(a.kms(), primary.keyId(), "made in region A");

    ReplicateKeyResponse replicated =
        a.kms()
            .replicateKey(
                r ->
                    r.keyId(primary.keyId())
                        .replicaRegion(REGION_B)
                        .description("the replica")
                        .tags(Tag.builder().tagKey("team").tagValue("payments").build()));

    String replicaArn = "arn:aws:kms:region-b:" + ACCOUNT + ":key/" + primary.keyId();
    assertThat(replicated.replicaKeyMetadata().arn()).isEqualTo(replicaArn);
    assertThat(replicated.replicaKeyMetadata().keyId()).isEqualTo(primary.keyId());
    assertThat(replicated.replicaKeyMetadata().description()).isEqualTo("the replica");
    assertThat(replicated.replicaTags())
        .containsExactly(Tag.builder().tagKey("team").tagValue("payments").build());
    assertThat(decrypt(b.kms(), fromA)).isEqualTo("made in region A");
    assertThat(decrypt(a.kms(), encrypt(b.kms(), primary.keyId(), "made in region B")))
        .isEqualTo("made in region B");

    KeyMetadata inA = a.kms().describeKey(d -> d.keyId(primary.keyId())).keyMetadata();
    assertThat(inA.multiRegionConfiguration().multiRegionKeyType())
        .isEqualTo(MultiRegionKeyType.PRIMARY);
    assertThat(inA.multiRegionConfiguration().primaryKey().arn()).isEqualTo(primary.arn());
    assertThat(inA.multiRegionConfiguration().primaryKey().region()).isEqualTo(REGION_A);
    assertThat(inA.multiRegionConfiguration().replicaKeys())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.arn()).isEqualTo(replicaArn);
              assertThat(r.region()).isEqualTo(REGION_B);
            });
    KeyMetadata inB = b.kms().describeKey(d -> d.keyId(primary.keyId())).keyMetadata();
    assertThat(inB.arn()).isEqualTo(replicaArn);
    assertThat(inB.multiRegion()).isTrue();
    assertThat(inB.multiRegionConfiguration().multiRegionKeyType())
        .isEqualTo(MultiRegionKeyType.REPLICA);
    assertThat(inB.multiRegionConfiguration().primaryKey().arn()).isEqualTo(primary.arn());
    assertThat(inB.multiRegionConfiguration().replicaKeys())
        .extracting(r -> r.region())
        .containsExactly(REGION_B);
    assertThat(b.kms().listResourceTags(t -> t.keyId(primary.keyId())).tags())
        .containsExactly(Tag.builder().tagKey("team").tagValue("payments").build());
  }

  @Test
  void updatePrimaryRegion_swapsTheRoles_inBothRegions() {
    String key = newPrimary("moves");
    a.kms().replicateKey(r -> r.keyId(key).replicaRegion(REGION_B));
    // Called in the replica's region: the primary's region does it.
    assertAwsError(
        () -> b.kms().updatePrimaryRegion(u -> u.keyId(key).primaryRegion(REGION_B)),
        "UnsupportedOperationException");
    assertAwsError(
        () -> a.kms().updatePrimaryRegion(u -> u.keyId(key).primaryRegion("region-c")),
        "ValidationException");

    a.kms().updatePrimaryRegion(u -> u.keyId(key).primaryRegion(REGION_B));

    KeyMetadata inB = b.kms().describeKey(d -> d.keyId(key)).keyMetadata();
    assertThat(inB.multiRegionConfiguration().multiRegionKeyType())
        .isEqualTo(MultiRegionKeyType.PRIMARY);
    assertThat(inB.multiRegionConfiguration().replicaKeys())
        .extracting(r -> r.region())
        .containsExactly(REGION_A);
    KeyMetadata inA = a.kms().describeKey(d -> d.keyId(key)).keyMetadata();
    assertThat(inA.multiRegionConfiguration().multiRegionKeyType())
        .isEqualTo(MultiRegionKeyType.REPLICA);
    assertThat(inA.multiRegionConfiguration().primaryKey().region()).isEqualTo(REGION_B);
    assertThat(decrypt(a.kms(), encrypt(b.kms(), key, "after the move")))
        .isEqualTo("after the move");
  }

  @Test
  void aKeyThatIsNotMultiRegion_isDescribedSo() {
    KeyMetadata single = a.kms().createKey(k -> k.description("single")).keyMetadata();
    assertThat(single.multiRegion()).isFalse();
    assertThat(single.multiRegionConfiguration()).isNull();
  }

  @Test
  void replicateKey_refusesWhatAwsRefuses_byItsAwsName() {
    String single = a.kms().createKey(k -> k.description("single")).keyMetadata().keyId();
    assertThatThrownBy(() -> a.kms().replicateKey(r -> r.keyId(single).replicaRegion(REGION_B)))
        .isInstanceOf(UnsupportedOperationException.class);

    String primary = newPrimary("errors");
    assertAwsError(
        () -> a.kms().replicateKey(r -> r.keyId(primary).replicaRegion("region-c")),
        "ValidationException");
    assertAwsError(
        () -> a.kms().replicateKey(r -> r.keyId(primary).replicaRegion(REGION_A)),
        "ValidationException");
    assertAwsError(
        () -> a.kms().replicateKey(r -> r.keyId(primary).replicaRegion("")), "ValidationException");
    String absent = KeyArns.keyIdText(KeyArns.newMultiRegionKeyId());
    assertAwsError(
        () -> a.kms().replicateKey(r -> r.keyId(absent).replicaRegion(REGION_B)),
        "NotFoundException");

    a.kms().replicateKey(r -> r.keyId(primary).replicaRegion(REGION_B));
    // A replica replicates only through its primary, in the primary's region.
    assertThatThrownBy(() -> b.kms().replicateKey(r -> r.keyId(primary).replicaRegion(REGION_A)))
        .isInstanceOf(UnsupportedOperationException.class);
    // The replica is there: AWS answers AlreadyExistsException.
    assertThatThrownBy(() -> a.kms().replicateKey(r -> r.keyId(primary).replicaRegion(REGION_B)))
        .isInstanceOf(AlreadyExistsException.class);
  }

  @Test
  void replicateKey_isAuthorisedByKmsReplicateKeyOnThePrimary() {
    String bob = "spiffe://p11kms.test/account/" + ACCOUNT + "/bob";
    String policy =
        "{\"Version\":\"2012-10-17\",\"Statement\":["
            + "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\""
            + Principals.LOCAL
            + "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},"
            + "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\""
            + bob
            + "\"},\"Action\":\"kms:%s\",\"Resource\":\"*\"}]}";
    String primary =
        a.kms()
            .createKey(
                k ->
                    k.multiRegion(true)
                        .description("policy")
                        .policy(policy.formatted("DescribeKey")))
            .keyMetadata()
            .keyId();
    try (KmsClient asBob = Region.client(a.server(), a.api(), REGION_A, bob)) {
      assertAwsError(
          () -> asBob.replicateKey(r -> r.keyId(primary).replicaRegion(REGION_B)),
          "AccessDeniedException");
      a.kms()
          .putKeyPolicy(
              p -> p.keyId(primary).policyName("default").policy(policy.formatted("ReplicateKey")));
      assertThat(
              asBob
                  .replicateKey(r -> r.keyId(primary).replicaRegion(REGION_B))
                  .replicaKeyMetadata()
                  .arn())
          .isEqualTo("arn:aws:kms:region-b:" + ACCOUNT + ":key/" + primary);
    }
  }

  @Test
  void thePeeringCommands_printedWhatTheOperatorsCompare() {
    assertThat(peeringOutput)
        .containsPattern("region transport key sha256:\\S+ written to .*region-b.transport")
        .contains("region region-b trusted: sha256:");
  }

  private static void assertAwsError(Runnable call, String awsName) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            KmsException.class,
            e -> assertThat(e.awsErrorDetails().errorCode()).as(e.getMessage()).isEqualTo(awsName));
  }
}
