package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static io.p11kms.it.KmsSecureTestServer.ALICE;
import static io.p11kms.it.KmsSecureTestServer.BOB;
import static io.p11kms.it.KmsSecureTestServer.CAROL;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Key policy conditions on the encryption context, over the wire with mutual TLS. */
class EncryptionContextConditionsIT {
  private static KmsSecureTestServer server;
  private static KeyManagementServiceBlockingStub admin;
  private static String keyId;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    admin = server.client(ADMIN);
    String policy =
        """
        {"Version":"2012-10-17","Statement":[
          {"Sid":"admin","Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:*","Resource":"*"},
          {"Sid":"alice-hr","Effect":"Allow","Principal":{"AWS":"%s"},
           "Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*",
           "Condition":{"StringEquals":{"kms:EncryptionContext:dept":"hr"}}},
          {"Sid":"bob-pay","Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:Encrypt",
           "Resource":"*",
           "Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["app","dept"]},
                        "StringLike":{"kms:EncryptionContext:app":"pay*"}}},
          {"Sid":"carol-all","Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:*",
           "Resource":"*"},
          {"Sid":"carol-no-secret","Effect":"Deny","Principal":{"AWS":"%s"},"Action":"kms:Decrypt",
           "Resource":"*",
           "Condition":{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["secret"]}}}]}
        """
            .formatted(ADMIN, ALICE, BOB, CAROL, CAROL);
    keyId =
        admin
            .createKey(CreateKeyRequest.newBuilder().setPolicy(policy).build())
            .getKeyMetadata()
            .getKeyId();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void stringEquals_allowsOnlyTheNamedValue() throws Exception {
    KeyManagementServiceBlockingStub alice = server.client(ALICE);
    ByteString ct = encrypt(alice, Map.of("dept", "hr")).getCiphertextBlob();
    assertThat(decrypt(alice, ct, Map.of("dept", "hr")).getPlaintext().toStringUtf8())
        .isEqualTo("context");
    denied(() -> encrypt(alice, Map.of("dept", "it")));
    denied(() -> encrypt(alice, Map.of()));
    ByteString other = encrypt(admin, Map.of("dept", "it")).getCiphertextBlob();
    denied(() -> decrypt(alice, other, Map.of("dept", "it")));
  }

  @Test
  void forAllValues_andStringLike_bothMustHold() throws Exception {
    KeyManagementServiceBlockingStub bob = server.client(BOB);
    encrypt(bob, Map.of("app", "payroll"));
    encrypt(bob, Map.of("app", "payments", "dept", "hr"));
    denied(() -> encrypt(bob, Map.of("app", "payroll", "owner", "x")));
    denied(() -> encrypt(bob, Map.of("app", "games")));
    ByteString ct = encrypt(bob, Map.of("app", "payroll")).getCiphertextBlob();
    denied(() -> decrypt(bob, ct, Map.of("app", "payroll")));
  }

  @Test
  void forAnyValue_deny_winsOverAnAllowOfEverything() throws Exception {
    KeyManagementServiceBlockingStub carol = server.client(CAROL);
    ByteString plain = encrypt(carol, Map.of("app", "x")).getCiphertextBlob();
    decrypt(carol, plain, Map.of("app", "x"));
    ByteString secret = encrypt(carol, Map.of("secret", "1", "app", "x")).getCiphertextBlob();
    denied(() -> decrypt(carol, secret, Map.of("secret", "1", "app", "x")));
  }

  private static io.p11kms.proto.v1.EncryptResponse encrypt(
      KeyManagementServiceBlockingStub client, Map<String, String> context) {
    return client.encrypt(
        EncryptRequest.newBuilder()
            .setKeyId(keyId)
            .setPlaintext(ByteString.copyFromUtf8("context"))
            .putAllEncryptionContext(context)
            .build());
  }

  private static io.p11kms.proto.v1.DecryptResponse decrypt(
      KeyManagementServiceBlockingStub client, ByteString ct, Map<String, String> context) {
    return client.decrypt(
        DecryptRequest.newBuilder().setCiphertextBlob(ct).putAllEncryptionContext(context).build());
  }

  private static void denied(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
    Rpc.assertFails(call, Status.Code.PERMISSION_DENIED, "AccessDeniedException");
  }
}
