package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.ListResourceTagsRequest;
import io.p11kms.proto.v1.ListResourceTagsResponse;
import io.p11kms.proto.v1.Tag;
import io.p11kms.proto.v1.TagResourceRequest;
import io.p11kms.proto.v1.UntagResourceRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Tags: the size rules, the reserved prefix, the 50-per-key limit, overwrite, untag, paging. */
class TagIT {
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

  @Test
  void tagResource_addsAndOverwrites_untagRemoves_listIsInKeyOrder() {
    String keyId = newKey();
    tag(keyId, Map.of("team", "payments", "env", "prod"));
    tag(keyId, Map.of("env", "staging"));

    assertThat(tags(keyId))
        .containsExactly(Map.entry("env", "staging"), Map.entry("team", "payments"));

    kms.untagResource(
        UntagResourceRequest.newBuilder()
            .setKeyId(keyId)
            .addTagKeys("team")
            .addTagKeys("never-there")
            .build());
    assertThat(tags(keyId)).containsExactly(Map.entry("env", "staging"));
  }

  @Test
  void fiftyTags_fit_andThe51stIsLimitExceeded_withNothingWritten() {
    String keyId = newKey();
    Map<String, String> fifty = numbered("t", 50);
    tag(keyId, fifty);
    assertThat(tags(keyId)).hasSize(50);

    Rpc.assertFails(
        () -> tag(keyId, Map.of("one-more", "x")),
        Status.Code.RESOURCE_EXHAUSTED,
        "LimitExceededException");
    // A batch that overwrites one and adds one is refused whole.
    Rpc.assertFails(
        () -> tag(keyId, Map.of("t00", "changed", "one-more", "x")),
        Status.Code.RESOURCE_EXHAUSTED,
        "LimitExceededException");

    Map<String, String> after = tags(keyId);
    assertThat(after).hasSize(50).doesNotContainKey("one-more").containsEntry("t00", "v");
    // Overwriting an existing tag at the limit is fine.
    tag(keyId, Map.of("t00", "changed"));
    assertThat(tags(keyId)).hasSize(50).containsEntry("t00", "changed");
  }

  @Test
  void tagKeyAndValueLengths_atTheLimitFit_oneMoreIsValidation() {
    String keyId = newKey();
    tag(keyId, Map.of("k".repeat(128), "v".repeat(256)));
    tag(keyId, Map.of("empty-value", ""));
    assertThat(tags(keyId))
        .containsEntry("k".repeat(128), "v".repeat(256))
        .containsEntry("empty-value", "");

    for (Map<String, String> bad :
        List.of(
            Map.of("k".repeat(129), "v"),
            Map.of("key", "v".repeat(257)),
            Map.of("", "v"),
            Map.of("aws:reserved", "v"),
            Map.of("AWS:Reserved", "v"))) {
      Rpc.assertFails(() -> tag(keyId, bad), Status.Code.INVALID_ARGUMENT, "ValidationException");
    }
    assertThat(tags(keyId)).hasSize(2);
  }

  @Test
  void tagResource_withoutTags_orTheSameKeyTwice_isValidation() {
    String keyId = newKey();
    Rpc.assertFails(
        () -> kms.tagResource(TagResourceRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    Rpc.assertFails(
        () ->
            kms.tagResource(
                TagResourceRequest.newBuilder()
                    .setKeyId(keyId)
                    .addTags(Tag.newBuilder().setTagKey("a").setTagValue("1"))
                    .addTags(Tag.newBuilder().setTagKey("a").setTagValue("2"))
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    Rpc.assertFails(
        () -> kms.untagResource(UntagResourceRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
  }

  @Test
  void createKey_storesItsTags_and51AreLimitExceeded_withNoKeyMade() {
    CreateKeyRequest.Builder request = CreateKeyRequest.newBuilder();
    numbered("c", 3)
        .forEach((k, v) -> request.addTags(Tag.newBuilder().setTagKey(k).setTagValue(v)));
    String keyId = kms.createKey(request.build()).getKeyMetadata().getKeyId();
    assertThat(tags(keyId)).containsOnlyKeys("c00", "c01", "c02");

    int keysBefore =
        kms.listKeys(ListKeysRequest.newBuilder().setLimit(1000).build()).getKeysCount();
    CreateKeyRequest.Builder tooMany = CreateKeyRequest.newBuilder();
    numbered("x", 51)
        .forEach((k, v) -> tooMany.addTags(Tag.newBuilder().setTagKey(k).setTagValue(v)));
    long tokenCalls = server.tokenCalls();
    Rpc.assertFails(
        () -> kms.createKey(tooMany.build()),
        Status.Code.RESOURCE_EXHAUSTED,
        "LimitExceededException");
    assertThat(server.tokenCalls()).as("refused before any token call").isEqualTo(tokenCalls);
    assertThat(kms.listKeys(ListKeysRequest.newBuilder().setLimit(1000).build()).getKeysCount())
        .isEqualTo(keysBefore);
  }

  @Test
  void listResourceTags_pagesWithMarkers_andChecksItsLimit() {
    String keyId = newKey();
    tag(keyId, numbered("p", 5));

    List<String> keys = new ArrayList<>();
    String marker = "";
    int pages = 0;
    do {
      ListResourceTagsResponse page =
          kms.listResourceTags(
              ListResourceTagsRequest.newBuilder()
                  .setKeyId(keyId)
                  .setLimit(2)
                  .setMarker(marker)
                  .build());
      page.getTagsList().forEach(t -> keys.add(t.getTagKey()));
      assertThat(page.getTruncated()).isEqualTo(!page.getNextMarker().isEmpty());
      marker = page.getNextMarker();
      pages++;
    } while (!marker.isEmpty());
    assertThat(pages).isEqualTo(3);
    assertThat(keys).containsExactly("p00", "p01", "p02", "p03", "p04");

    for (int limit : new int[] {0, 51}) {
      Rpc.assertFails(
          () ->
              kms.listResourceTags(
                  ListResourceTagsRequest.newBuilder().setKeyId(keyId).setLimit(limit).build()),
          Status.Code.INVALID_ARGUMENT,
          "ValidationException");
    }
    Rpc.assertFails(
        () ->
            kms.listResourceTags(
                ListResourceTagsRequest.newBuilder().setKeyId(keyId).setMarker("bogus").build()),
        Status.Code.INVALID_ARGUMENT,
        "InvalidMarkerException");
  }

  private static String newKey() {
    return kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  private static void tag(String keyId, Map<String, String> tags) {
    TagResourceRequest.Builder request = TagResourceRequest.newBuilder().setKeyId(keyId);
    tags.forEach((k, v) -> request.addTags(Tag.newBuilder().setTagKey(k).setTagValue(v)));
    kms.tagResource(request.build());
  }

  private static Map<String, String> tags(String keyId) {
    Map<String, String> tags = new LinkedHashMap<>();
    kms.listResourceTags(ListResourceTagsRequest.newBuilder().setKeyId(keyId).build())
        .getTagsList()
        .forEach(t -> tags.put(t.getTagKey(), t.getTagValue()));
    return tags;
  }

  private static Map<String, String> numbered(String prefix, int n) {
    Map<String, String> tags = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      tags.put(String.format("%s%02d", prefix, i), "v");
    }
    return tags;
  }
}
