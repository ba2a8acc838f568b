package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.p11kms.hsm.testing.CustomerKeyWrap;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.AlgorithmSpec;
import software.amazon.awssdk.services.kms.model.AliasListEntry;
import software.amazon.awssdk.services.kms.model.CreateGrantResponse;
import software.amazon.awssdk.services.kms.model.DataKeyPairSpec;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.EncryptResponse;
import software.amazon.awssdk.services.kms.model.EncryptionAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.ExpirationModelType;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyPairResponse;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyResponse;
import software.amazon.awssdk.services.kms.model.GetPublicKeyResponse;
import software.amazon.awssdk.services.kms.model.GrantListEntry;
import software.amazon.awssdk.services.kms.model.GrantOperation;
import software.amazon.awssdk.services.kms.model.KeyListEntry;
import software.amazon.awssdk.services.kms.model.KeyManagerType;
import software.amazon.awssdk.services.kms.model.KeyMetadata;
import software.amazon.awssdk.services.kms.model.KeySpec;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.KeyUsageType;
import software.amazon.awssdk.services.kms.model.KmsException;
import software.amazon.awssdk.services.kms.model.ListGrantsResponse;
import software.amazon.awssdk.services.kms.model.ListKeysResponse;
import software.amazon.awssdk.services.kms.model.MacAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.MessageType;
import software.amazon.awssdk.services.kms.model.OriginType;
import software.amazon.awssdk.services.kms.model.ReEncryptResponse;
import software.amazon.awssdk.services.kms.model.RotationType;
import software.amazon.awssdk.services.kms.model.ScheduleKeyDeletionResponse;
import software.amazon.awssdk.services.kms.model.SigningAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.Tag;
import software.amazon.awssdk.services.kms.model.WrappingKeySpec;

/**
 * The AWS SDK for Java v2, unchanged, against the AWS KMS JSON API, every request signed with an
 * access key the server made (of local:developer, an administrator on this loopback server) and
 * verified against it: every AWS KMS operation the service has, each response member read back as
 * AWS names it, the errors by their AWS exception names, and ListKeys, ListAliases,
 * ListResourceTags, ListGrants and ListRetirableGrants paged by Limit, Marker and Truncated.
 */
class AwsSdkIT {
  private static final Map<String, String> CONTEXT = Map.of("app", "ledger", "dept", "pay");

  private static KmsTestServer server;
  private static KmsClient kms;

  @BeforeAll
  static void start() throws Exception {
    server = KmsTestServer.startWithAwsApi(KmsTestServer.AwsAuth.ACCESS_KEYS);
    kms = server.awsClient();
  }

  @AfterAll
  static void stop() throws Exception {
    kms.close();
    server.close();
  }

  private static String symmetricKey() {
    return kms.createKey(b -> b.description("sdk")).keyMetadata().keyId();
  }

  @Test
  void createKey_describeKey_metadataAsAwsNamesIt() {
    Instant before = Instant.now().minusSeconds(2);
    KeyMetadata created =
        kms.createKey(
                b ->
                    b.description("described")
                        .keyUsage(KeyUsageType.ENCRYPT_DECRYPT)
                        .keySpec(KeySpec.SYMMETRIC_DEFAULT)
                        .tags(Tag.builder().tagKey("team").tagValue("blue").build()))
            .keyMetadata();
    KeyMetadata m = kms.describeKey(b -> b.keyId(created.keyId())).keyMetadata();
    assertThat(m.keyId()).isEqualTo(created.keyId());
    assertThat(m.arn())
        .isEqualTo(KmsTestServer.ARNS.keyArn(java.util.UUID.fromString(created.keyId())));
    assertThat(m.awsAccountId()).isEqualTo("111122223333");
    assertThat(m.description()).isEqualTo("described");
    assertThat(m.enabled()).isTrue();
    assertThat(m.keyState()).isEqualTo(KeyState.ENABLED);
    assertThat(m.keyUsage()).isEqualTo(KeyUsageType.ENCRYPT_DECRYPT);
    assertThat(m.keySpec()).isEqualTo(KeySpec.SYMMETRIC_DEFAULT);
    assertThat(m.origin()).isEqualTo(OriginType.AWS_KMS);
    assertThat(m.keyManager()).isEqualTo(KeyManagerType.CUSTOMER);
    assertThat(m.encryptionAlgorithms()).containsExactly(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT);
    assertThat(m.signingAlgorithms()).isEmpty();
    assertThat(m.creationDate()).isBetween(before, Instant.now().plusSeconds(2));
    assertThat(m.multiRegion()).isFalse();
    assertThat(kms.listResourceTags(b -> b.keyId(created.keyId())).tags())
        .containsExactly(Tag.builder().tagKey("team").tagValue("blue").build());
  }

