package io.p11kms.server.admin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which request records are an account's: its principals', its keys', a service's calls for it. */
class AuditAccountViewTest {
  private static final String DEFAULT = "111122223333";
  private static final String A = "444455556666";
  private static final String S = "777788889999";

  private static String record(String account, String keyArn, String onBehalfOfAccount) {
    return "{\"type\":\"request\",\"principal\":\"p\",\"account\":\""
        + account
        + "\""
        + (onBehalfOfAccount == null
            ? ""
            : ",\"onBehalfOf\":\"c\",\"onBehalfOfAccount\":\"" + onBehalfOfAccount + "\"")
        + ",\"keyArn\":\""
        + keyArn
        + "\"}";
  }

  private static String keyOf(String account) {
    return "arn:aws:kms:local-1:" + account + ":key/0b0e8f6e-5d0a-4f7e-9d53-3c1b2a6e7f10";
  }

  @Test
  void ownCallsAndCallsOnOwnKeys_areTheAccounts() {
    assertThat(AuditAccountView.belongs(record(A, "", null), A, DEFAULT)).isTrue();
    assertThat(AuditAccountView.belongs(record(S, keyOf(A), null), A, DEFAULT)).isTrue();
    assertThat(AuditAccountView.belongs(record(S, keyOf(S), null), A, DEFAULT)).isFalse();
  }

  @Test
  void serviceCallForTheAccount_onItsKeyOrNoKey_isTheAccounts() {
    assertThat(AuditAccountView.belongs(record(S, keyOf(A), A), A, DEFAULT)).isTrue();
    assertThat(AuditAccountView.belongs(record(S, "", A), A, DEFAULT)).isTrue();
    assertThat(AuditAccountView.belongs(record(S, "", A), DEFAULT, DEFAULT)).isFalse();
  }

  @Test
  void serviceCallForTheAccount_onTheServicesOwnKey_isNotTheAccounts() {
    assertThat(AuditAccountView.belongs(record(S, keyOf(S), A), A, DEFAULT)).isFalse();
    assertThat(AuditAccountView.belongs(record(S, keyOf(S), A), S, DEFAULT)).isTrue();
  }
}
