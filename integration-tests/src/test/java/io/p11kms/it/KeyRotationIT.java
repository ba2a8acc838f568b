package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.DisableKeyRotationRequest;
import io.p11kms.proto.v1.EnableKeyRequest;
import io.p11kms.proto.v1.EnableKeyRotationRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GetKeyRotationStatusRequest;
import io.p11kms.proto.v1.GetKeyRotationStatusResponse;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListKeyRotationsRequest;
import io.p11kms.proto.v1.ListKeyRotationsResponse;
import io.p11kms.proto.v1.RotateKeyOnDemandRequest;
import io.p11kms.proto.v1.RotationType;
import io.p11kms.proto.v1.RotationsListEntry;
import io.p11kms.proto.v1.ScheduleKeyDeletionRequest;
import io.p11kms.server.crypto.CiphertextBlob;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rotation of backing keys over the real socket and token, with a clock the test moves: old
 * versions keep decrypting, new ciphertexts use the newest, the period is validated, the states
 * refuse as AWS KMS, and the scheduler rotates once when due and not one tick before.
 */
class KeyRotationIT {
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
  void threeRotations_ciphertextsOfAllFourVersionsDecrypt_andNewOnesUseVersionFour()
      throws Exception {
    String keyId = newKey();
    List<byte[]> blobs = new ArrayList<>();
    blobs.add(encrypt(keyId, "v1"));
    for (int i = 2; i <= 4; i++) {
      clock.advance(Duration.ofMinutes(1));
      kms.rotateKeyOnDemand(RotateKeyOnDemandRequest.newBuilder().setKeyId(keyId).build());
      blobs.add(encrypt(keyId, "v" + i));
    }

    ListKeyRotationsResponse rotations =
        kms.listKeyRotations(ListKeyRotationsRequest.newBuilder().setKeyId(keyId).build());
    assertThat(rotations.getRotationsList()).hasSize(3);
    assertThat(rotations.getRotationsList())
        .extracting(RotationsListEntry::getRotationType)
        .containsOnly(RotationType.ON_DEMAND);
    List<String> versions = new ArrayList<>();
    for (byte[] blob : blobs) {
      versions.add(CiphertextBlob.parse(blob).keyVersionId().toString());
    }
    assertThat(versions).doesNotHaveDuplicates();
    // The blobs of versions 2-4 name the versions the three rotations made, in order.
    assertThat(versions.subList(1, 4))
        .containsExactlyElementsOf(
            rotations.getRotationsList().stream()
                .map(RotationsListEntry::getKeyMaterialId)
                .toList());
    for (int i = 0; i < 4; i++) {
      assertThat(decrypt(blobs.get(i))).isEqualTo("v" + (i + 1));
    }
    byte[] fresh = encrypt(keyId, "new");
    assertThat(CiphertextBlob.parse(fresh).keyVersionId().toString()).isEqualTo(versions.get(3));

    GetKeyRotationStatusResponse status = status(keyId);
    assertThat(status.getKeyRotationEnabled()).isFalse();
    assertThat(status.hasOnDemandRotationStartDate()).isTrue();
  }

  @Test
  void listKeyRotations_pagesWithLimitAndMarker() {
    String keyId = newKey();
    for (int i = 0; i < 3; i++) {
      kms.rotateKeyOnDemand(RotateKeyOnDemandRequest.newBuilder().setKeyId(keyId).build());
    }
    ListKeyRotationsResponse first =
        kms.listKeyRotations(
            ListKeyRotationsRequest.newBuilder().setKeyId(keyId).setLimit(2).build());
    assertThat(first.getRotationsCount()).isEqualTo(2);
    assertThat(first.getTruncated()).isTrue();
    ListKeyRotationsResponse second =
        kms.listKeyRotations(
            ListKeyRotationsRequest.newBuilder()
                .setKeyId(keyId)
                .setLimit(2)
                .setMarker(first.getNextMarker())
                .build());
    assertThat(second.getRotationsCount()).isEqualTo(1);
    assertThat(second.getTruncated()).isFalse();
  }

  @Test
  void enableKeyRotation_periodOutside90To2560_isRejected_defaultIs365() {
    String keyId = newKey();
    for (int days : new int[] {89, 2561, 0, -1}) {
      Rpc.assertFails(
          () -> enableRotation(keyId, days), Status.Code.INVALID_ARGUMENT, "ValidationException");
    }
    assertThat(status(keyId).getKeyRotationEnabled()).isFalse();

    kms.enableKeyRotation(EnableKeyRotationRequest.newBuilder().setKeyId(keyId).build());
    GetKeyRotationStatusResponse status = status(keyId);
    assertThat(status.getKeyRotationEnabled()).isTrue();
    assertThat(status.getRotationPeriodInDays()).isEqualTo(365);
    assertThat(instant(status.getNextRotationDate())).isEqualTo(START.plus(Duration.ofDays(365)));

    enableRotation(keyId, 90);
    assertThat(status(keyId).getRotationPeriodInDays()).isEqualTo(90);
    enableRotation(keyId, 2560);
    assertThat(status(keyId).getRotationPeriodInDays()).isEqualTo(2560);

    kms.disableKeyRotation(DisableKeyRotationRequest.newBuilder().setKeyId(keyId).build());
    status = status(keyId);
    assertThat(status.getKeyRotationEnabled()).isFalse();
    assertThat(status.hasRotationPeriodInDays()).isFalse();
    assertThat(status.hasNextRotationDate()).isFalse();
  }

