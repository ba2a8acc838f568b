package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static io.p11kms.it.KmsSecureTestServer.ALICE;
import static io.p11kms.it.KmsSecureTestServer.BOB;
import static io.p11kms.it.KmsSecureTestServer.CAROL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.CreateGrantRequest;
import io.p11kms.proto.v1.CreateGrantResponse;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DataKeySpec;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GrantConstraints;
import io.p11kms.proto.v1.GrantListEntry;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListGrantsRequest;
import io.p11kms.proto.v1.ListRetirableGrantsRequest;
import io.p11kms.proto.v1.RetireGrantRequest;
import io.p11kms.proto.v1.RevokeGrantRequest;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Grants over mutual TLS: a grantee with no policy access uses a grant within its constraints, and
 * is denied again once the grant is retired (by its retiring principal, or by a grantee the grant
 * allows RetireGrant) or revoked.
 */
class GrantsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static KmsSecureTestServer server;
  private static KeyManagementServiceBlockingStub admin;
  private static KeyManagementServiceBlockingStub alice;
  private static KeyManagementServiceBlockingStub bob;
  private static KeyManagementServiceBlockingStub carol;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    admin = server.client(ADMIN);
    alice = server.client(ALICE);
    bob = server.client(BOB);
    carol = server.client(CAROL);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void encryptionContextEquals_grant_usedByGrantee_thenRetiredByRetiringPrincipal() {
    String key = newKey();
    denied(() -> encrypt(bob, key, Map.of("app", "pay")));
    CreateGrantResponse grant =
        admin.createGrant(
            CreateGrantRequest.newBuilder()
                .setKeyId(key)
                .setGranteePrincipal(BOB)
                .setRetiringPrincipal(CAROL)
                .addOperations("Encrypt")
                .addOperations("Decrypt")
                .setConstraints(
                    GrantConstraints.newBuilder().putEncryptionContextEquals("app", "pay"))
                .setName("bob-pay")
                .build());
    assertThat(grant.getGrantToken()).isNotEmpty();

    ByteString ct = encrypt(bob, key, Map.of("app", "pay")).getCiphertextBlob();
    assertThat(decrypt(bob, ct, Map.of("app", "pay")).getPlaintext().toStringUtf8())
        .isEqualTo("granted");
    denied(() -> encrypt(bob, key, Map.of("app", "pay", "extra", "x")));
    denied(() -> encrypt(bob, key, Map.of()));
    denied(() -> encrypt(bob, key, Map.of("app", "games")));
    denied(() -> bob.generateDataKey(dataKey(key, Map.of("app", "pay"))));
    // The grant is for bob only.
    denied(() -> encrypt(alice, key, Map.of("app", "pay")));

    List<GrantListEntry> listed =
        admin.listGrants(ListGrantsRequest.newBuilder().setKeyId(key).build()).getGrantsList();
    assertThat(listed).extracting(GrantListEntry::getGrantId).containsExactly(grant.getGrantId());
    assertThat(
            carol
                .listRetirableGrants(
                    ListRetirableGrantsRequest.newBuilder().setRetiringPrincipal(CAROL).build())
                .getGrantsList())
        .extracting(GrantListEntry::getGrantId)
        .contains(grant.getGrantId());
    denied(
        () ->
            alice.listRetirableGrants(
                ListRetirableGrantsRequest.newBuilder().setRetiringPrincipal(CAROL).build()));

    RetireGrantRequest retire =
        RetireGrantRequest.newBuilder().setKeyId(key).setGrantId(grant.getGrantId()).build();
    denied(() -> alice.retireGrant(retire));
    // The grantee may not retire a grant that does not include RetireGrant.
    denied(() -> bob.retireGrant(retire));
    carol.retireGrant(retire);

    denied(() -> encrypt(bob, key, Map.of("app", "pay")));
    denied(() -> decrypt(bob, ct, Map.of("app", "pay")));
    assertThat(
            admin.listGrants(ListGrantsRequest.newBuilder().setKeyId(key).build()).getGrantsList())
        .isEmpty();
  }

  @Test
  void encryptionContextSubset_grant_usedByGrantee_thenRevoked() {
    String key = newKey();
    CreateGrantResponse grant =
        admin.createGrant(
            CreateGrantRequest.newBuilder()
                .setKeyId(key)
                .setGranteePrincipal(BOB)
                .addOperations("GenerateDataKey")
                .addOperations("Decrypt")
                .setConstraints(
                    GrantConstraints.newBuilder().putEncryptionContextSubset("tenant", "t1"))
                .build());
    var dk = bob.generateDataKey(dataKey(key, Map.of("tenant", "t1", "object", "o-17")));
    decrypt(bob, dk.getCiphertextBlob(), Map.of("tenant", "t1", "object", "o-17"));
    denied(() -> bob.generateDataKey(dataKey(key, Map.of("tenant", "t2"))));
    denied(() -> bob.generateDataKey(dataKey(key, Map.of("object", "o-17"))));
    denied(() -> encrypt(bob, key, Map.of("tenant", "t1")));
    // The grantee cannot revoke, nor grant (its grant does not include CreateGrant).
    denied(
        () ->
            bob.revokeGrant(
                RevokeGrantRequest.newBuilder()
                    .setKeyId(key)
                    .setGrantId(grant.getGrantId())
                    .build()));
    denied(
        () ->
            bob.createGrant(
                CreateGrantRequest.newBuilder()
                    .setKeyId(key)
                    .setGranteePrincipal(BOB)
                    .addOperations("Encrypt")
                    .build()));

    admin.revokeGrant(
        RevokeGrantRequest.newBuilder().setKeyId(key).setGrantId(grant.getGrantId()).build());

    denied(() -> bob.generateDataKey(dataKey(key, Map.of("tenant", "t1"))));
    denied(() -> decrypt(bob, dk.getCiphertextBlob(), Map.of("tenant", "t1", "object", "o-17")));
  }

  @Test
  void grantee_mayRetire_aGrantThatIncludesRetireGrant_byItsToken() {
    String key = newKey();
    CreateGrantResponse grant =
        admin.createGrant(
            CreateGrantRequest.newBuilder()
                .setKeyId(key)
                .setGranteePrincipal(BOB)
                .addOperations("Encrypt")
                .addOperations("RetireGrant")
                .build());
    encrypt(bob, key, Map.of());
    bob.retireGrant(RetireGrantRequest.newBuilder().setGrantToken(grant.getGrantToken()).build());
    denied(() -> encrypt(bob, key, Map.of()));
  }

  @Test
  void grantThatAllowsCreateGrant_grantsOnlyItsOperations_withItsConstraints() throws Exception {
    String key = newKey();
    admin.createGrant(
        CreateGrantRequest.newBuilder()
            .setKeyId(key)
            .setGranteePrincipal(BOB)
            .addOperations("Encrypt")
            .addOperations("Decrypt")
            .addOperations("CreateGrant")
            .setConstraints(
                GrantConstraints.newBuilder().putEncryptionContextSubset("tenant", "t1"))
            .build());
    // Escalations: an operation the grant lacks, no constraint, a different one.
    denied(() -> bob.createGrant(delegated(key, BOB, List.of("Encrypt", "GenerateDataKey"), null)));
    denied(() -> bob.createGrant(delegated(key, BOB, List.of("Encrypt"), null)));
    denied(
        () -> bob.createGrant(delegated(key, CAROL, List.of("Encrypt"), subset("tenant", "t2"))));
    denied(() -> bob.createGrant(delegated(key, CAROL, List.of("Encrypt"), equals("app", "pay"))));
    denied(() -> encrypt(carol, key, Map.of("tenant", "t1")));
    assertThat(auditedCreateGrants(BOB))
        .containsExactly(
            "DENIED AccessDeniedException",
            "DENIED AccessDeniedException",
            "DENIED AccessDeniedException",
            "DENIED AccessDeniedException");

    // A subset of the operations under a stricter constraint; the grant's own constraint does not
    // apply to its CreateGrant, which takes no encryption context.
    bob.createGrant(
        delegated(
            key,
            CAROL,
            List.of("Encrypt"),
            subset("tenant", "t1").putEncryptionContextSubset("app", "pay")));
    encrypt(carol, key, Map.of("tenant", "t1", "app", "pay", "object", "o-1"));
    denied(() -> encrypt(carol, key, Map.of("tenant", "t1")));
    // EncryptionContextEquals holding the grant's pairs is stricter too.
    bob.createGrant(
        delegated(
            key,
            ALICE,
            List.of("Encrypt", "Decrypt"),
            equals("tenant", "t1").putEncryptionContextEquals("app", "pay")));
    ByteString ct = encrypt(alice, key, Map.of("tenant", "t1", "app", "pay")).getCiphertextBlob();
    decrypt(alice, ct, Map.of("tenant", "t1", "app", "pay"));
    denied(() -> encrypt(alice, key, Map.of("tenant", "t1", "app", "pay", "object", "o-1")));
    assertThat(auditedCreateGrants(BOB)).endsWith("SUCCEEDED ", "SUCCEEDED ").hasSize(6);
  }

  @Test
  void grants_arePagedByLimitAndMarker() {
    String key = newKey();
    List<String> made = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      made.add(
          admin
              .createGrant(
                  CreateGrantRequest.newBuilder()
                      .setKeyId(key)
                      .setGranteePrincipal(BOB)
                      .setRetiringPrincipal(CAROL)
                      .addOperations("Encrypt")
                      .build())
              .getGrantId());
    }
    io.p11kms.proto.v1.ListGrantsResponse first =
        admin.listGrants(ListGrantsRequest.newBuilder().setKeyId(key).setLimit(2).build());
    assertThat(first.getTruncated()).isTrue();
    io.p11kms.proto.v1.ListGrantsResponse rest =
        admin.listGrants(
            ListGrantsRequest.newBuilder()
                .setKeyId(key)
                .setLimit(2)
                .setMarker(first.getNextMarker())
                .build());
    assertThat(rest.getTruncated()).isFalse();
    assertThat(rest.getNextMarker()).isEmpty();
    List<String> listed = new java.util.ArrayList<>();
    first.getGrantsList().forEach(g -> listed.add(g.getGrantId()));
    rest.getGrantsList().forEach(g -> listed.add(g.getGrantId()));
    assertThat(listed).containsExactlyInAnyOrderElementsOf(made);

    io.p11kms.proto.v1.ListGrantsResponse retirable =
        carol.listRetirableGrants(
            ListRetirableGrantsRequest.newBuilder()
                .setRetiringPrincipal(CAROL)
                .setLimit(1)
                .build());
    assertThat(retirable.getGrantsCount()).isEqualTo(1);
    assertThat(retirable.getTruncated()).isTrue();

    assertThatThrownBy(
            () ->
                admin.listGrants(
                    ListGrantsRequest.newBuilder().setKeyId(key).setMarker("nonsense").build()))
        .hasMessageContaining("InvalidMarkerException");
  }

  private static GrantConstraints.Builder subset(String name, String value) {
    return GrantConstraints.newBuilder().putEncryptionContextSubset(name, value);
  }

  private static GrantConstraints.Builder equals(String name, String value) {
    return GrantConstraints.newBuilder().putEncryptionContextEquals(name, value);
  }

  private static CreateGrantRequest delegated(
      String key, String grantee, List<String> operations, GrantConstraints.Builder constraints) {
    CreateGrantRequest.Builder b =
        CreateGrantRequest.newBuilder()
            .setKeyId(key)
            .setGranteePrincipal(grantee)
            .addAllOperations(operations);
    if (constraints != null) {
      b.setConstraints(constraints);
    }
    return b.build();
  }

  /** The outcome and error of each audited CreateGrant call of {@code principal}, in order. */
  private static List<String> auditedCreateGrants(String principal) throws Exception {
    List<String> out = new java.util.ArrayList<>();
    for (String line : java.nio.file.Files.readAllLines(server.auditFile())) {
      var r = JSON.readTree(line);
      if (r.path("type").asText().equals("request")
          && r.path("principal").asText().equals(principal)
          && r.path("operation").asText().equals("CreateGrant")) {
        out.add(r.path("outcome").asText() + " " + r.path("error").asText());
      }
    }
    return out;
  }

  private static String newKey() {
    return admin.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata().getKeyId();
  }

  private static io.p11kms.proto.v1.EncryptResponse encrypt(
      KeyManagementServiceBlockingStub client, String key, Map<String, String> context) {
    return client.encrypt(
        EncryptRequest.newBuilder()
            .setKeyId(key)
            .setPlaintext(ByteString.copyFromUtf8("granted"))
            .putAllEncryptionContext(context)
            .build());
  }

  private static io.p11kms.proto.v1.DecryptResponse decrypt(
      KeyManagementServiceBlockingStub client, ByteString ct, Map<String, String> context) {
    return client.decrypt(
        DecryptRequest.newBuilder().setCiphertextBlob(ct).putAllEncryptionContext(context).build());
  }

  private static GenerateDataKeyRequest dataKey(String key, Map<String, String> context) {
    return GenerateDataKeyRequest.newBuilder()
        .setKeyId(key)
        .setKeySpec(DataKeySpec.AES_256)
        .putAllEncryptionContext(context)
        .build();
  }

  private static void denied(ThrowingCallable call) {
    Rpc.assertFails(call, Status.Code.PERMISSION_DENIED, "AccessDeniedException");
  }
}