  @Test
  void encrypt_decrypt_reEncrypt_dataKeys_random() {
    String key = symmetricKey();
    String other = symmetricKey();
    byte[] secret = "a small secret".getBytes(StandardCharsets.UTF_8);
    EncryptResponse encrypted =
        kms.encrypt(
            b -> b.keyId(key).plaintext(SdkBytes.fromByteArray(secret)).encryptionContext(CONTEXT));
    assertThat(encrypted.keyId()).endsWith(key);
    assertThat(encrypted.encryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT);
    DecryptResponse decrypted =
        kms.decrypt(b -> b.ciphertextBlob(encrypted.ciphertextBlob()).encryptionContext(CONTEXT));
    assertThat(decrypted.plaintext().asByteArray()).isEqualTo(secret);
    assertThat(decrypted.keyId()).isEqualTo(encrypted.keyId());
    assertThat(decrypted.encryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT);

    ReEncryptResponse moved =
        kms.reEncrypt(
            b ->
                b.ciphertextBlob(encrypted.ciphertextBlob())
                    .sourceEncryptionContext(CONTEXT)
                    .destinationKeyId(other)
                    .destinationEncryptionContext(Map.of("to", "other")));
    assertThat(moved.sourceKeyId()).endsWith(key);
    assertThat(moved.keyId()).endsWith(other);
    assertThat(moved.sourceEncryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT);
    assertThat(moved.destinationEncryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT);
    assertThat(
            kms.decrypt(
                    b ->
                        b.ciphertextBlob(moved.ciphertextBlob())
                            .encryptionContext(Map.of("to", "other")))
                .plaintext()
                .asByteArray())
        .isEqualTo(secret);

    GenerateDataKeyResponse dataKey =
        kms.generateDataKey(
            b -> b.keyId(key).keySpec(DataKeySpec.AES_256).encryptionContext(CONTEXT));
    assertThat(dataKey.plaintext().asByteArray()).hasSize(32);
    assertThat(dataKey.keyId()).endsWith(key);
    assertThat(
            kms.decrypt(b -> b.ciphertextBlob(dataKey.ciphertextBlob()).encryptionContext(CONTEXT))
                .plaintext())
        .isEqualTo(dataKey.plaintext());
    var withoutPlaintext = kms.generateDataKeyWithoutPlaintext(b -> b.keyId(key).numberOfBytes(16));
    assertThat(withoutPlaintext.keyId()).endsWith(key);
    assertThat(
            kms.decrypt(b -> b.ciphertextBlob(withoutPlaintext.ciphertextBlob()))
                .plaintext()
                .asByteArray())
        .hasSize(16);
    assertThat(kms.generateRandom(b -> b.numberOfBytes(48)).plaintext().asByteArray()).hasSize(48);
  }

