package io.p11kms.server.sigv4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import io.p11kms.server.metrics.TimedHsm;
import io.p11kms.server.store.AccessKeyRecord;
import io.p11kms.server.store.AccessKeyScope;
import io.p11kms.server.store.AccessKeys;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Access keys end to end on a real SoftHSM2 token and SQLite store: made by {@link
 * AccessKeyService}, the secret kept only as an EKT, the signing key computed by the token and the
 * JVM, requests signed by the AWS SDK's signer with the printed secret accepted, a disabled,
 * deleted or wrong-scope key refused, two active keys per principal.
 */
class AccessKeyCustodyTest {
  private static final String ACCOUNT = "111122223333";
  private static final String ALICE = "arn:aws:iam::111122223333:user/alice";
  private static final String REGION = "local-1";
  private static final String URL = "http://127.0.0.1:7080/";

  private static SoftHsmTestToken token;
  private static Pkcs11Hsm pkcs11;

  @TempDir Path dir;
  private SimpleMeterRegistry registry;
  private Hsm hsm;
  private KeyStore store;
  private AccessKeyService service;
  private AccessKeySigningKeys signingKeys;
  private final List<String> secrets = new ArrayList<>();

  @BeforeAll
  static void openToken() {
    token = SoftHsmTestToken.create();
    pkcs11 = Pkcs11Hsm.open(token.hsmConfig());
  }

  @AfterAll
  static void closeToken() {
    if (pkcs11 != null) {
      pkcs11.close();
    }
    if (token != null) {
      token.close();
    }
  }

  @BeforeEach
  void open() {
    registry = new SimpleMeterRegistry();
    hsm = TimedHsm.wrap(pkcs11, registry);
    store = KeyStores.open("jdbc:sqlite:" + dir.resolve("keys.db"));
    service = new AccessKeyService(hsm, AccessKeys.of(store), Clock.systemUTC());
    signingKeys = new AccessKeySigningKeys(AccessKeys.of(store), hsm, Duration.ZERO);
  }

  @AfterEach
  void close() {
    store.close();
  }

  private SigV4Verifier verifier(String service) {
    return new SigV4Verifier(signingKeys, Clock.systemUTC(), service, REGION, Set.of());
  }

  private AccessKeyRecord create(String principal, AccessKeyScope scope) {
    AccessKeyService.NewAccessKey created = service.create(ACCOUNT, principal, scope);
    secrets.add(new String(created.secret()));
    created.clearSecret();
    return created.record();
  }

  private static SignedRequest encrypt(String id, String secret, String service) {
    return new SdkSigner(id, secret, REGION, service)
        .kmsCall(URL, "Encrypt", "{\"KeyId\":\"alias/a\"}", Instant.now())
        .received();
  }

  private long tokenCalls(String operation) {
    return registry.find("p11kms.token.calls").tag("operation", operation).timers().stream()
        .mapToLong(t -> t.count())
        .sum();
  }

  @Test
  void created_hasAnAwsShapedIdAndAnXksGradeSecret() {
    AccessKeyRecord key = create(ALICE, AccessKeyScope.KMS_API);

    assertThat(key.accessKeyId()).matches("AKIA[A-Z2-7]{16}");
    assertThat(secrets.get(0)).hasSize(44).matches("[A-Za-z0-9+/]{44}");
    assertThat(Base64.getDecoder().decode(secrets.get(0))).hasSize(33);
    assertThat(key.active()).isTrue();
    assertThat(key.accountId()).isEqualTo(ACCOUNT);
  }

  @Test
  void requestSignedWithTheSecret_isAccepted_asTheKeysPrincipal() {
    AccessKeyRecord key = create(ALICE, AccessKeyScope.KMS_API);

    AccessKeyCaller signer =
        verifier("kms").verify(encrypt(key.accessKeyId(), secrets.get(0), "kms"));

    assertThat(signer.accessKeyId()).isEqualTo(key.accessKeyId());
    assertThat(signer.caller().principal()).isEqualTo(ALICE);
    assertThat(signer.caller().account()).isEqualTo(ACCOUNT);
  }

