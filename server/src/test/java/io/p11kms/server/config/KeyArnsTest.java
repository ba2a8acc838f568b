package io.p11kms.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class KeyArnsTest {
  private static final UUID ID = UUID.fromString("1234abcd-12ab-34cd-56ef-1234567890ab");
  private final KeyArns arns = new KeyArns("aws", "local-1", "000000000000");

  @Test
  void keyArn_hasAwsForm() {
    assertThat(arns.keyArn(ID))
        .isEqualTo("arn:aws:kms:local-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab");
  }

  @Test
  void parseKeyArn_roundTrips() {
    UUID id = UUID.randomUUID();
    assertThat(arns.parseKeyArn(arns.keyArn(id))).contains(id);
  }

  @Test
  void parseKeyArn_upperCaseId_accepted() {
    assertThat(
            arns.parseKeyArn("arn:aws:kms:local-1:000000000000:key/" + ID.toString().toUpperCase()))
        .contains(ID);
  }

  @Test
  void parseKeyArn_otherPartitionRegionOrAccount_isEmpty() {
    assertThat(arns.parseKeyArn("arn:aws-cn:kms:local-1:000000000000:key/" + ID)).isEmpty();
    assertThat(arns.parseKeyArn("arn:aws:kms:us-east-1:000000000000:key/" + ID)).isEmpty();
    assertThat(arns.parseKeyArn("arn:aws:kms:local-1:111111111111:key/" + ID)).isEmpty();
    assertThat(arns.parseKeyArn("arn:aws:s3:local-1:000000000000:key/" + ID)).isEmpty();
  }

  @Test
  void parseKeyArn_malformed_isEmpty() {
    assertThat(arns.parseKeyArn(null)).isEmpty();
    assertThat(arns.parseKeyArn("")).isEmpty();
    assertThat(arns.parseKeyArn(ID.toString())).isEmpty();
    assertThat(arns.parseKeyArn("arn:aws:kms:local-1:000000000000:key/")).isEmpty();
    assertThat(arns.parseKeyArn("arn:aws:kms:local-1:000000000000:key/1-2-3-4-5")).isEmpty();
    assertThat(arns.parseKeyArn("arn:aws:kms:local-1:000000000000:key/" + ID + "x")).isEmpty();
    assertThat(arns.parseKeyArn("arn:aws:kms:local-1:000000000000:alias/" + ID)).isEmpty();
    assertThat(arns.parseKeyArn(" arn:aws:kms:local-1:000000000000:key/" + ID)).isEmpty();
  }

  @Test
  void parseKeyId_isStrict() {
    assertThat(KeyArns.parseKeyId(ID.toString())).contains(ID);
    assertThat(KeyArns.parseKeyId("1-2-3-4-5")).isEmpty();
    assertThat(KeyArns.parseKeyId("1234abcd12ab34cd56ef1234567890ab")).isEmpty();
    assertThat(KeyArns.parseKeyId(null)).isEmpty();
  }

  @Test
  void parseKeyId_takesTheCanonicalFormInEitherCase_andNothingElse() {
    String id = "1234abcd-12ab-34cd-56ef-1234567890ab";
    assertThat(KeyArns.parseKeyId(id)).contains(UUID.fromString(id));
    assertThat(KeyArns.parseKeyId(id.toUpperCase(java.util.Locale.ROOT)))
        .contains(UUID.fromString(id));
    for (String bad :
        new String[] {
          "",
          id.substring(1),
          id + "0",
          "1234abcd-12ab-34cd-56ef1-234567890ab",
          "1234abcd-12ab-34cd-56ef-1234567890ag",
          "1234abcd-12ab-34cd-56ef-1234567890a\u0663",
          "1234abcd-12ab-34cd-56ef-1234567890a\uff10",
          "1234abcd+12ab-34cd-56ef-1234567890ab",
          " 234abcd-12ab-34cd-56ef-1234567890ab",
          "mrk-1234abcd12ab34cd56ef1234567890aB",
        }) {
      assertThat(KeyArns.parseKeyId(bad)).as(bad).isEmpty();
    }
  }

  @Test
  void aliasArn_withOrWithoutPrefix() {
    assertThat(arns.aliasArn("alias/app")).isEqualTo("arn:aws:kms:local-1:000000000000:alias/app");
    assertThat(arns.aliasArn("app")).isEqualTo("arn:aws:kms:local-1:000000000000:alias/app");
  }

  @Test
  void constructor_invalidParts_fail() {
    assertThatThrownBy(() -> new KeyArns("aws", "local-1", "0"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("arn.account must be 12 digits, was 0");
    assertThatThrownBy(() -> new KeyArns("a:b", "local-1", "000000000000"))
        .isInstanceOf(ConfigException.class);
    assertThatThrownBy(() -> new KeyArns("aws", "", "000000000000"))
        .isInstanceOf(ConfigException.class);
  }
}
