package io.p11kms.hsm.keys;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.testing.SearchCounter;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;

/**
 * Private data objects on a real token: replaced by a new object, read back, never public; a
 * replace destroys the object the last one made by its handle, searching only when it has none to
 * go by or that handle no longer names it.
 */
class PrivateDataTest {
  private static final SearchCounter SEARCHES = new SearchCounter();
  private static SoftHsmTestToken token;
  private static Pkcs11Hsm hsm;

  @BeforeAll
  static void openToken() {
    token = SoftHsmTestToken.create();
    hsm = Pkcs11Hsm.open(token.hsmConfig(), SEARCHES);
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
  void aSecondObject_isReadBesideTheFirst_andReplacedWithItAtTheNextSearch() throws Exception {
    String label = "anchor-c";
    AtomicLong clock = new AtomicLong();
    PrivateDataWrites writes = new PrivateDataWrites(hsm.callsForTest(), clock::get);
    replace(writes, label, "one");
    hsm.withSessionForTest(
        session -> session.createObject(PrivateData.byLabel(label).value(bytes("two"))));
    List<byte[]> both = hsm.readPrivateData(label);
    assertThat(both).hasSize(2);
    assertThat(both).anySatisfy(v -> assertThat(v).isEqualTo(bytes("one")));
    assertThat(both).anySatisfy(v -> assertThat(v).isEqualTo(bytes("two")));

    clock.addAndGet(PrivateDataWrites.SEARCH_INTERVAL_NANOS - 1);
    replace(writes, label, "three");
    assertThat(hsm.readPrivateData(label))
        .as("within the interval the replace goes by the object it made")
        .hasSize(2)
        .anySatisfy(v -> assertThat(v).isEqualTo(bytes("two")));

    clock.addAndGet(1);
    replace(writes, label, "four");
    assertThat(hsm.readPrivateData(label)).containsExactly(bytes("four"));
  }

  @Test
  void aNewEpoch_searchesAgain() throws Exception {
    String label = "anchor-f";
    PrivateDataWrites writes = new PrivateDataWrites(hsm.callsForTest(), () -> 0L);
    replace(writes, label, "one");
    hsm.withSessionForTest(
        session -> session.createObject(PrivateData.byLabel(label).value(bytes("two"))));
    int searches =
        SEARCHES.during(
            () ->
                hsm.withSessionForTest(
                    session -> {
                      writes.replace(session, label, bytes("three"), 1);
                      return null;
                    }));
    assertThat(searches).isEqualTo(2);
    assertThat(hsm.readPrivateData(label)).containsExactly(bytes("three"));
  }

  private static void replace(PrivateDataWrites writes, String label, String value)
      throws Exception {
    hsm.withSessionForTest(
        session -> {
          writes.replace(session, label, bytes(value), 0);
          return null;
        });
  }

  @Test
  void twentyReplaces_searchOnlyInTheFirst() throws Exception {
    String label = "anchor-d";
    int searches =
        SEARCHES.during(
            () -> {
              for (int i = 0; i < 20; i++) {
                hsm.replacePrivateData(label, bytes("value " + i));
              }
            });
    assertThat(searches).as("searches in 20 replaces (data and carrier key: 2 each)").isEqualTo(2);
    assertThat(hsm.readPrivateData(label)).containsExactly(bytes("value 19"));
    assertThat(objects(label)).hasSize(1);
  }

  @Test
  void theLastObjectDestroyedBehindTheAdaptersBack_theReplaceSearches_andLeavesOne()
      throws Exception {
    String label = "anchor-e";
    hsm.replacePrivateData(label, bytes("one"));
    long[] remembered = objects(label);
    assertThat(remembered).hasSize(1);
    destroy(remembered[0]);
    hsm.withSessionForTest(
        session -> session.createObject(PrivateData.byLabel(label).value(bytes("planted"))));

    int searches = SEARCHES.during(() -> hsm.replacePrivateData(label, bytes("two")));

    assertThat(searches).as("the check failed: one search of each kind").isEqualTo(2);
    assertThat(hsm.readPrivateData(label)).containsExactly(bytes("two"));
    assertThat(objects(label)).hasSize(1);
    assertThat(SEARCHES.during(() -> hsm.replacePrivateData(label, bytes("three")))).isZero();
    assertThat(hsm.readPrivateData(label)).containsExactly(bytes("three"));
  }

  private static long[] objects(String label) throws Exception {
    return hsm.withSessionForTest(
        session -> session.findObjectsSingle(PrivateData.byLabel(label), 5));
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
