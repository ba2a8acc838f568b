package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.p11kms.proto.v1.AliasListEntry;
import io.p11kms.proto.v1.CancelKeyDeletionRequest;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyListEntry;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyState;
import io.p11kms.proto.v1.ListAliasesRequest;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.ListResourceTagsRequest;
import io.p11kms.proto.v1.ScheduleKeyDeletionRequest;
import io.p11kms.proto.v1.Tag;
import io.p11kms.proto.v1.TagResourceRequest;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Deletion after the pending window, by a clock the test moves: not one tick before the deletion
 * date, and at it the key, its EKTs, aliases and tags are gone; its ciphertexts then get
 * NotFoundException. No test sleeps.
 */
class DeletionIT {
  private static final Instant START = Instant.parse("2030-01-01T00:00:00Z");

  private MutableClock clock;
  private KmsTestServer server;
  private KeyManagementServiceBlockingStub kms;

  @BeforeEach
  void startServer() throws Exception {
    clock = new MutableClock(START);
    server = KmsTestServer.start(clock);
    kms = server.client();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.close();
  }

  @Test
  void deletion_notOneNanosecondBeforeTheWindow_andAtItEverythingGoes() {
    String keyId = newKey();
    byte[] blob = encrypt(keyId);
    kms.createAlias(
        CreateAliasRequest.newBuilder().setAliasName("alias/doomed").setTargetKeyId(keyId).build());
    kms.tagResource(
        TagResourceRequest.newBuilder()
            .setKeyId(keyId)
            .addTags(Tag.newBuilder().setTagKey("team").setTagValue("payments"))
            .build());
    Timestamp date =
        kms.scheduleKeyDeletion(
                ScheduleKeyDeletionRequest.newBuilder()
                    .setKeyId(keyId)
                    .setPendingWindowInDays(7)
                    .build())
            .getDeletionDate();
    Instant deletionDate = Instant.ofEpochSecond(date.getSeconds(), date.getNanos());
    assertThat(deletionDate).isEqualTo(START.plus(Duration.ofDays(7)));

    clock.set(deletionDate.minusNanos(1));
    assertThat(server.runDueDeletions()).isZero();
    assertThat(describeState(keyId)).isEqualTo(KeyState.PENDING_DELETION);
    Rpc.assertFails(
        () -> decrypt(blob), Status.Code.FAILED_PRECONDITION, "KMSInvalidStateException");
    assertThat(aliasNames()).contains("alias/doomed");

    clock.set(deletionDate);
    assertThat(server.runDueDeletions()).isEqualTo(1);

    Rpc.assertFails(
        () -> kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.NOT_FOUND,
        "NotFoundException");
    Rpc.assertFails(() -> decrypt(blob), Status.Code.NOT_FOUND, "NotFoundException");
    Rpc.assertFails(
        () -> kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId("alias/doomed").build()),
        Status.Code.NOT_FOUND,
        "NotFoundException");
    Rpc.assertFails(
        () -> kms.listResourceTags(ListResourceTagsRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.NOT_FOUND,
        "NotFoundException");
    assertThat(aliasNames()).doesNotContain("alias/doomed");
    assertThat(kms.listKeys(ListKeysRequest.getDefaultInstance()).getKeysList())
        .extracting(KeyListEntry::getKeyId)
        .doesNotContain(keyId);
    // The name is free again.
    kms.createAlias(
        CreateAliasRequest.newBuilder()
            .setAliasName("alias/doomed")
            .setTargetKeyId(newKey())
            .build());
    // A second run finds nothing more to do.
    assertThat(server.runDueDeletions()).isZero();
  }

  @Test
  void deletion_leavesOtherKeysAlone() {
    String doomed = newKey();
    String kept = newKey();
    String pendingLonger = newKey();
    byte[] keptBlob = encrypt(kept);
    schedule(doomed, 7);
    schedule(pendingLonger, 8);

    clock.advance(Duration.ofDays(7));
    assertThat(server.runDueDeletions()).isEqualTo(1);

    assertThat(decrypt(keptBlob)).isEqualTo("secret");
    assertThat(describeState(kept)).isEqualTo(KeyState.ENABLED);
    assertThat(describeState(pendingLonger)).isEqualTo(KeyState.PENDING_DELETION);
  }

  @Test
  void cancelledDeletion_isNotCarriedOut_whenTheWindowPasses() {
    String keyId = newKey();
    byte[] blob = encrypt(keyId);
    schedule(keyId, 7);
    kms.cancelKeyDeletion(CancelKeyDeletionRequest.newBuilder().setKeyId(keyId).build());

    clock.advance(Duration.ofDays(31));
    assertThat(server.runDueDeletions()).isZero();

    assertThat(describeState(keyId)).isEqualTo(KeyState.DISABLED);
    Rpc.assertFails(() -> decrypt(blob), Status.Code.FAILED_PRECONDITION, "DisabledException");
  }

  @Test
  void deletedKeysCiphertext_isNotFound_butAMadeUpKeyIdIsStillInvalidCiphertext() {
    String keyId = newKey();
    byte[] blob = encrypt(keyId);
    schedule(keyId, 7);
    clock.advance(Duration.ofDays(7));
    server.runDueDeletions();

    Rpc.assertFails(() -> decrypt(blob), Status.Code.NOT_FOUND, "NotFoundException");
    // The key's account is gone with it: the message names no ARN (no account), only the id.
    assertThat(Rpc.failure(() -> decrypt(blob)).message())
        .contains("Key '" + keyId + "' has been deleted");
    byte[] madeUp = blob.clone();
    madeUp[5] ^= 1; // inside the key id: a key nobody created
    Rpc.assertFails(
        () -> decrypt(madeUp), Status.Code.INVALID_ARGUMENT, "InvalidCiphertextException");
  }

  private String newKey() {
    return kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  private void schedule(String keyId, int days) {
    kms.scheduleKeyDeletion(
        ScheduleKeyDeletionRequest.newBuilder()
            .setKeyId(keyId)
            .setPendingWindowInDays(days)
            .build());
  }

  private byte[] encrypt(String keyId) {
    return kms.encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8("secret"))
                .build())
        .getCiphertextBlob()
        .toByteArray();
  }

  private String decrypt(byte[] blob) {
    return kms.decrypt(
            DecryptRequest.newBuilder().setCiphertextBlob(ByteString.copyFrom(blob)).build())
        .getPlaintext()
        .toStringUtf8();
  }

  private KeyState describeState(String keyId) {
    return kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(keyId).build())
        .getKeyMetadata()
        .getKeyState();
  }

  private java.util.List<String> aliasNames() {
    return kms
        .listAliases(ListAliasesRequest.newBuilder().setLimit(100).build())
        .getAliasesList()
        .stream()
        .map(AliasListEntry::getAliasName)
        .toList();
  }
}
