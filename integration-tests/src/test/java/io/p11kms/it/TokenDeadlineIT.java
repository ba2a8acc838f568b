package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.hsm.testing.FaultInjector;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListKeysRequest;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A token call that hangs: the server answers the gRPC call at the token call's deadline with
 * DependencyTimeoutException while the native call is still running, records it once in the audit
 * log, goes on serving, and drops what the hung call returns later: no key half-made, no object
 * left in the token.
 */
class TokenDeadlineIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration DEADLINE = Duration.ofSeconds(1);
  // The hang outlasts the bound below by far, so that a loaded machine cannot blur the two.
  private static final Duration HANG = Duration.ofSeconds(5);
  private static final Duration ANSWERED_WITHIN = Duration.ofSeconds(4);

  @Test
  void hungEncrypt_answeredAtTheDeadline_otherCallsServed_lateResultDropped() throws Exception {
    FaultInjector faults = new FaultInjector();
    try (KmsSecureTestServer server = KmsSecureTestServer.start(faults, DEADLINE)) {
      KeyManagementServiceBlockingStub admin = server.client(ADMIN);
      String keyId =
          admin.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
      assertThat(roundTrip(admin, keyId)).isEqualTo("deadline");
      server.hsm().evictCachedBackingKeys();
      int objects = server.objectsBesideAuditAnchor();

      faults.delayNext("C_Encrypt", HANG);
      long start = System.nanoTime();
      Rpc.assertFails(
          () -> admin.encrypt(encrypt(keyId)),
          Status.Code.UNAVAILABLE,
          "DependencyTimeoutException");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(ANSWERED_WITHIN);

      // The hung call holds one session; the others serve.
      assertThat(roundTrip(admin, keyId)).isEqualTo("deadline");

      awaitHangOver(start);
      assertThat(roundTrip(admin, keyId)).isEqualTo("deadline");
      server.hsm().evictCachedBackingKeys();
      assertThat(server.objectsBesideAuditAnchor()).isEqualTo(objects);
      // The hung Encrypt's record is the log's fifth (after start, CreateKey, Encrypt, Decrypt):
      // a checkpoint, anchored in a token object made then.
      assertThat(server.auditAnchorObjects()).isEqualTo(1);
      assertThat(audited(server, "Encrypt"))
          .containsExactly(
              "SUCCEEDED ", "FAILED DependencyTimeoutException", "SUCCEEDED ", "SUCCEEDED ");
    }
  }

  @Test
  void hungCreateKey_answeredAtTheDeadline_andTheLateKeyIsNeverStored() throws Exception {
    FaultInjector faults = new FaultInjector();
    try (KmsSecureTestServer server = KmsSecureTestServer.start(faults, DEADLINE)) {
      KeyManagementServiceBlockingStub admin = server.client(ADMIN);
      admin.createKey(CreateKeyRequest.getDefaultInstance());
      server.hsm().evictCachedBackingKeys();
      int objects = server.objectsBesideAuditAnchor();

      faults.delayNext("C_WrapKey", HANG);
      long start = System.nanoTime();
      Rpc.assertFails(
          () -> admin.createKey(CreateKeyRequest.getDefaultInstance()),
          Status.Code.UNAVAILABLE,
          "DependencyTimeoutException");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(ANSWERED_WITHIN);

      awaitHangOver(start);
      assertThat(admin.listKeys(ListKeysRequest.getDefaultInstance()).getKeysCount()).isEqualTo(1);
      server.hsm().evictCachedBackingKeys();
      assertThat(server.objectsBesideAuditAnchor()).isEqualTo(objects);
      assertThat(audited(server, "CreateKey"))
          .containsExactly("SUCCEEDED ", "FAILED DependencyTimeoutException");
    }
  }

  /** Waits until the hung call has returned into the server, with a second to unwind. */
  private static void awaitHangOver(long start) throws InterruptedException {
    long end = start + HANG.plusSeconds(1).toNanos();
    long left;
    while ((left = end - System.nanoTime()) > 0) {
      Thread.sleep(Math.max(1, left / 1_000_000));
    }
  }

  private static String roundTrip(KeyManagementServiceBlockingStub client, String keyId) {
    ByteString blob = client.encrypt(encrypt(keyId)).getCiphertextBlob();
    return client
        .decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).build())
        .getPlaintext()
        .toStringUtf8();
  }

  private static EncryptRequest encrypt(String keyId) {
    return EncryptRequest.newBuilder()
        .setKeyId(keyId)
        .setPlaintext(ByteString.copyFromUtf8("deadline"))
        .build();
  }

  /** "outcome error" of each audit record of {@code operation}, in order. */
  private static List<String> audited(KmsSecureTestServer server, String operation)
      throws Exception {
    List<String> records = new ArrayList<>();
    for (String line : Files.readAllLines(server.auditFile())) {
      JsonNode r = JSON.readTree(line);
      if (r.path("type").asText().equals("request")
          && r.path("operation").asText().equals(operation)) {
        records.add(r.path("outcome").asText() + " " + r.path("error").asText());
      }
    }
    return records;
  }
}
