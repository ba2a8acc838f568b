package io.p11kms.hsm.keys;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/** Private data objects on a real token: replaced by a new object, read back, never public. */
class PrivateDataTest {
  private static SoftHsmTestToken token;
  private static Pkcs11Hsm hsm;

  @BeforeAll
  static void openToken() {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig());
  }

  @AfterAll
  static void closeToken() {
    if (hsm != null) {
      hsm.close();
    }
    if (token != null) {
      token.close();
    }
  }

  @Test
  void absent_readsNone_thenReplaced_leavesOnePrivateTokenObject() throws Exception {
    String label = "anchor-a";
    assertThat(hsm.readPrivateData(label)).isEmpty();
    hsm.replacePrivateData(label, bytes("first"));
    assertThat(hsm.readPrivateData(label)).containsExactly(bytes("first"));
    hsm.replacePrivateData(label, bytes("second, longer"));
    assertThat(hsm.readPrivateData(label)).containsExactly(bytes("second, longer"));
    long[] objects =
        hsm.withSessionForTest(session -> session.findObjectsSingle(PrivateData.byLabel(label), 5));
    assertThat(objects).hasSize(1);
    AttributeVector a =
        hsm.withSessionForTest(
            session ->
                session.getAttrValues(
                    objects[0], PKCS11Constants.CKA_PRIVATE, PKCS11Constants.CKA_TOKEN));
    assertThat(a.private_()).isTrue();
    assertThat(a.token()).isTrue();
  }

  @Test
  void aPublicObjectWithTheLabel_isNotRead() throws Exception {
    String label = "anchor-b";
    long planted =
        hsm.withSessionForTest(
            session ->
                session.createObject(
                    PrivateData.byLabel(label).private_(false).value(bytes("planted"))));
    try {
      assertThat(hsm.readPrivateData(label)).isEmpty();
    } finally {
      destroy(planted);
    }
  }

  @Test
  void aSecondObject_isReadBesideTheFirst_andReplacedWithIt() throws Exception {
    String label = "anchor-c";
    hsm.replacePrivateData(label, bytes("one"));
    hsm.withSessionForTest(
        session -> session.createObject(PrivateData.byLabel(label).value(bytes("two"))));
    List<byte[]> both = hsm.readPrivateData(label);
    assertThat(both).hasSize(2);
    assertThat(both).anySatisfy(v -> assertThat(v).isEqualTo(bytes("one")));
    assertThat(both).anySatisfy(v -> assertThat(v).isEqualTo(bytes("two")));
    hsm.replacePrivateData(label, bytes("three"));
    assertThat(hsm.readPrivateData(label)).containsExactly(bytes("three"));
  }

  private static void destroy(long object) throws Exception {
    hsm.withSessionForTest(
        session -> {
          session.destroyObject(object);
          return null;
        });
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
