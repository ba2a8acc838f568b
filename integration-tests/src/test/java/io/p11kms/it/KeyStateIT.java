package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.CancelKeyDeletionRequest;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DataKeySpec;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.EnableKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyManager;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.KeySpec;
import io.p11kms.proto.v1.KeyState;
import io.p11kms.proto.v1.KeyUsage;
import io.p11kms.proto.v1.ListResourceTagsRequest;
import io.p11kms.proto.v1.Origin;
import io.p11kms.proto.v1.ScheduleKeyDeletionRequest;
import io.p11kms.proto.v1.ScheduleKeyDeletionResponse;
import io.p11kms.proto.v1.Tag;
import io.p11kms.proto.v1.TagResourceRequest;
import io.p11kms.proto.v1.UntagResourceRequest;
import io.p11kms.proto.v1.UpdateKeyDescriptionRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every key state against every operation that names a key, with AWS KMS's answer: the state the
 * key is left in, or the exception (and then the state is unchanged).
 */
class KeyStateIT {
  private static final Instant START = Instant.parse("2030-01-01T00:00:00Z");
  private static final String INVALID_STATE = "KMSInvalidStateException";
  private static final String DISABLED = "DisabledException";

  private static MutableClock clock;
  private static KmsTestServer server;
  private static KeyManagementServiceBlockingStub kms;

  @BeforeAll
  static void startServer() throws Exception {
    clock = new MutableClock(START);
    server = KmsTestServer.start(clock);
    kms = server.client();
  }

  @AfterAll
  static void stopServer() throws Exception {
    server.close();
  }

  /** An operation on a key, given the key id and a ciphertext made under it while Enabled. */
  enum Op {
    ENABLE_KEY((id, blob) -> kms.enableKey(EnableKeyRequest.newBuilder().setKeyId(id).build())),
    DISABLE_KEY((id, blob) -> kms.disableKey(DisableKeyRequest.newBuilder().setKeyId(id).build())),
    SCHEDULE_KEY_DELETION(
        (id, blob) ->
            kms.scheduleKeyDeletion(ScheduleKeyDeletionRequest.newBuilder().setKeyId(id).build())),
    CANCEL_KEY_DELETION(
        (id, blob) ->
            kms.cancelKeyDeletion(CancelKeyDeletionRequest.newBuilder().setKeyId(id).build())),
    UPDATE_KEY_DESCRIPTION(
        (id, blob) ->
            kms.updateKeyDescription(
                UpdateKeyDescriptionRequest.newBuilder().setKeyId(id).setDescription("d").build())),
    TAG_RESOURCE(
        (id, blob) ->
            kms.tagResource(
                TagResourceRequest.newBuilder()
                    .setKeyId(id)
                    .addTags(Tag.newBuilder().setTagKey("team").setTagValue("payments"))
                    .build())),
    UNTAG_RESOURCE(
        (id, blob) ->
            kms.untagResource(
                UntagResourceRequest.newBuilder().setKeyId(id).addTagKeys("team").build())),
    CREATE_ALIAS(
        (id, blob) ->
            kms.createAlias(
                CreateAliasRequest.newBuilder()
                    .setAliasName("alias/state-" + UUID.randomUUID())
                    .setTargetKeyId(id)
                    .build())),
    ENCRYPT(
        (id, blob) ->
            kms.encrypt(
                EncryptRequest.newBuilder()
                    .setKeyId(id)
                    .setPlaintext(ByteString.copyFromUtf8("x"))
                    .build())),
    DECRYPT(
        (id, blob) ->
            kms.decrypt(
                DecryptRequest.newBuilder().setCiphertextBlob(ByteString.copyFrom(blob)).build())),
    GENERATE_DATA_KEY(
        (id, blob) ->
            kms.generateDataKey(
                GenerateDataKeyRequest.newBuilder()
                    .setKeyId(id)
                    .setKeySpec(DataKeySpec.AES_256)
                    .build())),
    DESCRIBE_KEY(
        (id, blob) -> kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(id).build())),
    LIST_RESOURCE_TAGS(
        (id, blob) ->
            kms.listResourceTags(ListResourceTagsRequest.newBuilder().setKeyId(id).build()));