  @Test
  void lifeCycle_disable_enable_scheduleAndCancelDeletion() {
    String key = symmetricKey();
    kms.updateKeyDescription(b -> b.keyId(key).description("renamed"));
    assertThat(kms.describeKey(b -> b.keyId(key)).keyMetadata().description()).isEqualTo("renamed");

    kms.disableKey(b -> b.keyId(key));
    assertThat(kms.describeKey(b -> b.keyId(key)).keyMetadata().keyState())
        .isEqualTo(KeyState.DISABLED);
    assertError("DisabledException", () -> kms.encrypt(b -> b.keyId(key).plaintext(bytes("x"))));
    kms.enableKey(b -> b.keyId(key));

    ScheduleKeyDeletionResponse scheduled =
        kms.scheduleKeyDeletion(b -> b.keyId(key).pendingWindowInDays(7));
    assertThat(scheduled.keyState()).isEqualTo(KeyState.PENDING_DELETION);
    assertThat(scheduled.pendingWindowInDays()).isEqualTo(7);
    assertThat(scheduled.deletionDate())
        .isBetween(
            Instant.now().plus(Duration.ofDays(7)).minusSeconds(60),
            Instant.now().plus(Duration.ofDays(7)).plusSeconds(60));
    KeyMetadata pending = kms.describeKey(b -> b.keyId(key)).keyMetadata();
    assertThat(pending.keyState()).isEqualTo(KeyState.PENDING_DELETION);
    assertThat(pending.deletionDate()).isEqualTo(scheduled.deletionDate());
    assertThat(pending.pendingDeletionWindowInDays()).isEqualTo(7);
    assertError(
        "KMSInvalidStateException", () -> kms.encrypt(b -> b.keyId(key).plaintext(bytes("x"))));
    assertThat(kms.cancelKeyDeletion(b -> b.keyId(key)).keyId()).endsWith(key);
    assertThat(kms.describeKey(b -> b.keyId(key)).keyMetadata().keyState())
        .isEqualTo(KeyState.DISABLED);
  }

  @Test
  void aliasesAndTags() {
    String key = symmetricKey();
    String other = symmetricKey();
    kms.createAlias(b -> b.aliasName("alias/sdk-app").targetKeyId(key));
    assertThat(kms.encrypt(b -> b.keyId("alias/sdk-app").plaintext(bytes("x"))).keyId())
        .endsWith(key);
    assertError(
        "AlreadyExistsException",
        () -> kms.createAlias(b -> b.aliasName("alias/sdk-app").targetKeyId(other)));
    kms.updateAlias(b -> b.aliasName("alias/sdk-app").targetKeyId(other));
    List<AliasListEntry> aliases = kms.listAliases(b -> b.keyId(other)).aliases();
    assertThat(aliases).hasSize(1);
    AliasListEntry alias = aliases.get(0);
    assertThat(alias.aliasName()).isEqualTo("alias/sdk-app");
    assertThat(alias.aliasArn()).isEqualTo("arn:aws:kms:local-1:111122223333:alias/sdk-app");
    assertThat(alias.targetKeyId()).isEqualTo(other);
    assertThat(alias.creationDate()).isNotNull();
    assertThat(alias.lastUpdatedDate()).isNotNull();
    kms.deleteAlias(b -> b.aliasName("alias/sdk-app"));
    assertThat(kms.listAliases(b -> b.keyId(other)).aliases()).isEmpty();

    kms.tagResource(
        b ->
            b.keyId(key)
                .tags(
                    Tag.builder().tagKey("a").tagValue("1").build(),
                    Tag.builder().tagKey("b").tagValue("2").build()));
    kms.untagResource(b -> b.keyId(key).tagKeys("a"));
    assertThat(kms.listResourceTags(b -> b.keyId(key)).tags())
        .containsExactly(Tag.builder().tagKey("b").tagValue("2").build());
  }

