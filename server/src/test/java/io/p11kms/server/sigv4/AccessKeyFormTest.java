package io.p11kms.server.sigv4;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The forms a credential's access key id and date must have before the store is asked: the same
 * answers as the regular expressions {@code [A-Z2-7]{16,30}} and {@code [0-9]{8}}.
 */
class AccessKeyFormTest {
  private static final Pattern ID = Pattern.compile("[A-Z2-7]{16,30}");
  private static final Pattern DATE = Pattern.compile("[0-9]{8}");

  @Test
  void accessKeyIdForm_answersAsItsPattern() {
    for (String id :
        List.of(
            "AKIAEXAMPLEKEY234567",
            "ABCDEFGHIJKLMNOP",
            "ABCDEFGHIJKLMNO",
            "A".repeat(30),
            "A".repeat(31),
            "AKIAEXAMPLEKEY234568",
            "AKIAEXAMPLEKEY23456l",
            "akiaexamplekey234567",
            "AKIAEXAMPLEKEY23456\u0663",
            "AKIAEXAMPLE KEY23456",
            "")) {
      assertThat(AccessKeySigningKeys.accessKeyIdForm(id))
          .as(id)
          .isEqualTo(ID.matcher(id).matches());
    }
  }

  @Test
  void dateForm_answersAsItsPattern() {
    for (String date :
        List.of("20261206", "2026120", "202612060", "2026120a", "2026-12-", "2026120\u0666", "")) {
      assertThat(AccessKeySigningKeys.dateForm(date))
          .as(date)
          .isEqualTo(DATE.matcher(date).matches());
    }
  }
}
