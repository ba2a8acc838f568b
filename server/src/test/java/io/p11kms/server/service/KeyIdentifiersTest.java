package io.p11kms.server.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.p11kms.server.config.KeyArns;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyIdentifiersTest {
  private final UUID id = UUID.fromString("1234abcd-12ab-34cd-56ef-1234567890ab");
  private final UUID aliased = UUID.fromString("99999999-12ab-34cd-56ef-1234567890ab");
  private final KeyIdentifiers identifiers =
      new KeyIdentifiers(
          new KeyArns("aws", "local-1", "111122223333"),
          name -> Optional.ofNullable(Map.of("alias/orders", aliased).get(name)));

  @Test
  void keyId_resolvesToItself() {
    assertThat(identifiers.resolve(id.toString(), "KeyId")).isEqualTo(id);
  }

  @Test
  void ourKeyArn_resolvesToItsId() {
    assertThat(identifiers.resolve("arn:aws:kms:local-1:111122223333:key/" + id, "KeyId"))
        .isEqualTo(id);
  }

  @Test
  void anotherAccountsArn_isNotFound() {
    assertThat(error("arn:aws:kms:local-1:999999999999:key/" + id)).isEqualTo(KmsError.NOT_FOUND);
  }

  @Test
  void aliasNameAndOurAliasArn_resolveToTheirKey() {
    assertThat(identifiers.resolve("alias/orders", "KeyId")).isEqualTo(aliased);
    assertThat(identifiers.resolve("arn:aws:kms:local-1:111122223333:alias/orders", "KeyId"))
        .isEqualTo(aliased);
  }

  @Test
  void unknownAlias_andAnotherAccountsAliasArn_areNotFound() {
    assertThat(error("alias/unknown")).isEqualTo(KmsError.NOT_FOUND);
    assertThat(error("arn:aws:kms:local-1:999999999999:alias/orders"))
        .isEqualTo(KmsError.NOT_FOUND);
  }

  @Test
  void resolveKey_takesKeyIdAndArn_refusesAliasesAsNotFound() {
    assertThat(identifiers.resolveKey(id.toString(), "KeyId")).isEqualTo(id);
    assertThat(identifiers.resolveKey("arn:aws:kms:local-1:111122223333:key/" + id, "KeyId"))
        .isEqualTo(id);
    for (String alias :
        new String[] {"alias/orders", "arn:aws:kms:local-1:111122223333:alias/orders"}) {
      KmsException e =
          catchThrowableOfType(KmsException.class, () -> identifiers.resolveKey(alias, "KeyId"));
      assertThat(e.error()).as(alias).isEqualTo(KmsError.NOT_FOUND);
    }
  }

  @Test
  void resolveTarget_refusesAliasesAsValidation() {
    assertThat(identifiers.resolveTarget(id.toString(), "TargetKeyId")).isEqualTo(id);
    KmsException e =
        catchThrowableOfType(
            KmsException.class, () -> identifiers.resolveTarget("alias/orders", "TargetKeyId"));
    assertThat(e.error()).isEqualTo(KmsError.VALIDATION);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "not-a-key",
        "1234abcd-12ab-34cd-56ef-1234567890a",
        "arn:aws:kms:local-1:111122223333:key/not-a-uuid",
        "alias/",
        "alias/with space",
        "key/1234abcd-12ab-34cd-56ef-1234567890ab"
      })
  void malformed_isValidation(String keyId) {
    assertThat(error(keyId)).isEqualTo(KmsError.VALIDATION);
  }

  @Test
  void overlong_isValidation() {
    assertThat(error("a".repeat(2049))).isEqualTo(KmsError.VALIDATION);
  }

  private KmsError error(String keyId) {
    return catchThrowableOfType(KmsException.class, () -> identifiers.resolve(keyId, "KeyId"))
        .error();
  }
}
