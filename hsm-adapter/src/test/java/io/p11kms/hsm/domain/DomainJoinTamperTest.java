package io.p11kms.hsm.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.PinSource;
import io.p11kms.hsm.session.Pkcs11Modules;
import io.p11kms.hsm.session.TokenFinder;
import io.p11kms.hsm.testing.SoftHsmTestToken;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;

/**
 * A domain-join bundle changed on its way from the source to the target, each change as an attacker
 * who holds the file would make it, against real SoftHSM2 tokens: the target must refuse it and
 * keep no object of it. Most attacks are run twice: with the fingerprint the source printed (what
 * the target's operator is told), and with the altered bundle's own fingerprint (as if the attacker
 * could also make the operator type theirs), which the check of each key against its kind's
 * template must still refuse. The last test joins the untouched bundle, so that every refusal above
 * is the change's doing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DomainJoinTamperTest {
  private static SoftHsmTestToken source;
  private static SoftHsmTestToken target;

  @BeforeAll
  static void tokens() {
    source = SoftHsmTestToken.create();
    char[] soPin = source.soPin();
    try {
      DomainKeyCeremony.createNextDomainKey(source.modulePath(), source.label(), soPin);
    } finally {
      Arrays.fill(soPin, '\0');
    }
    target = SoftHsmTestToken.createBeside(source);
  }

  @AfterAll
  static void close() {
    if (target != null) {
      target.close();
    }
    if (source != null) {
      source.close();
    }
  }

  /** Each test begins its own join; one that was refused before the token keeps its key. */
  @AfterEach
  void abortJoin() {
    char[] pin = target.soPin();
    try {
      DomainJoin.abort(target.modulePath(), target.label(), pin);
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  @Test
  @Order(1)
  void unwrapTemplateEmptied_refused_andNothingLands() {
    DomainKeyBundle bundle = export(begin());
    DomainKeyBundle tampered =
        withAttributes(
            bundle, "domain-key/1", parts -> replace(parts, "CKA_UNWRAP_TEMPLATE", "{}"));

    assertRefusedBeforeTheToken(
        () -> finish(tampered, bundle.fingerprint()), "the bundle's fingerprint is");
    assertRefusedBeforeTheToken(
        () -> finish(tampered, tampered.fingerprint()),
        "the bundle gives domain-key/1 other attributes than its kind has",
        "CKA_UNWRAP_TEMPLATE={}");
  }

  @Test
  @Order(2)
  void flagsEdited_refused_andNothingLands() {
    DomainKeyBundle bundle = export(begin());
    DomainKeyBundle tampered =
        withAttributes(
            bundle,
            "domain-key-asym/2",
            parts -> replace(replace(parts, "CKA_DESTROYABLE", "true"), "CKA_SENSITIVE", "false"));

    assertRefusedBeforeTheToken(
        () -> finish(tampered, bundle.fingerprint()), "the bundle's fingerprint is");
    assertRefusedBeforeTheToken(
        () -> finish(tampered, tampered.fingerprint()),
        "the bundle gives domain-key-asym/2 other attributes than its kind has",
        "CKA_DESTROYABLE=true",
        "CKA_SENSITIVE=false");
  }

  @Test
  @Order(3)
  void flagRemoved_refused_andNothingLands() {
    DomainKeyBundle bundle = export(begin());
    DomainKeyBundle tampered =
        withAttributes(
            bundle,
            "domain-key/2",
            parts -> parts.stream().filter(p -> !p.startsWith("CKA_MODIFIABLE=")).toList());

    assertRefusedBeforeTheToken(
        () -> finish(tampered, tampered.fingerprint()),
        "other attributes than its kind has",
        "-CKA_MODIFIABLE=false");
  }

  @Test
  @Order(4)
  void wrappedKeysSwappedBetweenGenerations_refused_andNothingLands() {
    DomainKeyBundle bundle = export(begin());
    DomainKeyBundle.Entry one = entry(bundle, "domain-key/1");
    DomainKeyBundle.Entry two = entry(bundle, "domain-key/2");
    // Each wrapped key travels with its own proof EKT: the proof alone cannot tell the swap.
    DomainKeyBundle tampered =
        with(
            with(
                bundle, new DomainKeyBundle.Entry(one.attributes(), two.wrapped(), two.proofEkt())),
            new DomainKeyBundle.Entry(two.attributes(), one.wrapped(), one.proofEkt()));

    assertRefusedBeforeTheToken(
        () -> finish(tampered, bundle.fingerprint()), "the bundle's fingerprint is");
  }

  @Test
  @Order(5)
  void wrappedKeyAltered_refused_andNothingLands() {
    DomainKeyBundle bundle = export(begin());
    DomainKeyBundle.Entry one = entry(bundle, "domain-key/1");
    DomainKeyBundle tampered =
        with(
            bundle,
            new DomainKeyBundle.Entry(
                one.attributes(), flipped(one.wrapped(), 100), one.proofEkt()));

    assertRefusedBeforeTheToken(
        () -> finish(tampered, bundle.fingerprint()), "the bundle's fingerprint is");
    assertRefusedInTheToken(
        () -> finish(tampered, tampered.fingerprint()), "domain-key/1 does not unwrap");
  }

  @Test
  @Order(6)
  void proofAltered_refused_andNothingLands() {
    DomainKeyBundle bundle = export(begin());
    DomainKeyBundle.Entry two = entry(bundle, "domain-key-asym/2");
    DomainKeyBundle tampered =
        with(
            bundle,
            new DomainKeyBundle.Entry(two.attributes(), two.wrapped(), flipped(two.proofEkt(), 3)));

    assertRefusedBeforeTheToken(
        () -> finish(tampered, bundle.fingerprint()), "the bundle's fingerprint is");
    assertRefusedInTheToken(
        () -> finish(tampered, tampered.fingerprint()), "domain-key-asym/2 fails its proof");
  }

  @Test
  @Order(7)
  void labelEdited_refused_andNothingLands() {
    DomainKeyBundle bundle = export(begin());
    DomainKeyBundle.Entry two = entry(bundle, "domain-key/2");
    // Generation 2's key offered as a generation 3, attributes and all.
    DomainKeyBundle relabelled =
        withEntryAt(
            bundle,
            indexOf(bundle, "domain-key/2"),
            new DomainKeyBundle.Entry(
                new DomainKeyAttributes(
                    "domain-key/3",
                    two.attributes().text().replace("=domain-key/2", "=domain-key/3")),
                two.wrapped(),
                two.proofEkt()));
    // Only the label changed: the attributes still name domain-key/2.
    DomainKeyBundle mislabelled =
        withEntryAt(
            bundle,
            indexOf(bundle, "domain-key/2"),
            new DomainKeyBundle.Entry(
                new DomainKeyAttributes("domain-key/3", two.attributes().text()),
                two.wrapped(),
                two.proofEkt()));
    // A label that names no kind of domain key.
    DomainKeyBundle unknownKind =
        withEntryAt(
            bundle,
            indexOf(bundle, "domain-key/2"),
            new DomainKeyBundle.Entry(
                new DomainKeyAttributes("domain-key-other/2", two.attributes().text()),
                two.wrapped(),
                two.proofEkt()));

    assertRefusedBeforeTheToken(
        () -> finish(relabelled, bundle.fingerprint()), "the bundle's fingerprint is");
    assertRefusedBeforeTheToken(
        () -> finish(mislabelled, mislabelled.fingerprint()),
        "the bundle gives domain-key/3 other attributes than its kind has",
        "CKA_LABEL=domain-key/2");
    assertRefusedBeforeTheToken(
        () -> finish(unknownKind, unknownKind.fingerprint()),
        "domain-key-other/2, which is no kind of domain key");
  }

  @Test
  @Order(8)
  void bundleForAnotherTransportKey_refused_andNothingLands() {
    DomainKeyBundle bundle = export(begin());
    abortJoin();
    begin();

    assertRefusedInTheToken(
        () -> finish(bundle, bundle.fingerprint()), "the bundle was made for transport key");
  }

  @Test
  @Order(9)
  void bundleMadeByAnotherTokenForThisTransportKey_refused_andNothingLands() {
    TransportKey transportKey = begin();
    DomainKeyBundle genuine = export(transportKey);
    // Anyone may wrap keys under the transport public key: a whole bundle from the attacker's own
    // token, every check of its own passing, its domain keys known to the attacker.
    SoftHsmTestToken attacker = SoftHsmTestToken.createBeside(source);
    DomainKeyBundle forged;
    try {
      char[] pin = attacker.soPin();
      try {
        DomainKeyCeremony.createDomainKey(attacker.modulePath(), attacker.label(), pin, 1);
        DomainKeyCeremony.createNextDomainKey(attacker.modulePath(), attacker.label(), pin);
        forged =
            DomainJoin.export(
                attacker.modulePath(),
                attacker.label(),
                pin,
                transportKey,
                transportKey.fingerprint(),
                false);
      } finally {
        Arrays.fill(pin, '\0');
      }
    } finally {
      attacker.close();
    }
    assertThat(forged.transportFingerprint()).isEqualTo(genuine.transportFingerprint());
    assertThat(forged.fingerprint()).isNotEqualTo(genuine.fingerprint());

    assertRefusedBeforeTheToken(
        () -> finish(forged, genuine.fingerprint()), "the bundle's fingerprint is");
  }

  @Test
  @Order(10)
  void finish_withoutTheExpectedFingerprint_refusedBeforeAnyTokenCall() {
    DomainKeyBundle bundle = export(begin());
    for (String missing : Arrays.asList(null, "", "  ")) {
      assertRefusedBeforeTheToken(
          IllegalArgumentException.class,
          () -> finish(bundle, missing),
          "the bundle's fingerprint, as domain-join export printed it on the source, is required");
    }
  }

  @Test
  @Order(11)
  void export_withoutTheExpectedFingerprint_refusedBeforeAnyTokenCall() {
    TransportKey genuine = begin();
    byte[] modulus = new byte[384];
    Arrays.fill(modulus, (byte) 0x5a);
    TransportKey swapped = new TransportKey(modulus, new byte[] {1, 0, 1});
    // A wrong SO PIN: had export logged in, it would fail with CKR_PIN_INCORRECT instead.
    char[] wrongPin = "not-the-so-pin".toCharArray();
    for (String missing : Arrays.asList(null, "", "  ")) {
      assertThatThrownBy(
              () ->
                  DomainJoin.export(
                      source.modulePath(), source.label(), wrongPin, genuine, missing, false))
          .isExactlyInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("the transport key's fingerprint")
          .hasMessageContaining("is required");
    }
    assertThatThrownBy(
            () ->
                DomainJoin.export(
                    source.modulePath(),
                    source.label(),
                    wrongPin,
                    swapped,
                    genuine.fingerprint(),
                    false))
        .isExactlyInstanceOf(HsmException.class)
        .hasMessageContaining("not the one expected: it was swapped on the way");
  }

  @Test
  @Order(100)
  void theUntouchedBundle_joins() {
    DomainKeyBundle bundle = export(begin());

    List<DomainJoin.Joined> joined = finish(bundle, bundle.fingerprint());

    assertThat(joined)
        .hasSize(2 * DomainKeyRole.values().length)
        .noneMatch(DomainJoin.Joined::alreadyPresent);
    for (DomainKeyAttributes copy : DomainJoin.list(target.modulePath(), target.label())) {
      assertThat(copy).isEqualTo(DomainKeyAttributes.required(copy.label(), true).orElseThrow());
    }
  }

  // ---- the refusals

  /**
   * Refused before any token call: the transport key is still there (finish destroys it once it
   * reaches the token), and the target holds the same objects as before.
   */
  private static void assertRefusedBeforeTheToken(ThrowingCallable finish, String... message) {
    assertRefusedBeforeTheToken(HsmException.class, finish, message);
  }

  private static void assertRefusedBeforeTheToken(
      Class<? extends Throwable> type, ThrowingCallable finish, String... message) {
    List<String> before = targetObjects();
    assertThat(before).as("a join under way").contains(transportKeyObject());
    var refusal = assertThatThrownBy(finish).isExactlyInstanceOf(type);
    for (String part : message) {
      refusal.hasMessageContaining(part);
    }
    assertThat(targetObjects()).isEqualTo(before);
  }

  /**
   * Refused in the token: the transport key is gone (a failed join starts again), and no other
   * object was added.
   */
  private static void assertRefusedInTheToken(ThrowingCallable finish, String... message) {
    List<String> before = targetObjects();
    var refusal = assertThatThrownBy(finish).isExactlyInstanceOf(HsmException.class);
    for (String part : message) {
      refusal.hasMessageContaining(part);
    }
    List<String> expected = new ArrayList<>(before);
    expected.remove(transportKeyObject());
    assertThat(targetObjects()).isEqualTo(expected);
  }

  private static String transportKeyObject() {
    return "CKO_PRIVATE_KEY " + DomainJoin.TRANSPORT_LABEL;
  }

  /** Every object on the target a user session sees (public and private), as class and label. */
  private static List<String> targetObjects() {
    char[] pin = PinSource.fromFile(target.userPinFile()).read();
    PKCS11Module module = Pkcs11Modules.acquire(target.modulePath());
    try {
      Session session = TokenFinder.byLabel(module, target.label()).openSession(false);
      try {
        session.login(PKCS11Constants.CKU_USER, pin);
        List<String> objects = new ArrayList<>();
        for (long handle : session.findAllObjectsSingle(new AttributeVector())) {
          AttributeVector read =
              session.getAttrValues(handle, PKCS11Constants.CKA_CLASS, PKCS11Constants.CKA_LABEL);
          objects.add(PKCS11Constants.ckoCodeToName(read.class_()) + " " + read.label());
        }
        objects.sort(null);
        session.logout();
        return objects;
      } finally {
        session.closeSession();
      }
    } catch (Exception e) {
      throw new AssertionError("cannot list the target's objects: " + e, e);
    } finally {
      Pkcs11Modules.release(target.modulePath());
      Arrays.fill(pin, '\0');
    }
  }

  // ---- the ceremony

  private static TransportKey begin() {
    char[] pin = target.soPin();
    try {
      return DomainJoin.begin(target.modulePath(), target.label(), pin);
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  private static DomainKeyBundle export(TransportKey key) {
    char[] pin = source.soPin();
    try {
      return DomainJoin.export(
          source.modulePath(), source.label(), pin, key, key.fingerprint(), false);
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  private static List<DomainJoin.Joined> finish(DomainKeyBundle bundle, String fingerprint) {
    char[] pin = target.soPin();
    try {
      return DomainJoin.finish(target.modulePath(), target.label(), pin, bundle, fingerprint);
    } finally {
      Arrays.fill(pin, '\0');
    }
  }

  // ---- the attacker's edits

  private static DomainKeyBundle.Entry entry(DomainKeyBundle bundle, String label) {
    return bundle.keys().get(indexOf(bundle, label));
  }

  private static int indexOf(DomainKeyBundle bundle, String label) {
    for (int i = 0; i < bundle.keys().size(); i++) {
      if (bundle.keys().get(i).attributes().label().equals(label)) {
        return i;
      }
    }
    throw new AssertionError(label + " not in the bundle");
  }

  /** The bundle with the entry of the same label replaced by {@code entry}. */
  private static DomainKeyBundle with(DomainKeyBundle bundle, DomainKeyBundle.Entry entry) {
    return withEntryAt(bundle, indexOf(bundle, entry.attributes().label()), entry);
  }

  private static DomainKeyBundle withEntryAt(
      DomainKeyBundle bundle, int index, DomainKeyBundle.Entry entry) {
    List<DomainKeyBundle.Entry> keys = new ArrayList<>(bundle.keys());
    keys.set(index, entry);
    return new DomainKeyBundle(bundle.transportFingerprint(), bundle.oaepHash(), keys);
  }

  private static DomainKeyBundle withAttributes(
      DomainKeyBundle bundle, String label, UnaryOperator<List<String>> edit) {
    DomainKeyBundle.Entry entry = entry(bundle, label);
    List<String> parts = edit.apply(TemplateText.split(entry.attributes().text()));
    return with(
        bundle,
        new DomainKeyBundle.Entry(
            new DomainKeyAttributes(label, String.join(",", parts)),
            entry.wrapped(),
            entry.proofEkt()));
  }

  private static List<String> replace(List<String> parts, String attribute, String value) {
    List<String> out = new ArrayList<>();
    boolean found = false;
    for (String part : parts) {
      if (part.startsWith(attribute + "=")) {
        out.add(attribute + "=" + value);
        found = true;
      } else {
        out.add(part);
      }
    }
    assertThat(found).as(attribute + " in " + parts).isTrue();
    assertThat(out).as("an edit that changes something").isNotEqualTo(parts);
    return out;
  }

  private static byte[] flipped(byte[] bytes, int index) {
    byte[] copy = bytes.clone();
    copy[index] ^= 1;
    return copy;
  }
}
