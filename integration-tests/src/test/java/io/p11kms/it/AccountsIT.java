package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.AliasListEntry;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GetKeyPolicyRequest;
import io.p11kms.proto.v1.KeyListEntry;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyManager;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.ListAliasesRequest;
import io.p11kms.proto.v1.ListKeysRequest;
import io.p11kms.proto.v1.PutKeyPolicyRequest;
import io.p11kms.server.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Accounts end to end: a real server with mutual TLS, principals whose certificates name their
 * account (spiffe://.../account/<id>/...), the accounts made with {@code p11kms account create};
 * each account sees only its keys and aliases, another account's key is NotFound unless its policy
 * lets the caller's account in and the caller's account allows it, and every refusal is audited
 * with both accounts.
 */
class AccountsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String A = "444455556666";
  private static final String B = "777788889999";
  private static final String C = "121212121212";
  private static final String A_APP = "spiffe://p11kms.test/account/" + A + "/app-a";
  private static final String B_APP = "spiffe://p11kms.test/account/" + B + "/app-b";
  private static final String C_APP = "spiffe://p11kms.test/account/" + C + "/app-c";
  private static final String NOWHERE = "spiffe://p11kms.test/account/999999999999/app-x";

  private static KmsSecureTestServer server;
  private static KeyManagementServiceBlockingStub a;
  private static KeyManagementServiceBlockingStub b;
  private static KeyManagementServiceBlockingStub c;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
    String config = server.configFile().toString();
    assertThat(cli("account", "create", "--config", config, "--name", "team-a", "--id", A))
        .contains("\"accountId\" : \"" + A + "\"");
    // B's principals may use A's keys when A's key policies let them in; C's may not.
    cli("account", "create", "--config", config, "--name", "team-b", "--id", B, "--use-keys-of", A);
    cli("account", "create", "--config", config, "--name", "team-c", "--id", C);
    a = server.client(A_APP);
    b = server.client(B_APP);
    c = server.client(C_APP);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void accountCommands_listAndDescribe_theDefaultAccountFirst() throws Exception {
    String config = server.configFile().toString();
    JsonNode list = JSON.readTree(cli("account", "list", "--config", config));
    assertThat(list.get(0).get("accountId").asText()).isEqualTo(KmsTestServer.ARNS.account());
    assertThat(list.get(0).get("isDefault").asBoolean()).isTrue();
    assertThat(list.findValuesAsText("accountId")).contains(A, B, C);
    JsonNode described = JSON.readTree(cli("account", "describe", "--config", config, "--id", B));
    assertThat(described.get("name").asText()).isEqualTo("team-b");
    assertThat(described.get("keyAccounts").get(0).asText()).isEqualTo(A);
    assertThat(run("account", "create", "--config", config, "--name", "again", "--id", A))
        .isNotZero();
    assertThat(run("account", "create", "--config", config, "--name", "team-a")).isNotZero();
  }

  @Test
  void twoAccounts_sameAliasName_eachSeesOnlyItsOwnKeysAndAliases() {
    KeyMetadata keyA = create(a);
    KeyMetadata keyB = create(b);
    a.createAlias(alias("alias/shared-name", keyA));
    b.createAlias(alias("alias/shared-name", keyB));

    assertThat(keyA.getArn()).startsWith("arn:aws:kms:local-1:" + A + ":key/");
    assertThat(keyA.getAwsAccountId()).isEqualTo(A);
    assertThat(keyA.getKeyManager()).isEqualTo(KeyManager.CUSTOMER);
    assertThat(keyB.getArn()).startsWith("arn:aws:kms:local-1:" + B + ":key/");
    assertThat(keyIds(a)).contains(keyA.getKeyId()).doesNotContain(keyB.getKeyId());
    assertThat(keyIds(b)).contains(keyB.getKeyId()).doesNotContain(keyA.getKeyId());

    assertThat(describe(a, "alias/shared-name").getKeyId()).isEqualTo(keyA.getKeyId());
    assertThat(describe(b, "alias/shared-name").getKeyId()).isEqualTo(keyB.getKeyId());
    AliasListEntry listed =
        a.listAliases(ListAliasesRequest.getDefaultInstance()).getAliasesList().stream()
            .filter(e -> e.getAliasName().equals("alias/shared-name"))
            .findFirst()
            .orElseThrow();
    assertThat(listed.getAliasArn()).isEqualTo("arn:aws:kms:local-1:" + A + ":alias/shared-name");
    assertThat(listed.getTargetKeyId()).isEqualTo(keyA.getKeyId());
    assertThat(
            b.listAliases(ListAliasesRequest.getDefaultInstance()).getAliasesList().stream()
                .map(AliasListEntry::getTargetKeyId))
        .doesNotContain(keyA.getKeyId());

    // Another account's key, by id, ARN or alias ARN: NotFound, as if it did not exist.
    Rpc.assertFails(() -> describe(b, keyA.getKeyId()), Status.Code.NOT_FOUND, "NotFoundException");
    Rpc.assertFails(() -> describe(b, keyA.getArn()), Status.Code.NOT_FOUND, "NotFoundException");
    Rpc.assertFails(
        () -> describe(b, "arn:aws:kms:local-1:" + A + ":alias/shared-name"),
        Status.Code.NOT_FOUND,
        "NotFoundException");
    // A key ARN naming the wrong account names no key.
    Rpc.assertFails(
        () -> describe(a, keyA.getArn().replace(A, B)), Status.Code.NOT_FOUND, "NotFoundException");
    // An alias points only at a key of its own account.
    Rpc.assertFails(
        () -> b.createAlias(alias("alias/borrowed", keyA)),
        Status.Code.NOT_FOUND,
        "NotFoundException");
    // The default account's principals do not see either.
    Rpc.assertFails(
        () -> describe(server.client(KmsSecureTestServer.ALICE), keyA.getKeyId()),
        Status.Code.NOT_FOUND,
        "NotFoundException");
  }

  @Test
  void crossAccountDecrypt_deniedThenAllowedByPolicy_thenDeniedAgain_everyRefusalAudited()
      throws Exception {
    KeyMetadata keyA = create(a);
    ByteString blob = encrypt(a, keyA);
    String ownPolicy =
        a.getKeyPolicy(GetKeyPolicyRequest.newBuilder().setKeyId(keyA.getKeyId()).build())
            .getPolicy();

    Rpc.assertFails(() -> decrypt(b, blob), Status.Code.NOT_FOUND, "NotFoundException");

    a.putKeyPolicy(
        PutKeyPolicyRequest.newBuilder()
            .setKeyId(keyA.getKeyId())
            .setPolicy(withDecryptFor(ownPolicy, List.of(B, C)))
            .build());
    assertThat(decrypt(b, blob)).isEqualTo("cross-account secret");
    // C's own account does not allow its principals to use A's keys.
    Rpc.assertFails(() -> decrypt(c, blob), Status.Code.PERMISSION_DENIED, "AccessDeniedException");
    // B may decrypt, nothing else the policy did not give it.
    Rpc.assertFails(() -> encrypt(b, keyA), Status.Code.PERMISSION_DENIED, "AccessDeniedException");

    a.putKeyPolicy(
        PutKeyPolicyRequest.newBuilder().setKeyId(keyA.getKeyId()).setPolicy(ownPolicy).build());
    Rpc.assertFails(() -> decrypt(b, blob), Status.Code.NOT_FOUND, "NotFoundException");

    List<JsonNode> refused =
        server.auditRecords().stream()
            .filter(r -> r.path("keyArn").asText().equals(keyA.getArn()))
            .filter(r -> !r.path("outcome").asText().equals("SUCCEEDED"))
            .toList();
    assertThat(refused).hasSize(4);
    for (JsonNode r : refused) {
      assertThat(r.path("keyAccount").asText()).isEqualTo(A);
      assertThat(r.path("account").asText()).isIn(B, C);
    }
    assertThat(refused.stream().map(r -> r.path("error").asText()))
        .containsExactly(
            "NotFoundException",
            "AccessDeniedException",
            "AccessDeniedException",
            "NotFoundException");
  }

  @Test
  void principalOfAnAccountNobodyCreated_isRefused() throws Exception {
    KeyManagementServiceBlockingStub nowhere = server.client(NOWHERE);
    Rpc.assertFails(
        () -> nowhere.listKeys(ListKeysRequest.getDefaultInstance()),
        Status.Code.PERMISSION_DENIED,
        "AccessDeniedException");
    Rpc.assertFails(
        () -> nowhere.createKey(CreateKeyRequest.getDefaultInstance()),
        Status.Code.PERMISSION_DENIED,
        "AccessDeniedException");
  }

  @Test
  void verifyAudit_account_printsThatAccountsRecordsOnly() throws Exception {
    KeyMetadata keyC = create(c);
    encrypt(c, keyC);
    String out = server.verifyAudit("--account", C);
    assertThat(out).contains("audit log OK").contains(keyC.getArn());
    for (String line : out.split("\n")) {
      if (line.startsWith("{")) {
        JsonNode r = JSON.readTree(line);
        assertThat(List.of(r.path("account").asText(), r.path("keyAccount").asText())).contains(C);
      }
    }
    assertThat(out).doesNotContain("\"account\":\"" + A + "\",\"operation\":\"CreateKey\"");
  }

  private static String withDecryptFor(String policy, List<String> accounts) throws Exception {
    var root = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(policy);
    var statement =
        ((com.fasterxml.jackson.databind.node.ArrayNode) root.get("Statement")).addObject();
    statement.put("Sid", "Other accounts may decrypt");
    statement.put("Effect", "Allow");
    var aws = statement.putObject("Principal").putArray("AWS");
    accounts.forEach(acct -> aws.add("arn:aws:iam::" + acct + ":root"));
    statement.put("Action", "kms:Decrypt");
    statement.put("Resource", "*");
    return JSON.writeValueAsString(root);
  }

  private static KeyMetadata create(KeyManagementServiceBlockingStub client) {
    return client.createKey(CreateKeyRequest.getDefaultInstance()).getKeyMetadata();
  }

  private static KeyMetadata describe(KeyManagementServiceBlockingStub client, String keyId) {
    return client
        .describeKey(DescribeKeyRequest.newBuilder().setKeyId(keyId).build())
        .getKeyMetadata();
  }

  private static CreateAliasRequest alias(String name, KeyMetadata key) {
    return CreateAliasRequest.newBuilder()
        .setAliasName(name)
        .setTargetKeyId(key.getKeyId())
        .build();
  }

  private static List<String> keyIds(KeyManagementServiceBlockingStub client) {
    return client
        .listKeys(ListKeysRequest.newBuilder().setLimit(1000).build())
        .getKeysList()
        .stream()
        .map(KeyListEntry::getKeyId)
        .toList();
  }

  private static ByteString encrypt(KeyManagementServiceBlockingStub client, KeyMetadata key) {
    return client
        .encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(key.getKeyId())
                .setPlaintext(ByteString.copyFromUtf8("cross-account secret"))
                .build())
        .getCiphertextBlob();
  }

  private static String decrypt(KeyManagementServiceBlockingStub client, ByteString blob) {
    return client
        .decrypt(DecryptRequest.newBuilder().setCiphertextBlob(blob).build())
        .getPlaintext()
        .toStringUtf8();
  }

  /** Runs a {@code p11kms} command in this JVM; its standard output. */
  private static String cli(String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream saved = System.out;
    int code;
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      System.setOut(out);
      code = new CommandLine(new Main()).execute(args);
    } finally {
      System.setOut(saved);
    }
    String output = bytes.toString(StandardCharsets.UTF_8);
    assertThat(code).as(String.join(" ", args) + "\n" + output).isZero();
    return output;
  }

  private static int run(String... args) {
    return new CommandLine(new Main()).execute(args);
  }
}