    private final Call call;

    Op(Call call) {
      this.call = call;
    }

    interface Call {
      void run(String keyId, byte[] blob);
    }
  }

  /** The expected outcome: a state the key is left in, or an AWS exception name. */
  record Outcome(KeyState state, String exception) {
    static Outcome leaves(KeyState state) {
      return new Outcome(state, null);
    }

    static Outcome fails(String exception) {
      return new Outcome(null, exception);
    }

    @Override
    public String toString() {
      return exception == null ? "-> " + state : exception;
    }
  }

  static Stream<Arguments> table() {
    List<Arguments> rows = new ArrayList<>();
    KeyState e = KeyState.ENABLED;
    KeyState d = KeyState.DISABLED;
    KeyState p = KeyState.PENDING_DELETION;
    // Enabled
    rows.add(Arguments.of(e, Op.ENABLE_KEY, Outcome.leaves(e)));
    rows.add(Arguments.of(e, Op.DISABLE_KEY, Outcome.leaves(d)));
    rows.add(Arguments.of(e, Op.SCHEDULE_KEY_DELETION, Outcome.leaves(p)));
    rows.add(Arguments.of(e, Op.CANCEL_KEY_DELETION, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(e, Op.UPDATE_KEY_DESCRIPTION, Outcome.leaves(e)));
    rows.add(Arguments.of(e, Op.TAG_RESOURCE, Outcome.leaves(e)));
    rows.add(Arguments.of(e, Op.UNTAG_RESOURCE, Outcome.leaves(e)));
    rows.add(Arguments.of(e, Op.CREATE_ALIAS, Outcome.leaves(e)));
    rows.add(Arguments.of(e, Op.ENCRYPT, Outcome.leaves(e)));
    rows.add(Arguments.of(e, Op.DECRYPT, Outcome.leaves(e)));
    rows.add(Arguments.of(e, Op.GENERATE_DATA_KEY, Outcome.leaves(e)));
    rows.add(Arguments.of(e, Op.DESCRIBE_KEY, Outcome.leaves(e)));
    rows.add(Arguments.of(e, Op.LIST_RESOURCE_TAGS, Outcome.leaves(e)));
    // Disabled
    rows.add(Arguments.of(d, Op.ENABLE_KEY, Outcome.leaves(e)));
    rows.add(Arguments.of(d, Op.DISABLE_KEY, Outcome.leaves(d)));
    rows.add(Arguments.of(d, Op.SCHEDULE_KEY_DELETION, Outcome.leaves(p)));
    rows.add(Arguments.of(d, Op.CANCEL_KEY_DELETION, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(d, Op.UPDATE_KEY_DESCRIPTION, Outcome.leaves(d)));
    rows.add(Arguments.of(d, Op.TAG_RESOURCE, Outcome.leaves(d)));
    rows.add(Arguments.of(d, Op.UNTAG_RESOURCE, Outcome.leaves(d)));
    rows.add(Arguments.of(d, Op.CREATE_ALIAS, Outcome.leaves(d)));
    rows.add(Arguments.of(d, Op.ENCRYPT, Outcome.fails(DISABLED)));
    rows.add(Arguments.of(d, Op.DECRYPT, Outcome.fails(DISABLED)));
    rows.add(Arguments.of(d, Op.GENERATE_DATA_KEY, Outcome.fails(DISABLED)));
    rows.add(Arguments.of(d, Op.DESCRIBE_KEY, Outcome.leaves(d)));
    rows.add(Arguments.of(d, Op.LIST_RESOURCE_TAGS, Outcome.leaves(d)));
    // PendingDeletion
    rows.add(Arguments.of(p, Op.ENABLE_KEY, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(p, Op.DISABLE_KEY, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(p, Op.SCHEDULE_KEY_DELETION, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(p, Op.CANCEL_KEY_DELETION, Outcome.leaves(d)));
    rows.add(Arguments.of(p, Op.UPDATE_KEY_DESCRIPTION, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(p, Op.TAG_RESOURCE, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(p, Op.UNTAG_RESOURCE, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(p, Op.CREATE_ALIAS, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(p, Op.ENCRYPT, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(p, Op.DECRYPT, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(p, Op.GENERATE_DATA_KEY, Outcome.fails(INVALID_STATE)));
    rows.add(Arguments.of(p, Op.DESCRIBE_KEY, Outcome.leaves(p)));
    rows.add(Arguments.of(p, Op.LIST_RESOURCE_TAGS, Outcome.leaves(p)));
    return rows.stream();
  }

  @Test
  void table_coversEveryStateAndOperation() {
    assertThat(table().count()).isEqualTo(3L * Op.values().length);
  }

  @ParameterizedTest(name = "{0} x {1} {2}")
  @MethodSource("table")
  void stateTimesOperation_givesAwsOutcome(KeyState from, Op op, Outcome expected) {
    String keyId = newKey();
    byte[] blob = encrypt(keyId);
    bringTo(keyId, from);
    assertThat(state(keyId)).isEqualTo(from);

    if (expected.exception() == null) {
      op.call.run(keyId, blob);
      assertThat(state(keyId)).isEqualTo(expected.state());
    } else {
      Rpc.assertFails(
          () -> op.call.run(keyId, blob), Status.Code.FAILED_PRECONDITION, expected.exception());
      assertThat(state(keyId)).as("a refused operation leaves the state").isEqualTo(from);
    }
  }

  @Test
  void describeKey_returnsFullKeyMetadata() {
    KeyMetadata created =
        kms.createKey(CreateKeyRequest.newBuilder().setDescription("orders db").build())
            .getKeyMetadata();

    KeyMetadata m = describe(created.getKeyId());

    assertThat(m.getKeyId()).isEqualTo(created.getKeyId());
    assertThat(m.getArn()).isEqualTo(KmsTestServer.ARNS.keyArn(UUID.fromString(m.getKeyId())));
    assertThat(m.getCreationDate().getSeconds()).isEqualTo(START.getEpochSecond());
    assertThat(m.getEnabled()).isTrue();
    assertThat(m.getDescription()).isEqualTo("orders db");
    assertThat(m.getKeyUsage()).isEqualTo(KeyUsage.ENCRYPT_DECRYPT);
    assertThat(m.getKeySpec()).isEqualTo(KeySpec.SYMMETRIC_DEFAULT);
    assertThat(m.getKeyState()).isEqualTo(KeyState.ENABLED);
    assertThat(m.getOrigin()).isEqualTo(Origin.AWS_KMS);
    assertThat(m.getKeyManager()).isEqualTo(KeyManager.CUSTOMER);
    assertThat(m.getEncryptionAlgorithmsList())
        .containsExactly(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM);
    assertThat(m.hasDeletionDate()).isFalse();
    assertThat(m.getPendingDeletionWindowInDays()).isZero();
  }

  @Test
  void scheduleKeyDeletion_returnsArnDateStateAndWindow_andDescribeKeyShowsThem() {
    String keyId = newKey();

    ScheduleKeyDeletionResponse scheduled =
        kms.scheduleKeyDeletion(
            ScheduleKeyDeletionRequest.newBuilder()
                .setKeyId(keyId)
                .setPendingWindowInDays(7)
                .build());

    Instant due = clock.instant().plus(Duration.ofDays(7));
    assertThat(scheduled.getKeyId()).isEqualTo(KmsTestServer.ARNS.keyArn(UUID.fromString(keyId)));
    assertThat(scheduled.getKeyState()).isEqualTo(KeyState.PENDING_DELETION);
    assertThat(scheduled.getPendingWindowInDays()).isEqualTo(7);
    assertThat(scheduled.getDeletionDate().getSeconds()).isEqualTo(due.getEpochSecond());
    KeyMetadata m = describe(keyId);
    assertThat(m.getEnabled()).isFalse();
    assertThat(m.getDeletionDate()).isEqualTo(scheduled.getDeletionDate());
    assertThat(m.getPendingDeletionWindowInDays()).isEqualTo(7);
  }

  @Test
  void scheduleKeyDeletion_withoutWindow_is30Days() {
    ScheduleKeyDeletionResponse scheduled =
        kms.scheduleKeyDeletion(ScheduleKeyDeletionRequest.newBuilder().setKeyId(newKey()).build());

    assertThat(scheduled.getPendingWindowInDays()).isEqualTo(30);
    assertThat(scheduled.getDeletionDate().getSeconds())
        .isEqualTo(clock.instant().plus(Duration.ofDays(30)).getEpochSecond());
  }

  @Test
  void scheduleKeyDeletion_windowOutside7To30_isValidation_andKeyStaysEnabled() {
    String keyId = newKey();
    for (int days : new int[] {-1, 0, 6, 31, 365}) {
      Rpc.assertFails(
          () ->
              kms.scheduleKeyDeletion(
                  ScheduleKeyDeletionRequest.newBuilder()
                      .setKeyId(keyId)
                      .setPendingWindowInDays(days)
                      .build()),
          Status.Code.INVALID_ARGUMENT,
          "ValidationException");
    }
    assertThat(state(keyId)).isEqualTo(KeyState.ENABLED);
  }

  @Test
  void cancelKeyDeletion_returnsArn_andClearsDeletionDate() {
    String keyId = newKey();
    bringTo(keyId, KeyState.PENDING_DELETION);

    String arn =
        kms.cancelKeyDeletion(CancelKeyDeletionRequest.newBuilder().setKeyId(keyId).build())
            .getKeyId();

    assertThat(arn).isEqualTo(KmsTestServer.ARNS.keyArn(UUID.fromString(keyId)));
    KeyMetadata m = describe(keyId);
    assertThat(m.getKeyState()).isEqualTo(KeyState.DISABLED);
    assertThat(m.hasDeletionDate()).isFalse();
    assertThat(m.getPendingDeletionWindowInDays()).isZero();
  }

  @Test
  void updateKeyDescription_changesIt_andChecksItsLength() {
    String keyId = newKey();
    kms.updateKeyDescription(
        UpdateKeyDescriptionRequest.newBuilder().setKeyId(keyId).setDescription("new").build());
    assertThat(describe(keyId).getDescription()).isEqualTo("new");

    Rpc.assertFails(
        () ->
            kms.updateKeyDescription(
                UpdateKeyDescriptionRequest.newBuilder()
                    .setKeyId(keyId)
                    .setDescription("x".repeat(8193))
                    .build()),
        Status.Code.INVALID_ARGUMENT,
        "ValidationException");
    assertThat(describe(keyId).getDescription()).isEqualTo("new");
  }

  @Test
  void lifeCycleOperations_onAnUnknownKey_areNotFound() {
    String unknown = UUID.randomUUID().toString();
    for (Op op :
        List.of(
            Op.ENABLE_KEY,
            Op.DISABLE_KEY,
            Op.SCHEDULE_KEY_DELETION,
            Op.CANCEL_KEY_DELETION,
            Op.UPDATE_KEY_DESCRIPTION,
            Op.TAG_RESOURCE,
            Op.UNTAG_RESOURCE,
            Op.LIST_RESOURCE_TAGS,
            Op.CREATE_ALIAS)) {
      Rpc.assertFails(
          () -> op.call.run(unknown, new byte[0]), Status.Code.NOT_FOUND, "NotFoundException");
    }
  }

  private static String newKey() {
    return kms.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  private static byte[] encrypt(String keyId) {
    return kms.encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8("state"))
                .build())
        .getCiphertextBlob()
        .toByteArray();
  }

  private static void bringTo(String keyId, KeyState state) {
    switch (state) {
      case ENABLED -> {}
      case DISABLED -> kms.disableKey(DisableKeyRequest.newBuilder().setKeyId(keyId).build());
      case PENDING_DELETION ->
          kms.scheduleKeyDeletion(ScheduleKeyDeletionRequest.newBuilder().setKeyId(keyId).build());
      default -> throw new IllegalArgumentException(state.name());
    }
  }

  private static KeyMetadata describe(String keyId) {
    return kms.describeKey(DescribeKeyRequest.newBuilder().setKeyId(keyId).build())
        .getKeyMetadata();
  }

  private static KeyState state(String keyId) {
    return describe(keyId).getKeyState();
  }
}
