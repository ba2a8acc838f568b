package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.AliasListEntry;
import io.p11kms.proto.v1.CancelKeyDeletionRequest;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DataKeySpec;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DeleteAliasRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.EnableKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptResponse;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GenerateDataKeyResponse;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListAliasesRequest;
import io.p11kms.proto.v1.ListAliasesResponse;
import io.p11kms.proto.v1.ListResourceTagsRequest;
import io.p11kms.proto.v1.ReEncryptRequest;
import io.p11kms.proto.v1.ScheduleKeyDeletionRequest;
import io.p11kms.proto.v1.Tag;
import io.p11kms.proto.v1.TagResourceRequest;
import io.p11kms.proto.v1.UntagResourceRequest;
import io.p11kms.proto.v1.UpdateAliasRequest;
import io.p11kms.proto.v1.UpdateKeyDescriptionRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Aliases: the naming rules, uniqueness, use as KeyId where AWS KMS takes them, listing. */
class AliasIT {
  private static final String ARN_BASE = "arn:aws:kms:local-1:111122223333:";

  private static KmsTestServer server;
  private static KeyManagementServiceBlockingStub kms;

  @BeforeAll
  static void startServer() throws Exception {
    server = KmsTestServer.start();
    kms = server.client();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "orders",
        "Alias/orders",
        "alias/",
        "alias",
        "alias/with space",
        "alias/colon:name",
        "alias/dot.name",
        "alias/\u00fcnicode",
        "alias/aws/orders",
        "alias/AWS/orders",
        "alias/aws/"
      })
  void createAlias_rejectedForm_isValidation_andCreatesNothing(String name) {
    String keyId = newKey();
    long before = aliasCount();

    Rpc.assertFails(
        () -> createAlias(name, keyId), Status.Code.INVALID_ARGUMENT, "ValidationException");

    assertThat(aliasCount()).isEqualTo(before);
  }

  @Test
  void createAlias_257Characters_isValidation_and256Is_accepted() {
    String keyId = newKey();
    String name256 = "alias/" + "a".repeat(250);
    String name257 = "alias/" + "b".repeat(251);

    Rpc.assertFails(
        () -> createAlias(name257, keyId), Status.Code.INVALID_ARGUMENT, "ValidationException");
    createAlias(name256, keyId);

    assertThat(describeKeyId(name256)).isEqualTo(keyId);
  }

  @Test
  void createAlias_duplicateName_isAlreadyExists_andKeepsTheFirstTarget() {
    String first = newKey();
    String second = newKey();
    createAlias("alias/dup", first);

    Rpc.assertFails(
        () -> createAlias("alias/dup", second),
        Status.Code.ALREADY_EXISTS,
        "AlreadyExistsException");
    Rpc.assertFails(
        () -> createAlias("alias/dup", first),
        Status.Code.ALREADY_EXISTS,
        "AlreadyExistsException");

    assertThat(describeKeyId("alias/dup")).isEqualTo(first);
  }

  @Test
  void createAlias_targetIsAnAlias_isValidation() {
    String keyId = newKey();
    createAlias("alias/target", keyId);

    Rpc.assertFails(
        () -> createAlias("alias/of-alias", "alias/target"),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    Rpc.assertFails(
        () -> createAlias("alias/of-alias", ARN_BASE + "alias/target"),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
  }

  @Test
  void createAlias_targetByArn_works_unknownTargetIsNotFound() {
    String keyId = newKey();
    createAlias("alias/by-arn", ARN_BASE + "key/" + keyId);
    assertThat(describeKeyId("alias/by-arn")).isEqualTo(keyId);

    Rpc.assertFails(
        () -> createAlias("alias/nowhere", UUID.randomUUID().toString()),
        Status.Code.NOT_FOUND,
        "NotFoundException");
  }

  @Test
  void alias_worksAsKeyId_inEncryptDecryptGenerateDataKeyReEncryptAndDescribeKey() {
    String keyId = newKey();
    String keyArn = ARN_BASE + "key/" + keyId;
    createAlias("alias/app", keyId);
    String aliasArn = ARN_BASE + "alias/app";

    EncryptResponse encrypted =
        kms.encrypt(
            EncryptRequest.newBuilder()
                .setKeyId("alias/app")
                .setPlaintext(ByteString.copyFromUtf8("hello"))
                .build());
    assertThat(encrypted.getKeyId()).isEqualTo(keyArn);
    assertThat(
            kms.decrypt(
                    DecryptRequest.newBuilder()
                        .setCiphertextBlob(encrypted.getCiphertextBlob())
                        .setKeyId(aliasArn)
                        .build())
                .getPlaintext()
                .toStringUtf8())
        .isEqualTo("hello");
    GenerateDataKeyResponse dataKey =
        kms.generateDataKey(
            GenerateDataKeyRequest.newBuilder()
                .setKeyId(aliasArn)
                .setKeySpec(DataKeySpec.AES_256)
                .build());
    assertThat(dataKey.getKeyId()).isEqualTo(keyArn);
    assertThat(
            kms.reEncrypt(
                    ReEncryptRequest.newBuilder()
                        .setCiphertextBlob(encrypted.getCiphertextBlob())
                        .setSourceKeyId("alias/app")
                        .setDestinationKeyId("alias/app")
                        .build())
                .getKeyId())
        .isEqualTo(keyArn);
    assertThat(describeKeyId("alias/app")).isEqualTo(keyId);
    assertThat(describeKeyId(aliasArn)).isEqualTo(keyId);
  }

  @Test
  void decrypt_withAliasOfAnotherKey_isIncorrectKey() {
    String keyId = newKey();
    createAlias("alias/other", newKey());
    ByteString blob =
        kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(keyId)
                    .setPlaintext(ByteString.copyFromUtf8("x"))
                    .build())
            .getCiphertextBlob();

    Rpc.assertFails(
        () ->
            kms.decrypt(
                DecryptRequest.newBuilder()
                    .setCiphertextBlob(blob)
                    .setKeyId("alias/other")
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "IncorrectKeyException");
  }

  @Test
  void alias_isRefusedWhereAwsTakesOnlyKeyIdOrArn_asNotFound_andChangesNothing() {
    String keyId = newKey();
    createAlias("alias/only-ids", keyId);
    for (String alias : List.of("alias/only-ids", ARN_BASE + "alias/only-ids")) {
      List<ThrowingCallable> calls = new ArrayList<>();
      calls.add(() -> kms.enableKey(EnableKeyRequest.newBuilder().setKeyId(alias).build()));
      calls.add(() -> kms.disableKey(DisableKeyRequest.newBuilder().setKeyId(alias).build()));
      calls.add(
          () ->
              kms.scheduleKeyDeletion(
                  ScheduleKeyDeletionRequest.newBuilder().setKeyId(alias).build()));
      calls.add(
          () ->
              kms.cancelKeyDeletion(CancelKeyDeletionRequest.newBuilder().setKeyId(alias).build()));
      calls.add(
          () ->
              kms.updateKeyDescription(
                  UpdateKeyDescriptionRequest.newBuilder()
                      .setKeyId(alias)
                      .setDescription("x")
                      .build()));
      calls.add(
          () ->
              kms.tagResource(
                  TagResourceRequest.newBuilder()
                      .setKeyId(alias)
                      .addTags(Tag.newBuilder().setTagKey("k").setTagValue("v"))
                      .build()));
      calls.add(
          () ->
              kms.untagResource(
                  UntagResourceRequest.newBuilder().setKeyId(alias).addTagKeys("k").build()));
      calls.add(
          () -> kms.listResourceTags(ListResourceTagsRequest.newBuilder().setKeyId(alias).build()));
      calls.add(() -> kms.listAliases(ListAliasesRequest.newBuilder().setKeyId(alias).build()));
      for (ThrowingCallable call : calls) {
        Rpc.assertFails(call, Status.Code.NOT_FOUND, "NotFoundException");
      }
    }
    var m =
        kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(keyId).build()).getKeyMetadata();
    assertThat(m.getKeyState().name()).isEqualTo("ENABLED");
    assertThat(m.getDescription()).isEmpty();
  }

  @Test
  void updateAlias_pointsTheAliasAtAnotherKey_andUpdatesLastUpdatedDate() {
    String first = newKey();
    String second = newKey();
    createAlias("alias/moving", first);
    AliasListEntry before = entry("alias/moving");

    kms.updateAlias(
        UpdateAliasRequest.newBuilder()
            .setAliasName("alias/moving")
            .setTargetKeyId(second)
            .build());

    assertThat(describeKeyId("alias/moving")).isEqualTo(second);
    AliasListEntry after = entry("alias/moving");
    assertThat(after.getTargetKeyId()).isEqualTo(second);
    assertThat(after.getCreationDate()).isEqualTo(before.getCreationDate());
    assertThat(toNanos(after.getLastUpdatedDate()))
        .isGreaterThanOrEqualTo(toNanos(before.getLastUpdatedDate()));
  }

  @Test
  void updateAlias_unknownAlias_isNotFound_pendingTarget_isInvalidState() {
    String keyId = newKey();
    Rpc.assertFails(
        () ->
            kms.updateAlias(
                UpdateAliasRequest.newBuilder()
                    .setAliasName("alias/never-made")
                    .setTargetKeyId(keyId)
                    .build()),
        Status.Code.NOT_FOUND,
        "NotFoundException");

    createAlias("alias/stays", keyId);
    String pending = newKey();
    kms.scheduleKeyDeletion(ScheduleKeyDeletionRequest.newBuilder().setKeyId(pending).build());
    Rpc.assertFails(
        () ->
            kms.updateAlias(
                UpdateAliasRequest.newBuilder()
                    .setAliasName("alias/stays")
                    .setTargetKeyId(pending)
                    .build()),
        Status.Code.FAILED_PRECONDITION,
        "KMSInvalidStateException");
    assertThat(describeKeyId("alias/stays")).isEqualTo(keyId);
  }

  @Test
  void deleteAlias_removesOnlyTheAlias_andTwiceIsNotFound() {
    String keyId = newKey();
    createAlias("alias/short-lived", keyId);

    kms.deleteAlias(DeleteAliasRequest.newBuilder().setAliasName("alias/short-lived").build());

    Rpc.assertFails(
        () -> describeKeyId("alias/short-lived"), Status.Code.NOT_FOUND, "NotFoundException");
    assertThat(describeKeyId(keyId)).isEqualTo(keyId);
    Rpc.assertFails(
        () ->
            kms.deleteAlias(
                DeleteAliasRequest.newBuilder().setAliasName("alias/short-lived").build()),
        Status.Code.NOT_FOUND,
        "NotFoundException");
    Rpc.assertFails(
        () -> kms.deleteAlias(DeleteAliasRequest.newBuilder().setAliasName("no-prefix").build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
  }

  @Test
  void listAliases_givesAllFields_filtersByKey_andPagesWithMarkers() {
    String keyId = newKey();
    for (int i = 0; i < 3; i++) {
      createAlias("alias/page-" + i, keyId);
    }
    createAlias("alias/page-other", newKey());

    ListAliasesResponse all = kms.listAliases(ListAliasesRequest.newBuilder().build());
    assertThat(all.getAliasesList())
        .extracting(AliasListEntry::getAliasName)
        .contains("alias/page-0", "alias/page-1", "alias/page-2", "alias/page-other");
    AliasListEntry e = entry("alias/page-1");
    assertThat(e.getAliasArn()).isEqualTo(ARN_BASE + "alias/page-1");
    assertThat(e.getTargetKeyId()).isEqualTo(keyId);
    assertThat(e.hasCreationDate()).isTrue();
    assertThat(e.getLastUpdatedDate()).isEqualTo(e.getCreationDate());

    List<String> paged = new ArrayList<>();
    String marker = "";
    int pages = 0;
    do {
      ListAliasesResponse page =
          kms.listAliases(
              ListAliasesRequest.newBuilder()
                  .setKeyId(ARN_BASE + "key/" + keyId)
                  .setLimit(1)
                  .setMarker(marker)
                  .build());
      assertThat(page.getAliasesCount()).isEqualTo(1);
      page.getAliasesList().forEach(a -> paged.add(a.getAliasName()));
      assertThat(page.getTruncated()).isEqualTo(!page.getNextMarker().isEmpty());
      marker = page.getNextMarker();
      pages++;
    } while (!marker.isEmpty());
    assertThat(pages).isEqualTo(3);
    assertThat(paged).containsExactly("alias/page-0", "alias/page-1", "alias/page-2");
  }

  @Test
  void listAliases_badLimitOrMarker_orUnknownKey_isRefused() {
    for (int limit : new int[] {0, 101}) {
      Rpc.assertFails(
          () -> kms.listAliases(ListAliasesRequest.newBuilder().setLimit(limit).build()),
          Status.Code.INVALID_ARGUMENT,
          "ValidationException");
    }
    Rpc.assertFails(
        () -> kms.listAliases(ListAliasesRequest.newBuilder().setMarker("bogus").build()),
        Status.Code.INVALID_ARGUMENT,
        "InvalidMarkerException");
    Rpc.assertFails(
        () ->
            kms.listAliases(
                ListAliasesRequest.newBuilder().setKeyId(UUID.randomUUID().toString()).build()),
        Status.Code.NOT_FOUND,
        "NotFoundException");
  }

  private static String newKey() {
    return kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  private static void createAlias(String name, String target) {
    kms.createAlias(
        CreateAliasRequest.newBuilder().setAliasName(name).setTargetKeyId(target).build());
  }

  private static String describeKeyId(String keyId) {
    return kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(keyId).build())
        .getKeyMetadata()
        .getKeyId();
  }

  private static long aliasCount() {
    return kms.listAliases(ListAliasesRequest.newBuilder().setLimit(100).build()).getAliasesCount();
  }

  private static AliasListEntry entry(String name) {
    String marker = "";
    do {
      ListAliasesResponse page =
          kms.listAliases(ListAliasesRequest.newBuilder().setLimit(100).setMarker(marker).build());
      for (AliasListEntry e : page.getAliasesList()) {
        if (e.getAliasName().equals(name)) {
          return e;
        }
      }
      marker = page.getNextMarker();
    } while (!marker.isEmpty());
    throw new AssertionError("alias " + name + " not listed");
  }

  private static long toNanos(com.google.protobuf.Timestamp t) {
    return t.getSeconds() * 1_000_000_000L + t.getNanos();
  }
}
