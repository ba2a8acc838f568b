package io.p11kms.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyPolicyTest {
  private static final String ARN = "arn:aws:kms:local-1:111122223333:key/k1";

  @Test
  void malformed_documents_areRejected() {
    assertThatThrownBy(() -> KeyPolicy.parse("{not json"))
        .isInstanceOf(MalformedPolicyException.class);
    assertThatThrownBy(
            () ->
                KeyPolicy.parse(
                    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:Fly\",\"Resource\":\"*\"}]}"))
        .hasMessageContaining("unknown action");
    assertThatThrownBy(
            () -> KeyPolicy.parse("{\"Statement\":[], \"x\":\"" + "a".repeat(33000) + "\"}"))
        .hasMessageContaining("bytes");
  }

  @Test
  void xksConditions_readTheRequestMetadata_andHoldOnlyWhenItCarriesTheField() {
    String other = "arn:aws:kms:us-east-1:111122223333:key/other";
    KeyPolicy p =
        KeyPolicy.parse(
            """
            {"Statement":[
              {"Effect":"Allow","Principal":{"AWS":"xks"},"Action":"kms:XksGetKeyMetadata",
               "Resource":"*"},
              {"Effect":"Allow","Principal":{"AWS":"xks"},"Action":["kms:XksEncrypt","kms:XksDecrypt"],
               "Resource":"*",
               "Condition":{"StringEquals":{"XKS:KmsKeyArn":"arn:aws:kms:us-east-1:111122223333:key/one"},
                            "StringLike":{"xks:awsPrincipalArn":"arn:aws:iam::111122223333:*"}}}]}
            """);
    Map<String, String> good =
        Map.of(
            "kmsKeyArn", "arn:aws:kms:us-east-1:111122223333:key/one",
            "awsPrincipalArn", "arn:aws:iam::111122223333:user/alice");
    assertThat(p.evaluate("xks", "kms:XksEncrypt", ARN, Map.of(), good))
        .isEqualTo(KeyPolicy.Effect.ALLOW);
    assertThat(
            p.evaluate(
                "xks",
                "kms:XksDecrypt",
                ARN,
                Map.of(),
                Map.of("kmsKeyArn", other, "awsPrincipalArn", good.get("awsPrincipalArn"))))
        .isEqualTo(KeyPolicy.Effect.NONE);
    assertThat(
            p.evaluate(
                "xks",
                "kms:XksEncrypt",
                ARN,
                Map.of(),
                Map.of("awsPrincipalArn", good.get("awsPrincipalArn"))))
        .as("no kmsKeyArn in the request: the condition does not hold")
        .isEqualTo(KeyPolicy.Effect.NONE);
    assertThat(p.evaluate("xks", "kms:XksEncrypt", ARN, Map.of())).isEqualTo(KeyPolicy.Effect.NONE);
    assertThat(p.evaluate("xks", "kms:XksGetKeyMetadata", ARN, Map.of(), Map.of()))
        .isEqualTo(KeyPolicy.Effect.ALLOW);
    assertThatThrownBy(
            () ->
                KeyPolicy.parse(
                    "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\","
                        + "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"xks:nope\":\"x\"}}}}"))
        .hasMessageContaining("unsupported condition key");
  }

  @Test
  void explicitDeny_wins_andContextConditionsApply() {
    KeyPolicy p =
        KeyPolicy.parse(
            """
            {"Version":"2012-10-17","Statement":[
              {"Sid":"a","Effect":"Allow","Principal":{"AWS":["CN=alice"]},"Action":"kms:*","Resource":"*"},
              {"Sid":"d","Effect":"Deny","Principal":{"AWS":"CN=alice"},"Action":"kms:Decrypt","Resource":"*",
               "Condition":{"StringEquals":{"kms:EncryptionContext:dept":"hr"}}},
              {"Sid":"b","Effect":"Allow","Principal":{"AWS":"CN=bob"},"Action":["kms:Encrypt","kms:ReEncrypt*"],
               "Resource":"%s",
               "Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["dept","app"]},
                            "StringLike":{"kms:EncryptionContext:app":"pay*"}}}]}
            """
                .formatted(ARN));
    assertThat(p.evaluate("CN=alice", "kms:Decrypt", ARN, Map.of("dept", "hr")))
        .isEqualTo(KeyPolicy.Effect.DENY);
    assertThat(p.evaluate("CN=alice", "kms:Decrypt", ARN, Map.of("dept", "it")))
        .isEqualTo(KeyPolicy.Effect.ALLOW);
    assertThat(p.evaluate("CN=bob", "kms:Encrypt", ARN, Map.of("app", "payroll")))
        .isEqualTo(KeyPolicy.Effect.ALLOW);
    assertThat(p.evaluate("CN=bob", "kms:ReEncryptTo", ARN, Map.of("app", "payroll", "dept", "x")))
        .isEqualTo(KeyPolicy.Effect.ALLOW);
    assertThat(p.evaluate("CN=bob", "kms:Encrypt", ARN, Map.of("app", "payroll", "other", "x")))
        .isEqualTo(KeyPolicy.Effect.NONE);
    assertThat(p.evaluate("CN=bob", "kms:Encrypt", ARN, Map.of("app", "games")))
        .isEqualTo(KeyPolicy.Effect.NONE);
    assertThat(p.evaluate("CN=bob", "kms:Decrypt", ARN, Map.of("app", "payroll")))
        .isEqualTo(KeyPolicy.Effect.NONE);
    assertThat(p.evaluate("CN=carol", "kms:Encrypt", ARN, Map.of()))
        .isEqualTo(KeyPolicy.Effect.NONE);
  }

  @Test
  void defaultPolicy_givesItsPrincipalsEverything() {
    KeyPolicy p = KeyPolicy.parse(KeyPolicy.defaultDocument(List.of("CN=alice", "CN=admin")));
    assertThat(p.evaluate("CN=admin", "kms:ScheduleKeyDeletion", ARN, Map.of()))
        .isEqualTo(KeyPolicy.Effect.ALLOW);
    assertThat(p.evaluate("CN=eve", "kms:Encrypt", ARN, Map.of())).isEqualTo(KeyPolicy.Effect.NONE);
  }
}