  @Test
  void theTokenIsAskedOncePerKeyAndDay() {
    AccessKeyRecord key = create(ALICE, AccessKeyScope.KMS_API);
    SigV4Verifier verifier = verifier("kms");

    for (int i = 0; i < 5; i++) {
      verifier.verify(encrypt(key.accessKeyId(), secrets.get(0), "kms"));
    }

    assertThat(tokenCalls("generateMac")).isEqualTo(1);
  }

  @Test
  void wrongSecret_isInvalidSignature() {
    AccessKeyRecord key = create(ALICE, AccessKeyScope.KMS_API);
    String wrong = secrets.get(0).substring(1) + "A";

    assertThatThrownBy(() -> verifier("kms").verify(encrypt(key.accessKeyId(), wrong, "kms")))
        .isInstanceOfSatisfying(
            SigV4Exception.class,
            e -> assertThat(e.failure()).isEqualTo(SigV4Failure.INVALID_SIGNATURE));
  }

  @Test
  void disabledKey_isRefused_andAcceptedAgainOnceEnabled() {
    AccessKeyRecord key = create(ALICE, AccessKeyScope.KMS_API);
    SigV4Verifier verifier = verifier("kms");
    verifier.verify(encrypt(key.accessKeyId(), secrets.get(0), "kms"));

    service.setActive(key.accessKeyId(), false);

    assertThatThrownBy(() -> verifier.verify(encrypt(key.accessKeyId(), secrets.get(0), "kms")))
        .isInstanceOfSatisfying(
            SigV4Exception.class,
            e -> assertThat(e.failure()).isEqualTo(SigV4Failure.UNRECOGNIZED_CLIENT));
    service.setActive(key.accessKeyId(), true);
    assertThat(verifier.verify(encrypt(key.accessKeyId(), secrets.get(0), "kms"))).isNotNull();
  }