  @Test
  void listKeys_pagedByLimitMarkerAndTruncated() {
    for (int i = 0; i < 5; i++) {
      symmetricKey();
    }
    List<String> paged = new ArrayList<>();
    String marker = null;
    int pages = 0;
    while (true) {
      String from = marker;
      ListKeysResponse page = kms.listKeys(b -> b.limit(2).marker(from));
      pages++;
      assertThat(page.keys()).hasSizeLessThanOrEqualTo(2);
      page.keys().stream().map(KeyListEntry::keyId).forEach(paged::add);
      if (!page.truncated()) {
        assertThat(page.nextMarker()).isNull();
        break;
      }
      assertThat(page.nextMarker()).isNotEmpty();
      marker = page.nextMarker();
    }
    assertThat(pages).isGreaterThanOrEqualTo(3);
    assertThat(paged).doesNotHaveDuplicates();
    List<String> all =
        kms.listKeysPaginator(b -> b.limit(2)).keys().stream().map(KeyListEntry::keyId).toList();
    assertThat(all).containsExactlyElementsOf(paged);
    assertThat(kms.listKeys(b -> b.limit(1000)).keys().stream().map(KeyListEntry::keyId))
        .containsExactlyElementsOf(paged);
    assertError("InvalidMarkerException", () -> kms.listKeys(b -> b.marker("not-a-marker")));
    assertError("ValidationException", () -> kms.listKeys(b -> b.limit(0)));

    String key = symmetricKey();
    for (int i = 0; i < 3; i++) {
      int n = i;
      kms.createAlias(b -> b.aliasName("alias/page-" + n).targetKeyId(key));
      kms.tagResource(b -> b.keyId(key).tags(Tag.builder().tagKey("t" + n).tagValue("v").build()));
    }
    assertThat(
            kms.listAliasesPaginator(b -> b.keyId(key).limit(1)).aliases().stream()
                .map(AliasListEntry::aliasName))
        .containsExactly("alias/page-0", "alias/page-1", "alias/page-2");
    var firstTags = kms.listResourceTags(b -> b.keyId(key).limit(2));
    assertThat(firstTags.truncated()).isTrue();
    var restTags = kms.listResourceTags(b -> b.keyId(key).limit(2).marker(firstTags.nextMarker()));
    assertThat(restTags.truncated()).isFalse();
    assertThat(firstTags.tags().size() + restTags.tags().size()).isEqualTo(3);
  }

  @Test
  void policiesAndGrants() {
    String key = symmetricKey();
    assertThat(kms.listKeyPolicies(b -> b.keyId(key)).policyNames()).containsExactly("default");
    String policy = kms.getKeyPolicy(b -> b.keyId(key).policyName("default")).policy();
    assertThat(policy).contains("kms:*");
    String allowAll =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
            + "{\"AWS\":\"local:developer\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";
    kms.putKeyPolicy(b -> b.keyId(key).policyName("default").policy(allowAll));
    assertThat(kms.getKeyPolicy(b -> b.keyId(key)).policy()).isEqualTo(allowAll);
    assertError(
        "MalformedPolicyDocumentException",
        () -> kms.putKeyPolicy(b -> b.keyId(key).policyName("default").policy("{not json")));

    CreateGrantResponse grant =
        kms.createGrant(
            b ->
                b.keyId(key)
                    .granteePrincipal("spiffe://example/app")
                    .retiringPrincipal("local:developer")
                    .operations(GrantOperation.ENCRYPT, GrantOperation.DECRYPT)
                    .constraints(c -> c.encryptionContextSubset(Map.of("app", "ledger")))
                    .name("ledger"));
    assertThat(grant.grantId()).isNotEmpty();
    assertThat(grant.grantToken()).isNotEmpty();
    List<GrantListEntry> grants = kms.listGrants(b -> b.keyId(key)).grants();
    assertThat(grants).hasSize(1);
    GrantListEntry listed = grants.get(0);
    assertThat(listed.grantId()).isEqualTo(grant.grantId());
    assertThat(listed.keyId()).endsWith(key);
    assertThat(listed.name()).isEqualTo("ledger");
    assertThat(listed.granteePrincipal()).isEqualTo("spiffe://example/app");
    assertThat(listed.retiringPrincipal()).isEqualTo("local:developer");
    assertThat(listed.operations()).containsExactly(GrantOperation.ENCRYPT, GrantOperation.DECRYPT);
    assertThat(listed.constraints().encryptionContextSubset()).isEqualTo(Map.of("app", "ledger"));
    assertThat(listed.creationDate()).isNotNull();
    assertThat(
            kms.listRetirableGrants(b -> b.retiringPrincipal("local:developer")).grants().stream()
                .map(GrantListEntry::grantId))
        .contains(grant.grantId());
    kms.retireGrant(b -> b.grantToken(grant.grantToken()));
    assertThat(kms.listGrants(b -> b.keyId(key)).grants()).isEmpty();

    String revoked =
        kms.createGrant(
                b ->
                    b.keyId(key)
                        .granteePrincipal("spiffe://example/app")
                        .operations(GrantOperation.ENCRYPT))
            .grantId();
    kms.revokeGrant(b -> b.keyId(key).grantId(revoked));
    assertThat(kms.listGrants(b -> b.keyId(key)).grants()).isEmpty();
  }

