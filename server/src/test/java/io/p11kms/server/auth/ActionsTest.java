package io.p11kms.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ActionsTest {
  @Test
  void known_holdsEveryOperationsActions_andAwsActionsNotServed() {
    assertThat(Actions.KNOWN)
        .contains("Encrypt", "ReEncryptFrom", "ReEncryptTo", "RetireGrant", "ImportKeyMaterial")
        .doesNotContain("ReEncrypt", "BatchEncrypt", "BatchDecrypt");
  }

  @Test
  void grantable_isAwsListOfGrantOperations() {
    assertThat(Actions.GRANTABLE)
        .containsExactlyInAnyOrder(
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "ReEncryptFrom",
            "ReEncryptTo",
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
            "Sign",
            "Verify",
            "GetPublicKey",
            "GenerateMac",
            "VerifyMac",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext");
    assertThat(Actions.UNCONSTRAINED)
        .containsExactlyInAnyOrder("CreateGrant", "RetireGrant", "DescribeKey");
    assertThat(Actions.WITHOUT_CONTEXT)
        .containsExactlyInAnyOrder("Sign", "Verify", "GetPublicKey", "GenerateMac", "VerifyMac");
  }

  /**
   * Patterns without '?' and with at most a trailing '*' are compared without a regular expression;
   * the answer is the glob's, for every action of the catalogue and odd cases.
   */
  @Test
  void matches_givesTheGlobsAnswer_withOrWithoutTheRegularExpression() {
    List<String> patterns =
        List.of(
            "kms:*",
            "KMS:*",
            "kms:Encrypt",
            "kms:encrypt",
            "KMS:ENCRYPT",
            "kms:Generate*",
            "kms:generatedatakey*",
            "kms:ReEncrypt*",
            "kms:Encrypt*",
            "kms:Enc?ypt",
            "kms:*Key",
            "kms:Re*crypt*",
            "kms:",
            "kms:ſign",
            "kms:Ëncrypt",
            "kms:Encrypt ",
            "");
    List<String> actions = new ArrayList<>();
    Actions.KNOWN.forEach(a -> actions.add("kms:" + a));
    actions.addAll(List.of("kms:Sign", "kms:", "KMS:ENCRYPT", "kms:Ëncrypt", "kms:ëncrypt", "x"));
    for (String pattern : patterns) {
      for (String action : actions) {
        assertThat(Actions.matches(pattern, action))
            .as("%s against %s", pattern, action)
            .isEqualTo(Actions.glob(pattern, true).matcher(action).matches());
      }
    }
    assertThat(Actions.matches("kms:Generate*", "kms:GenerateDataKey")).isTrue();
    assertThat(Actions.matches("kms:encrypt", "kms:Encrypt")).isTrue();
    assertThat(Actions.matches("kms:Encrypt", "kms:EncryptX")).isFalse();
    assertThat(Actions.matches("kms:ſign", "kms:Sign")).isFalse();
  }

  @Test
  void patterns_matchCatalogueActions() {
    assertThat(Actions.isValidPattern("kms:ReEncrypt*")).isTrue();
    assertThat(Actions.isValidPattern("kms:GenerateDataKeyPair*")).isTrue();
    assertThat(Actions.isValidPattern("kms:BatchEncrypt")).isFalse();
    assertThat(Actions.isValidPattern("kms:NoSuchThing")).isFalse();
  }
}
