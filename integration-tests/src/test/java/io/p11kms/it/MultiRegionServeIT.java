package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.auth.Principals;
import io.p11kms.server.config.KeyArns;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
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
 * Two regions as an operator runs them ({@link PeeredRegions}): two tokens with different domain
 * keys, two stores, two servers started from their properties files by what {@code p11kms serve}
 * runs ({@code region.*} naming each other, each with its own peer listener under mutual TLS),
 * peered with the {@code p11kms region} commands, and driven by the AWS SDK for Java v2 through
 * each region's AWS KMS API: CreateKey MultiRegion, ReplicateKey, Encrypt in one region and Decrypt
 * in the other, DescribeKey's MultiRegionConfiguration in both, and ReplicateKey's errors by their
 * AWS names.
 */
class MultiRegionServeIT {
  private static final String ACCOUNT = PeeredRegions.ACCOUNT;
  private static final String REGION_A = "region-a";
  private static final String REGION_B = "region-b";
  private static final Map<String, String> CONTEXT = Map.of("purpose", "multi-region");

  private static PeeredRegions regions;
  private static PeeredRegions.Region a;
  private static PeeredRegions.Region b;

  @BeforeAll
  static void twoPeeredRegions() throws Exception {
    regions = PeeredRegions.start(REGION_A, REGION_B);
    a = regions.region(REGION_A);
    b = regions.region(REGION_B);
  }

  @AfterAll
  static void close() throws Exception {
    if (regions != null) {
      regions.close();
    }
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
    try (KmsClient asBob = a.client(bob)) {
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
    assertThat(regions.peeringOutput())
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