  @Test
  void grants_arePaged_asTheSdksPaginatorsReadThem() {
    String key = symmetricKey();
    String retiring = "spiffe://example/retirer-" + UUID.randomUUID();
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      made.add(
          kms.createGrant(
                  b ->
                      b.keyId(key)
                          .granteePrincipal("spiffe://example/app")
                          .retiringPrincipal(retiring)
                          .operations(GrantOperation.ENCRYPT))
              .grantId());
    }

    List<ListGrantsResponse> pages =
        kms.listGrantsPaginator(b -> b.keyId(key).limit(2)).stream().toList();
    assertThat(pages).hasSize(3);
    assertThat(pages.get(0).truncated()).isTrue();
    assertThat(pages.get(0).nextMarker()).isNotEmpty();
    assertThat(pages.get(2).truncated()).isFalse();
    assertThat(pages.get(2).nextMarker()).isNull();
    assertThat(pages.stream().flatMap(p -> p.grants().stream()).map(GrantListEntry::grantId))
        .containsExactlyInAnyOrderElementsOf(made);
    assertThat(
            kms
                .listRetirableGrantsPaginator(b -> b.retiringPrincipal(retiring).limit(3))
                .grants()
                .stream()
                .map(GrantListEntry::grantId))
        .containsExactlyInAnyOrderElementsOf(made);
    // Without a limit, AWS's default page of 50 holds them all.
    assertThat(kms.listGrants(b -> b.keyId(key)).truncated()).isFalse();

    // A grant retired between two pages makes the next page skip or repeat none of the others.
    ListGrantsResponse first = kms.listGrants(b -> b.keyId(key).limit(2));
    kms.revokeGrant(b -> b.keyId(key).grantId(first.grants().get(1).grantId()));
    ListGrantsResponse next =
        kms.listGrants(b -> b.keyId(key).limit(10).marker(first.nextMarker()));
    assertThat(next.grants().stream().map(GrantListEntry::grantId))
        .containsExactlyElementsOf(
            pages.stream()
                .flatMap(p -> p.grants().stream())
                .map(GrantListEntry::grantId)
                .skip(2)
                .toList());

