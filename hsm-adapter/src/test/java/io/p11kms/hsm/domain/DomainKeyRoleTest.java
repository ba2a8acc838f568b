package io.p11kms.hsm.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.keys.KeyTemplates;
import org.junit.jupiter.api.Test;

class DomainKeyRoleTest {
  @Test
  void of_theCeremonysLabels_nameTheirKindAndGeneration() {
    assertThat(DomainKeyRole.of("domain-key/2"))
        .contains(new DomainKeyRole.Key(DomainKeyRole.SYMMETRIC, 2));
    assertThat(DomainKeyRole.of("domain-key-asym/10"))
        .contains(new DomainKeyRole.Key(DomainKeyRole.ASYMMETRIC, 10));
  }

  @Test
  void of_anyOtherLabel_isEmpty() {
    assertThat(DomainKeyRole.of("domain-key/02")).isEmpty();
    assertThat(DomainKeyRole.of("domain-key/ 2")).isEmpty();
    assertThat(DomainKeyRole.of("domain-key/0")).isEmpty();
    assertThat(DomainKeyRole.of("domain-key-x/1")).isEmpty();
    assertThat(DomainKeyRole.of("domain-key/")).isEmpty();
    assertThat(DomainKeyRole.of(null)).isEmpty();
  }

  @Test
  void template_isTheCeremonysTemplate_withTheKeysLabel() {
    for (DomainKeyRole role : DomainKeyRole.values()) {
      DomainKeyRole.Key key = new DomainKeyRole.Key(role, 3);
      assertThat(key.template().label()).isEqualTo(key.label());
      assertThat(DomainKeyRole.of(key.label())).contains(key);
    }
    assertThat(DomainKeyRole.SYMMETRIC.template(3).toString())
        .isEqualTo(KeyTemplates.domainKey(3).toString());
    assertThat(DomainKeyRole.ASYMMETRIC.template(3).toString())
        .isEqualTo(KeyTemplates.asymDomainKey(3).toString());
  }
}