  @Test
  void deletedKey_isRefused() {
    AccessKeyRecord key = create(ALICE, AccessKeyScope.KMS_API);
    SigV4Verifier verifier = verifier("kms");
    verifier.verify(encrypt(key.accessKeyId(), secrets.get(0), "kms"));

    service.delete(key.accessKeyId());

    assertThatThrownBy(() -> verifier.verify(encrypt(key.accessKeyId(), secrets.get(0), "kms")))
        .isInstanceOfSatisfying(
            SigV4Exception.class,
            e -> assertThat(e.failure()).isEqualTo(SigV4Failure.UNRECOGNIZED_CLIENT));
    assertThatThrownBy(() -> service.delete(key.accessKeyId()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void disabledKey_isRefusedWithinTheRecheckInterval() throws Exception {
    AccessKeySigningKeys cached =
        new AccessKeySigningKeys(AccessKeys.of(store), hsm, Duration.ofMillis(200));
    SigV4Verifier verifier = new SigV4Verifier(cached, Clock.systemUTC(), "kms", REGION, Set.of());
    AccessKeyRecord key = create(ALICE, AccessKeyScope.KMS_API);
    verifier.verify(encrypt(key.accessKeyId(), secrets.get(0), "kms"));

    service.setActive(key.accessKeyId(), false);
    Thread.sleep(300);

    assertThatThrownBy(() -> verifier.verify(encrypt(key.accessKeyId(), secrets.get(0), "kms")))
        .isInstanceOf(SigV4Exception.class);
  }

  @Test
  void xksKey_signsOnlyForTheXksProxy() {
    AccessKeyRecord xks = create("xks-keystore-1", AccessKeyScope.XKS);
    String secret = secrets.get(0);

    assertThat(
            verifier("kms-xks-proxy")
                .verify(encrypt(xks.accessKeyId(), secret, "kms-xks-proxy"))
                .accessKeyId())
        .isEqualTo(xks.accessKeyId());
    assertThatThrownBy(() -> verifier("kms").verify(encrypt(xks.accessKeyId(), secret, "kms")))
        .isInstanceOfSatisfying(
            SigV4Exception.class,
            e -> assertThat(e.failure()).isEqualTo(SigV4Failure.UNRECOGNIZED_CLIENT));
  }

  @Test
  void rotation_twoActiveKeysBothWork_aThirdIsRefusedBeforeAnyTokenCall() {
    AccessKeyRecord first = create(ALICE, AccessKeyScope.KMS_API);
    AccessKeyRecord second = create(ALICE, AccessKeyScope.KMS_API);
    SigV4Verifier verifier = verifier("kms");
    assertThat(verifier.verify(encrypt(first.accessKeyId(), secrets.get(0), "kms"))).isNotNull();
    assertThat(verifier.verify(encrypt(second.accessKeyId(), secrets.get(1), "kms"))).isNotNull();
    long randomCalls = tokenCalls("generateRandom");
    long imports = tokenCalls("importHmacKey");

    assertThatThrownBy(() -> service.create(ACCOUNT, ALICE, AccessKeyScope.KMS_API))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("already has 2 active");

    assertThat(tokenCalls("generateRandom")).isEqualTo(randomCalls);
    assertThat(tokenCalls("importHmacKey")).isEqualTo(imports);
    service.setActive(first.accessKeyId(), false);
    AccessKeyRecord third = create(ALICE, AccessKeyScope.KMS_API);
    assertThat(verifier.verify(encrypt(third.accessKeyId(), secrets.get(2), "kms"))).isNotNull();
    assertThatThrownBy(() -> service.setActive(first.accessKeyId(), true))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void noObjectStaysOnTheToken() {
    int before = pkcs11.visibleObjectCount();
    AccessKeyRecord key = create(ALICE, AccessKeyScope.KMS_API);
    verifier("kms").verify(encrypt(key.accessKeyId(), secrets.get(0), "kms"));

    assertThat(pkcs11.visibleObjectCount()).isEqualTo(before);
  }

  @Test
  void theDatabaseFiles_holdNoSecret() throws Exception {
    create(ALICE, AccessKeyScope.KMS_API);
    create(ALICE, AccessKeyScope.XKS);
    store.close();
    store = KeyStores.open("jdbc:sqlite:" + dir.resolve("keys.db"));

    List<Path> files;
    try (Stream<Path> listing = Files.list(dir)) {
      files = listing.filter(p -> p.getFileName().toString().startsWith("keys.db")).toList();
    }
    assertThat(files).isNotEmpty();
    for (Path file : files) {
      String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
      for (String secret : secrets) {
        assertThat(bytes).as(file.toString()).doesNotContain(secret);
        assertThat(bytes).doesNotContain(secret.substring(0, 16));
        byte[] raw = Base64.getDecoder().decode(secret);
        assertThat(bytes).doesNotContain(new String(raw, 0, 16, StandardCharsets.ISO_8859_1));
      }
    }
  }

  @Test
  void theSecret_appearsInNoLogNoOutputAndNoRecord() {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
    AccessKeyRecord key;
    List<String> failures = new ArrayList<>();
    try {
      System.setOut(capture);
      System.setErr(capture);
      key = create(ALICE, AccessKeyScope.KMS_API);
      SigV4Verifier verifier = verifier("kms");
      verifier.verify(encrypt(key.accessKeyId(), secrets.get(0), "kms"));
      for (String service : List.of("kms", "kms-xks-proxy")) {
        try {
          verifier.verify(encrypt(key.accessKeyId(), secrets.get(0) + "x", service));
        } catch (SigV4Exception e) {
          failures.add(e.getMessage() + " " + e);
        }
      }
    } finally {
      System.setOut(out);
      System.setErr(err);
    }

    String secret = secrets.get(0);
    assertThat(failures).hasSize(2).allSatisfy(f -> assertThat(f).doesNotContain(secret));
    assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain(secret);
    assertThat(key.toString()).doesNotContain(secret);
    assertThat(service.list(Optional.empty(), Optional.empty()).toString()).doesNotContain(secret);
  }
}