    assertError(
        "InvalidMarkerException", () -> kms.listGrants(b -> b.keyId(key).marker("not-a-marker")));
    assertError("ValidationException", () -> kms.listGrants(b -> b.keyId(key).limit(101)));
  }

  @Test
  void rotation() {
    String key = symmetricKey();
    kms.enableKeyRotation(b -> b.keyId(key).rotationPeriodInDays(180));
    var status = kms.getKeyRotationStatus(b -> b.keyId(key));
    assertThat(status.keyRotationEnabled()).isTrue();
    assertThat(status.rotationPeriodInDays()).isEqualTo(180);
    assertThat(status.keyId()).endsWith(key);
    assertThat(status.nextRotationDate()).isAfter(Instant.now().plus(Duration.ofDays(179)));
    assertThat(kms.rotateKeyOnDemand(b -> b.keyId(key)).keyId()).endsWith(key);
    var rotations = kms.listKeyRotations(b -> b.keyId(key)).rotations();
    assertThat(rotations).hasSize(1);
    assertThat(rotations.get(0).rotationType()).isEqualTo(RotationType.ON_DEMAND);
    assertThat(rotations.get(0).keyId()).isEqualTo(key);
    assertThat(rotations.get(0).keyMaterialId()).isNotEmpty();
    assertThat(rotations.get(0).rotationDate()).isNotNull();
    kms.disableKeyRotation(b -> b.keyId(key));
    assertThat(kms.getKeyRotationStatus(b -> b.keyId(key)).keyRotationEnabled()).isFalse();
  }

  @Test
  void signAndVerify_publicKeyVerifiesOutsideTheServer() throws Exception {
    KeyMetadata ec =
        kms.createKey(b -> b.keySpec(KeySpec.ECC_NIST_P256).keyUsage(KeyUsageType.SIGN_VERIFY))
            .keyMetadata();
    assertThat(ec.signingAlgorithms()).containsExactly(SigningAlgorithmSpec.ECDSA_SHA_256);
    assertThat(ec.encryptionAlgorithms()).isEmpty();
    byte[] message = bytes("signed message").asByteArray();
    var signed =
        kms.sign(
            b ->
                b.keyId(ec.keyId())
                    .message(SdkBytes.fromByteArray(message))
                    .messageType(MessageType.RAW)
                    .signingAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256));
    assertThat(signed.signingAlgorithm()).isEqualTo(SigningAlgorithmSpec.ECDSA_SHA_256);
    var verified =
        kms.verify(
            b ->
                b.keyId(ec.keyId())
                    .message(SdkBytes.fromByteArray(message))
                    .signature(signed.signature())
                    .signingAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256));
    assertThat(verified.signatureValid()).isTrue();
    assertThat(verified.keyId()).endsWith(ec.keyId());

    GetPublicKeyResponse pub = kms.getPublicKey(b -> b.keyId(ec.keyId()));
    assertThat(pub.keySpec()).isEqualTo(KeySpec.ECC_NIST_P256);
    assertThat(pub.keyUsage()).isEqualTo(KeyUsageType.SIGN_VERIFY);
    assertThat(pub.signingAlgorithms()).containsExactly(SigningAlgorithmSpec.ECDSA_SHA_256);
    PublicKey key =
        KeyFactory.getInstance("EC")
            .generatePublic(new X509EncodedKeySpec(pub.publicKey().asByteArray()));
    Signature jdk = Signature.getInstance("SHA256withECDSA");
    jdk.initVerify(key);
    jdk.update(message);
    assertThat(jdk.verify(signed.signature().asByteArray())).isTrue();

    assertError(
        "KMSInvalidSignatureException",
        () ->
            kms.verify(
                b ->
                    b.keyId(ec.keyId())
                        .message(bytes("another message"))
                        .signature(signed.signature())
                        .signingAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)));
    assertError(
        "UnsupportedOperationException", () -> kms.getPublicKey(b -> b.keyId(symmetricKey())));
    assertError(
        "InvalidKeyUsageException",
        () ->
            kms.sign(
                b ->
                    b.keyId(symmetricKey())
                        .message(bytes("m"))
                        .signingAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)));
  }

  @Test
  void rsaEncryption_hmac_dataKeyPairs() {
    String rsa =
        kms.createKey(b -> b.keySpec(KeySpec.RSA_2048).keyUsage(KeyUsageType.ENCRYPT_DECRYPT))
            .keyMetadata()
            .keyId();
    var encrypted =
        kms.encrypt(
            b ->
                b.keyId(rsa)
                    .plaintext(bytes("rsa secret"))
                    .encryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256));
    assertThat(encrypted.encryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256);
    var decrypted =
        kms.decrypt(
            b ->
                b.keyId(rsa)
                    .ciphertextBlob(encrypted.ciphertextBlob())
                    .encryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256));
    assertThat(decrypted.plaintext()).isEqualTo(bytes("rsa secret"));

    String hmac =
        kms.createKey(b -> b.keySpec(KeySpec.HMAC_256).keyUsage(KeyUsageType.GENERATE_VERIFY_MAC))
            .keyMetadata()
            .keyId();
    var mac =
        kms.generateMac(
            b ->
                b.keyId(hmac).message(bytes("mac me")).macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256));
    assertThat(mac.macAlgorithm()).isEqualTo(MacAlgorithmSpec.HMAC_SHA_256);
    assertThat(mac.mac().asByteArray()).hasSize(32);
    var verified =
        kms.verifyMac(
            b ->
                b.keyId(hmac)
                    .message(bytes("mac me"))
                    .mac(mac.mac())
                    .macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256));
    assertThat(verified.macValid()).isTrue();
    assertError(
        "KMSInvalidMacException",
        () ->
            kms.verifyMac(
                b ->
                    b.keyId(hmac)
                        .message(bytes("other"))
                        .mac(mac.mac())
                        .macAlgorithm(MacAlgorithmSpec.HMAC_SHA_256)));

    String key = symmetricKey();
    GenerateDataKeyPairResponse pair =
        kms.generateDataKeyPair(
            b ->
                b.keyId(key).keyPairSpec(DataKeyPairSpec.ECC_NIST_P256).encryptionContext(CONTEXT));
    assertThat(pair.keyPairSpec()).isEqualTo(DataKeyPairSpec.ECC_NIST_P256);
    assertThat(pair.privateKeyPlaintext().asByteArray()).isNotEmpty();
    assertThat(pair.publicKey().asByteArray()).isNotEmpty();
    assertThat(
            kms.decrypt(
                    b ->
                        b.ciphertextBlob(pair.privateKeyCiphertextBlob())
                            .encryptionContext(CONTEXT))
                .plaintext())
        .isEqualTo(pair.privateKeyPlaintext());
    var without =
        kms.generateDataKeyPairWithoutPlaintext(
            b -> b.keyId(key).keyPairSpec(DataKeyPairSpec.RSA_2048));
    assertThat(without.keyPairSpec()).isEqualTo(DataKeyPairSpec.RSA_2048);
    assertThat(without.privateKeyCiphertextBlob().asByteArray()).isNotEmpty();
    assertThat(without.keyId()).endsWith(key);
  }

  @Test
  void importedKeyMaterial_parametersImportDelete() throws Exception {
    KeyMetadata external = kms.createKey(b -> b.origin(OriginType.EXTERNAL)).keyMetadata();
    assertThat(external.origin()).isEqualTo(OriginType.EXTERNAL);
    assertThat(external.keyState()).isEqualTo(KeyState.PENDING_IMPORT);
    String key = external.keyId();
    var parameters =
        kms.getParametersForImport(
            b ->
                b.keyId(key)
                    .wrappingAlgorithm(AlgorithmSpec.RSAES_OAEP_SHA_1)
                    .wrappingKeySpec(WrappingKeySpec.RSA_2048));
    assertThat(parameters.keyId()).endsWith(key);
    assertThat(parameters.parametersValidTo()).isAfter(Instant.now().plus(Duration.ofHours(23)));
    byte[] material = new byte[32];
    new java.security.SecureRandom().nextBytes(material);
    byte[] wrapped =
        CustomerKeyWrap.wrap(parameters.publicKey().asByteArray(), "SHA-1", false, material);
    Instant validTo = Instant.now().plus(Duration.ofDays(30)).truncatedTo(ChronoUnit.SECONDS);
    var imported =
        kms.importKeyMaterial(
            b ->
                b.keyId(key)
                    .importToken(parameters.importToken())
                    .encryptedKeyMaterial(SdkBytes.fromByteArray(wrapped))
                    .expirationModel(ExpirationModelType.KEY_MATERIAL_EXPIRES)
                    .validTo(validTo));
    assertThat(imported.keyId()).endsWith(key);
    assertThat(imported.keyMaterialId()).isNotEmpty();
    KeyMetadata m = kms.describeKey(b -> b.keyId(key)).keyMetadata();
    assertThat(m.keyState()).isEqualTo(KeyState.ENABLED);
    assertThat(m.expirationModel()).isEqualTo(ExpirationModelType.KEY_MATERIAL_EXPIRES);
    assertThat(m.validTo()).isEqualTo(validTo);
    var encrypted = kms.encrypt(b -> b.keyId(key).plaintext(bytes("under imported material")));
    assertThat(kms.decrypt(b -> b.ciphertextBlob(encrypted.ciphertextBlob())).plaintext())
        .isEqualTo(bytes("under imported material"));

    assertThat(kms.deleteImportedKeyMaterial(b -> b.keyId(key)).keyId()).endsWith(key);
    assertThat(kms.describeKey(b -> b.keyId(key)).keyMetadata().keyState())
        .isEqualTo(KeyState.PENDING_IMPORT);
  }

  @Test
  void errors_byTheirAwsNames_400WithARequestId() {
    String unknown = java.util.UUID.randomUUID().toString();
    KmsException notFound =
        assertError("NotFoundException", () -> kms.describeKey(b -> b.keyId(unknown)));
    assertThat(notFound.statusCode()).isEqualTo(400);
    assertThat(notFound.requestId()).isNotEmpty();
    String key = symmetricKey();
    var encrypted = kms.encrypt(b -> b.keyId(key).plaintext(bytes("x")).encryptionContext(CONTEXT));
    assertError(
        "InvalidCiphertextException",
        () ->
            kms.decrypt(
                b ->
                    b.ciphertextBlob(encrypted.ciphertextBlob())
                        .encryptionContext(Map.of("app", "other"))));
    assertError(
        "ValidationException",
        () -> kms.encrypt(b -> b.keyId(key).plaintext(SdkBytes.fromByteArray(new byte[4097]))));
    assertError(
        "IncorrectKeyException",
        () ->
            kms.decrypt(
                b ->
                    b.ciphertextBlob(encrypted.ciphertextBlob())
                        .encryptionContext(CONTEXT)
                        .keyId(symmetricKey())));
    assertError(
        "ValidationException",
        () ->
            kms.createKey(
                b -> b.keySpec(KeySpec.ECC_NIST_P256).keyUsage(KeyUsageType.ENCRYPT_DECRYPT)));
    assertError(
        "UnsupportedOperationException",
        () -> kms.createKey(b -> b.customKeyStoreId("cks-1234567890abcdef0")));
    assertError(
        "UnsupportedOperationException",
        () -> kms.encrypt(b -> b.keyId(key).plaintext(bytes("x")).dryRun(true)));
  }

  private static SdkBytes bytes(String s) {
    return SdkBytes.fromString(s, StandardCharsets.UTF_8);
  }

  private static KmsException assertError(String awsName, Supplier<?> call) {
    KmsException e = catchThrowableOfType(KmsException.class, call::get);
    assertThat(e).as(awsName).isNotNull();
    assertThat(e.awsErrorDetails().errorCode()).isEqualTo(awsName);
    assertThat(e.statusCode()).isEqualTo(400);
    assertThat(e.awsErrorDetails().errorMessage()).isNotBlank();
    return e;
  }

  private static void assertError(String awsName, Runnable call) {
    assertError(
        awsName,
        () -> {
          call.run();
          return null;
        });
  }
}
