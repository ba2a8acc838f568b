package io.p11kms.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

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

  @Test
  void patterns_matchCatalogueActions() {
    assertThat(Actions.isValidPattern("kms:ReEncrypt*")).isTrue();
    assertThat(Actions.isValidPattern("kms:GenerateDataKeyPair*")).isTrue();
    assertThat(Actions.isValidPattern("kms:BatchEncrypt")).isFalse();
    assertThat(Actions.isValidPattern("kms:NoSuchThing")).isFalse();
  }
}