  @Test
  void rotationChanges_onDisabledKey_disabledException_pendingDeletion_invalidState() {
    String keyId = newKey();
    enableRotation(keyId, 100);
    kms.disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build());
    Rpc.assertFails(
        () -> enableRotation(keyId, 100), Status.Code.FAILED_PRECONDITION, "DisabledException");
    Rpc.assertFails(
        () ->
            kms.disableKeyRotation(DisableKeyRotationRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.FAILED_PRECONDITION,
        "DisabledException");
    Rpc.assertFails(
        () -> kms.rotateKeyOnDemand(RotateKeyOnDemandRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.FAILED_PRECONDITION,
        "DisabledException");
    assertThat(status(keyId).getKeyRotationEnabled()).isTrue();

    kms.scheduleKeyDeletion(ScheduleKeyDeletionRequest.newBuilder().setKeyId(keyId).build());
    Rpc.assertFails(
        () -> enableRotation(keyId, 100),
        Status.Code.FAILED_PRECONDITION,
        "KMSInvalidStateException");
    Rpc.assertFails(
        () -> kms.rotateKeyOnDemand(RotateKeyOnDemandRequest.newBuilder().setKeyId(keyId).build()),
        Status.Code.FAILED_PRECONDITION,
        "KMSInvalidStateException");
    // As AWS KMS: a key pending deletion reports rotation off, and is not rotated.
    assertThat(status(keyId).getKeyRotationEnabled()).isFalse();
    clock.advance(Duration.ofDays(101));
    assertThat(server.runDueRotations()).isZero();
    Rpc.assertFails(
        () -> status("00000000-0000-0000-0000-000000000000"),
        Status.Code.NOT_FOUND,
        "NotFoundException");
  }

  @Test
  void scheduler_rotatesOnceWhenDue_notOneTickBefore_andNotWhileDisabled() throws Exception {
    String keyId = newKey();
    byte[] before = encrypt(keyId, "before");
    enableRotation(keyId, 90);
    Instant due = instant(status(keyId).getNextRotationDate());
    assertThat(due).isEqualTo(START.plus(Duration.ofDays(90)));

    clock.set(due.minusNanos(1));
    assertThat(server.runDueRotations()).isZero();
    assertThat(rotations(keyId)).isEmpty();

    clock.set(due);
    assertThat(server.runDueRotations()).isEqualTo(1);
    assertThat(server.runDueRotations()).isZero();
    List<RotationsListEntry> rotations = rotations(keyId);
    assertThat(rotations).hasSize(1);
    assertThat(rotations.get(0).getRotationType()).isEqualTo(RotationType.AUTOMATIC);
    assertThat(instant(rotations.get(0).getRotationDate())).isEqualTo(due);
    Instant next = instant(status(keyId).getNextRotationDate());
    assertThat(next).isEqualTo(due.plus(Duration.ofDays(90)));
    byte[] after = encrypt(keyId, "after");
    assertThat(CiphertextBlob.parse(after).keyVersionId().toString())
        .isEqualTo(rotations.get(0).getKeyMaterialId());
    assertThat(decrypt(before)).isEqualTo("before");

    // Disabled when the next date comes: no rotation; enabled again, the overdue one runs once.
    kms.disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build());
    clock.set(next.plus(Duration.ofDays(1)));
    assertThat(server.runDueRotations()).isZero();
    kms.enableKey(EnableKeyRequest.newBuilder().setKeyId(keyId).build());
    assertThat(server.runDueRotations()).isEqualTo(1);
    assertThat(server.runDueRotations()).isZero();
    assertThat(rotations(keyId)).hasSize(2);
  }

  private List<RotationsListEntry> rotations(String keyId) {
    return kms.listKeyRotations(ListKeyRotationsRequest.newBuilder().setKeyId(keyId).build())
        .getRotationsList();
  }

  private void enableRotation(String keyId, int days) {
    kms.enableKeyRotation(
        EnableKeyRotationRequest.newBuilder()
            .setKeyId(keyId)
            .setRotationPeriodInDays(days)
            .build());
  }

  private GetKeyRotationStatusResponse status(String keyId) {
    return kms.getKeyRotationStatus(
        GetKeyRotationStatusRequest.newBuilder().setKeyId(keyId).build());
  }

  private String newKey() {
    return kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  private byte[] encrypt(String keyId, String text) {
    return kms.encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8(text))
                .build())
        .getCiphertextBlob()
        .toByteArray();
  }

  private String decrypt(byte[] blob) {
    return kms.decrypt(
            DecryptRequest.newBuilder().setCiphertextBlob(ByteString.copyFrom(blob)).build())
        .getPlaintext()
        .toString(StandardCharsets.UTF_8);
  }

  private static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }
}
