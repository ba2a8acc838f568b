package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateGrantRequest;
import io.p11kms.proto.v1.CreateGrantResponse;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GrantListEntry;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.ListGrantsRequest;
import io.p11kms.proto.v1.PutKeyPolicyRequest;
import io.p11kms.proto.v1.RetireGrantRequest;
import io.p11kms.server.service.AccountService;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Grants across accounts, end to end with mutual TLS: a grant names a principal of another account,
 * or a whole account (its root), which may then use the key as the grant says (its own account
 * allowing keys of the key's, as for a key policy); a principal of another account creates a grant
 * under a key policy naming its account's root and the key's own ARN; the grant operations find
 * alias names in the caller's account.
 */
class GrantsAcrossAccountsIT {
  private static final String A = "717171717171";
  private static final String B = "727272727272";
  private static final String A_APP = "spiffe://p11kms.test/account/" + A + "/owner";
  private static final String B_APP = "spiffe://p11kms.test/account/" + B + "/app";
  private static final String B_OTHER = "spiffe://p11kms.test/account/" + B + "/other";

  private static KmsSecureTestServer server;
  private static KeyManagementServiceBlockingStub a;
  private static KeyManagementServiceBlockingStub b;
  private static KeyManagementServiceBlockingStub bOther;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    AccountService accounts =
        new AccountService(server.store(), KmsTestServer.ARNS, Clock.systemUTC());
    accounts.create(A, "grants-a", List.of());
    accounts.create(B, "grants-b", List.of(A));
    a = server.client(A_APP);
    b = server.client(B_APP);
    bOther = server.client(B_OTHER);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void grantToAPrincipalOfAnotherAccount_letsItUseTheKey_andOnlyIt() {
    KeyMetadata key = a.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata();
    Rpc.assertFails(() -> encrypt(b, key.getArn()), Status.Code.NOT_FOUND, "NotFoundException");
    a.createGrant(grant(key.getKeyId(), B_APP, "Encrypt", "DescribeKey").build());

    assertThat(encrypt(b, key.getArn())).isNotEmpty();
    assertThat(
            b.describeKey(DescribeKeyRequest.newBuilder().setKeyId(key.getArn()).build())
                .getKeyMetadata()
                .getAwsAccountId())
        .isEqualTo(A);
    Rpc.assertFails(
        () -> encrypt(bOther, key.getArn()), Status.Code.NOT_FOUND, "NotFoundException");
  }

  @Test
  void grantToAnotherAccount_letsEachOfItsPrincipals_retireableByThem() {
    KeyMetadata key = a.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata();
    String root = "arn:aws:iam::" + B + ":root";
    CreateGrantResponse grant =
        a.createGrant(grant(key.getKeyId(), root, "Encrypt").setRetiringPrincipal(root).build());

    assertThat(encrypt(b, key.getArn())).isNotEmpty();
    assertThat(encrypt(bOther, key.getArn())).isNotEmpty();

    bOther.retireGrant(
        RetireGrantRequest.newBuilder().setGrantToken(grant.getGrantToken()).build());
    Rpc.assertFails(() -> encrypt(b, key.getArn()), Status.Code.NOT_FOUND, "NotFoundException");
  }

  @Test
  void crossAccountCreateGrant_underAPolicyNamingTheAccountRootAndTheKeyArn() {
    KeyMetadata key = a.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata();
    String policy =
        "{\"Statement\":["
            + "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\""
            + A_APP
            + "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"},"
            + "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::"
            + B
            + ":root\"},\"Action\":\"kms:CreateGrant\",\"Resource\":\""
            + key.getArn()
            + "\"}]}";
    a.putKeyPolicy(
        PutKeyPolicyRequest.newBuilder().setKeyId(key.getKeyId()).setPolicy(policy).build());

    b.createGrant(grant(key.getArn(), B_OTHER, "Encrypt").build());

    assertThat(encrypt(bOther, key.getArn())).isNotEmpty();
    // The policy gave B CreateGrant only: B itself may not encrypt.
    Rpc.assertFails(
        () -> encrypt(b, key.getArn()), Status.Code.PERMISSION_DENIED, "AccessDeniedException");
  }

  @Test
  void grantOperations_findAliasNamesInTheCallersAccount() {
    KeyMetadata key = a.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata();
    a.createAlias(
        CreateAliasRequest.newBuilder()
            .setAliasName("alias/granted")
            .setTargetKeyId(key.getKeyId())
            .build());
    CreateGrantResponse grant = a.createGrant(grant("alias/granted", B_APP, "Encrypt").build());

    assertThat(
            a.listGrants(ListGrantsRequest.newBuilder().setKeyId("alias/granted").build())
                .getGrantsList())
        .extracting(GrantListEntry::getGrantId)
        .containsExactly(grant.getGrantId());
  }

  private static CreateGrantRequest.Builder grant(
      String keyId, String grantee, String... operations) {
    return CreateGrantRequest.newBuilder()
        .setKeyId(keyId)
        .setGranteePrincipal(grantee)
        .addAllOperations(List.of(operations));
  }

  private static ByteString encrypt(KeyManagementServiceBlockingStub client, String keyId) {
    return client
        .encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(ByteString.copyFromUtf8("granted across accounts"))
                .build())
        .getCiphertextBlob();
  }
}
