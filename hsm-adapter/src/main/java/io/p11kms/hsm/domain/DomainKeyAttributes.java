package io.p11kms.hsm.domain;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.attrs.Attribute;

/**
 * The attributes of one domain key, over every attribute type the template of its kind sets ({@link
 * DomainKeyRole}), as one line of {@link TemplateText}: what the domain join compares with what
 * that kind requires, and what {@code domain-join list} prints. Never turned back into a template:
 * a copy is landed from the kind's own template.
 *
 * @param label the key's label
 * @param text its attributes, e.g. {@code CKA_CLASS=CKO_SECRET_KEY,CKA_TOKEN=true,...}
 */
public record DomainKeyAttributes(String label, String text) {

  /** The label prefix of every kind of domain key. */
  public static final String LABEL_PREFIX = "domain-key";

  /**
   * Reads the attributes of the secret key {@code handle}, never its value: the types its kind's
   * template sets (but CKA_VALUE_LEN, see {@link JoinTemplates#asObject}), or for a label that
   * names no kind, the types of every kind's template.
   */
  static DomainKeyAttributes read(Session session, long handle) throws PKCS11Exception {
    String label = session.getStringAttrValue(handle, PKCS11Constants.CKA_LABEL);
    List<Long> types =
        DomainKeyRole.of(label)
            .map(key -> typesOf(asTokenObjects(JoinTemplates.madeWith(key))))
            .orElseGet(DomainKeyAttributes::everyKindsTypes);
    AttributeVector read = session.getAttrValues(handle, types);
    return new DomainKeyAttributes(label, TemplateText.of(read));
  }

  /**
   * What a key labelled {@code label} has when its kind's newest template made it: as a token
   * object (the ceremony, the join's copy) or a session object (the join's proving copy). Empty
   * when the label names no kind of domain key.
   */
  public static Optional<DomainKeyAttributes> required(String label, boolean tokenObject) {
    return DomainKeyRole.of(label)
        .map(key -> of(label, JoinTemplates.madeWith(key).get(0), tokenObject));
  }

  /**
   * The ceremony's template, among those of its kind and generation ({@link
   * JoinTemplates#madeWith}), that gives exactly these attributes to a token object ({@code
   * tokenObject}) or a session object, over every attribute type that template sets; empty when
   * none does, or the label names no kind.
   */
  Optional<AttributeVector> madeWith(boolean tokenObject) {
    return DomainKeyRole.of(label).stream()
        .flatMap(key -> JoinTemplates.madeWith(key).stream())
        .filter(template -> gives(of(label, template, tokenObject)))
        .findFirst();
  }

  /** Whether these attributes are {@code made}'s, over the attribute types {@code made} has. */
  private boolean gives(DomainKeyAttributes made) {
    List<String> wanted = TemplateText.split(made.text);
    Set<String> types = new LinkedHashSet<>();
    wanted.forEach(part -> types.add(part.substring(0, part.indexOf('='))));
    List<String> have =
        TemplateText.split(text).stream()
            .filter(
                part ->
                    part.indexOf('=') < 0 || types.contains(part.substring(0, part.indexOf('='))))
            .toList();
    return label.equals(made.label) && have.equals(wanted);
  }

  private static DomainKeyAttributes of(
      String label, AttributeVector template, boolean tokenObject) {
    return new DomainKeyAttributes(
        label, TemplateText.of(JoinTemplates.asObject(template, tokenObject)));
  }

  boolean extractable() {
    return TemplateText.split(text)
        .contains(PKCS11Constants.ckaCodeToName(PKCS11Constants.CKA_EXTRACTABLE) + "=true");
  }

  /**
   * How these attributes differ from {@code wanted}: each attribute that is not as wanted, then
   * each wanted one that is missing ({@code -CKA_NAME=value}). Empty when they are the same.
   */
  List<String> differencesFrom(DomainKeyAttributes wanted) {
    List<String> have = TemplateText.split(text);
    List<String> want = TemplateText.split(wanted.text);
    List<String> differences = new ArrayList<>();
    have.stream().filter(p -> !want.contains(p)).forEach(differences::add);
    want.stream().filter(p -> !have.contains(p)).map(p -> "-" + p).forEach(differences::add);
    return differences;
  }

  private static List<Long> everyKindsTypes() {
    List<AttributeVector> templates = new ArrayList<>();
    for (DomainKeyRole role : DomainKeyRole.values()) {
      templates.addAll(JoinTemplates.madeWith(new DomainKeyRole.Key(role, 1)));
    }
    return typesOf(asTokenObjects(templates));
  }

  private static List<AttributeVector> asTokenObjects(List<AttributeVector> templates) {
    return templates.stream().map(t -> JoinTemplates.asObject(t, true)).toList();
  }

  private static List<Long> typesOf(List<AttributeVector> templates) {
    Set<Long> types = new LinkedHashSet<>();
    for (AttributeVector template : templates) {
      for (Attribute attribute : template.snapshot()) {
        types.add(attribute.type());
      }
    }
    return new ArrayList<>(types);
  }
}
