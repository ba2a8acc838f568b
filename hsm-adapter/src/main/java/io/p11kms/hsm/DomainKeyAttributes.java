package io.p11kms.hsm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.attrs.Attribute;

/**
 * The attributes of one domain key that the domain-join ceremony reproduces on the target token:
 * label, key type, every boolean attribute a template can set, the WRAP_TEMPLATE and the
 * UNWRAP_TEMPLATE (boolean attributes only).
 *
 * <p>Generic on purpose: any TRUSTED secret key whose label starts with {@code domain-key} is
 * copied with what it has, so a new kind of domain key needs no change here. What the token sets by
 * itself (CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE: how the key came to be) is not a
 * template attribute and differs on a copy by nature.
 */
public record DomainKeyAttributes(
    String label,
    long keyType,
    Map<Long, Boolean> flags,
    Map<Long, Boolean> wrapTemplate,
    Map<Long, Boolean> unwrapTemplate) {

  /** The label prefix of every kind of domain key ({@code domain-key/<n>}, and any newer kind). */
  public static final String LABEL_PREFIX = "domain-key";

  /**
   * The boolean attributes copied, in template order. MODIFIABLE last: SoftHSM2 applies a template
   * in order and refuses every attribute after MODIFIABLE false with CKR_ATTRIBUTE_READ_ONLY.
   */
  static final List<Long> COPIED_FLAGS =
      List.of(
          PKCS11Constants.CKA_TOKEN,
          PKCS11Constants.CKA_PRIVATE,
          PKCS11Constants.CKA_TRUSTED,
          PKCS11Constants.CKA_SENSITIVE,
          PKCS11Constants.CKA_EXTRACTABLE,
          PKCS11Constants.CKA_WRAP_WITH_TRUSTED,
          PKCS11Constants.CKA_ENCRYPT,
          PKCS11Constants.CKA_DECRYPT,
          PKCS11Constants.CKA_WRAP,
          PKCS11Constants.CKA_UNWRAP,
          PKCS11Constants.CKA_SIGN,
          PKCS11Constants.CKA_VERIFY,
          PKCS11Constants.CKA_DERIVE,
          PKCS11Constants.CKA_COPYABLE,
          PKCS11Constants.CKA_DESTROYABLE,
          PKCS11Constants.CKA_MODIFIABLE);

  public DomainKeyAttributes {
    flags = Map.copyOf(flags);
    wrapTemplate = Map.copyOf(wrapTemplate);
    unwrapTemplate = Map.copyOf(unwrapTemplate);
  }

  /** Reads the attributes of the secret key {@code handle}; never its value. */
  static DomainKeyAttributes read(Session session, long handle) throws PKCS11Exception {
    List<Long> types = new ArrayList<>(COPIED_FLAGS);
    types.add(PKCS11Constants.CKA_LABEL);
    types.add(PKCS11Constants.CKA_KEY_TYPE);
    types.add(PKCS11Constants.CKA_WRAP_TEMPLATE);
    types.add(PKCS11Constants.CKA_UNWRAP_TEMPLATE);
    AttributeVector read = session.getAttrValues(handle, types);
    Map<Long, Boolean> flags = new LinkedHashMap<>();
    for (long type : COPIED_FLAGS) {
      Boolean value = read.getBooleanAttrValue(type);
      if (value != null) {
        flags.put(type, value);
      }
    }
    Long keyType = read.keyType();
    return new DomainKeyAttributes(
        read.label(),
        keyType == null ? -1 : keyType,
        flags,
        booleans(read.label(), "WRAP_TEMPLATE", read.wrapTemplate()),
        booleans(read.label(), "UNWRAP_TEMPLATE", read.unwrapTemplate()));
  }

  private static Map<Long, Boolean> booleans(String label, String name, AttributeVector template) {
    Map<Long, Boolean> values = new LinkedHashMap<>();
    if (template != null) {
      for (Attribute attribute : template.snapshot()) {
        if (!(attribute.getValue() instanceof Boolean value)) {
          throw new HsmException(
              label
                  + ": its "
                  + name
                  + " holds "
                  + PKCS11Constants.ckaCodeToName(attribute.type())
                  + ", which the domain join cannot reproduce (only boolean attributes)");
        }
        values.put(attribute.type(), value);
      }
    }
    return values;
  }

  boolean flag(long type) {
    return Boolean.TRUE.equals(flags.get(type));
  }

  /**
   * What custody needs of a domain key that may be copied: TRUSTED, SENSITIVE, EXTRACTABLE only
   * with WRAP_WITH_TRUSTED, no ENCRYPT/DECRYPT/SIGN/VERIFY/DERIVE, not MODIFIABLE or COPYABLE, a
   * public token object (an SO session can create only those), and a WRAP_TEMPLATE that it does not
   * match itself (or a user session could wrap it under itself and unwrap it as an HBK). Checked on
   * the bundle before any token call, so an edited bundle cannot land a weaker key.
   *
   * @return what is wrong, empty when nothing is
   */
  public List<String> custodyProblems() {
    List<String> wrong = new ArrayList<>();
    if (label == null || !label.startsWith(LABEL_PREFIX)) {
      wrong.add("label " + label + " is not a domain key's");
    }
    if (keyType != PKCS11Constants.CKK_AES) {
      wrong.add("key type " + PKCS11Constants.ckkCodeToName(keyType) + " (want CKK_AES)");
    }
    require(wrong, PKCS11Constants.CKA_TOKEN, true);
    require(wrong, PKCS11Constants.CKA_PRIVATE, false);
    require(wrong, PKCS11Constants.CKA_TRUSTED, true);
    require(wrong, PKCS11Constants.CKA_SENSITIVE, true);
    require(wrong, PKCS11Constants.CKA_EXTRACTABLE, true);
    require(wrong, PKCS11Constants.CKA_WRAP_WITH_TRUSTED, true);
    require(wrong, PKCS11Constants.CKA_ENCRYPT, false);
    require(wrong, PKCS11Constants.CKA_DECRYPT, false);
    require(wrong, PKCS11Constants.CKA_SIGN, false);
    require(wrong, PKCS11Constants.CKA_VERIFY, false);
    require(wrong, PKCS11Constants.CKA_DERIVE, false);
    require(wrong, PKCS11Constants.CKA_COPYABLE, false);
    require(wrong, PKCS11Constants.CKA_MODIFIABLE, false);
    boolean excludesItsKind =
        wrapTemplate.entrySet().stream()
            .anyMatch(e -> flags.containsKey(e.getKey()) && flags.get(e.getKey()) != e.getValue());
    if (!excludesItsKind) {
      wrong.add(
          "a WRAP_TEMPLATE that a domain key itself matches ("
              + wrapTemplateText()
              + "): it could wrap itself");
    }
    return wrong;
  }

  private void require(List<String> wrong, long type, boolean wanted) {
    Boolean actual = flags.get(type);
    if (actual == null || actual != wanted) {
      wrong.add(PKCS11Constants.ckaCodeToName(type) + "=" + actual + " (want " + wanted + ")");
    }
  }

  /** The C_UnwrapKey template that lands this key on the target, as a token or session object. */
  AttributeVector unwrapTarget(boolean tokenObject) {
    AttributeVector template =
        new AttributeVector().class_(PKCS11Constants.CKO_SECRET_KEY).keyType(keyType).label(label);
    for (long type : COPIED_FLAGS) {
      Boolean value = flags.get(type);
      if (type == PKCS11Constants.CKA_TOKEN) {
        value = tokenObject;
      }
      if (value != null && type != PKCS11Constants.CKA_MODIFIABLE) {
        template.attr(type, value);
      }
    }
    if (!wrapTemplate.isEmpty()) {
      template.wrapTemplate(ordered(wrapTemplate));
    }
    if (!unwrapTemplate.isEmpty()) {
      template.unwrapTemplate(ordered(unwrapTemplate));
    }
    Boolean modifiable = flags.get(PKCS11Constants.CKA_MODIFIABLE);
    if (modifiable != null) {
      template.modifiable(modifiable);
    }
    return template;
  }

  /**
   * The proof key made on the source: an AES-256 session key that the domain key may wrap
   * (EXTRACTABLE, and everything the domain key's UNWRAP_TEMPLATE will demand of it on the target).
   */
  AttributeVector proofKeyOnSource() {
    return withUnwrapPins(
        AttributeVector.newAESSecretKey()
            .valueLen(KeyTemplates.AES_256_BYTES)
            .token(false)
            .private_(false)
            .extractable(true));
  }

  /** The proof key unwrapped on the target under the copy: the same pins, not extractable. */
  AttributeVector proofKeyOnTarget() {
    return withUnwrapPins(
        AttributeVector.newAESSecretKey().token(false).private_(false).extractable(false));
  }

  private AttributeVector withUnwrapPins(AttributeVector template) {
    Map<Long, Boolean> pins = new LinkedHashMap<>();
    pins.put(PKCS11Constants.CKA_SENSITIVE, true);
    pins.put(PKCS11Constants.CKA_WRAP_WITH_TRUSTED, true);
    pins.putAll(unwrapTemplate);
    pins.remove(PKCS11Constants.CKA_EXTRACTABLE);
    pins.forEach(
        (type, value) -> {
          if (type != PKCS11Constants.CKA_MODIFIABLE) {
            template.attr(type, value);
          }
        });
    if (pins.containsKey(PKCS11Constants.CKA_MODIFIABLE)) {
      template.modifiable(pins.get(PKCS11Constants.CKA_MODIFIABLE));
    }
    return template;
  }

  private static AttributeVector ordered(Map<Long, Boolean> attributes) {
    AttributeVector vector = new AttributeVector();
    attributes.entrySet().stream()
        .filter(e -> e.getKey() != PKCS11Constants.CKA_MODIFIABLE)
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> vector.attr(e.getKey(), e.getValue()));
    if (attributes.containsKey(PKCS11Constants.CKA_MODIFIABLE)) {
      vector.modifiable(attributes.get(PKCS11Constants.CKA_MODIFIABLE));
    }
    return vector;
  }

  /**
   * One line per attribute group, stable, for files and for operators to compare two tokens: {@code
   * CKA_TOKEN=true,CKA_PRIVATE=false,...}.
   */
  public String flagsText() {
    return text(flags, COPIED_FLAGS);
  }

  public String wrapTemplateText() {
    return text(wrapTemplate, wrapTemplate.keySet().stream().sorted().toList());
  }

  public String unwrapTemplateText() {
    return text(unwrapTemplate, unwrapTemplate.keySet().stream().sorted().toList());
  }

  private static String text(Map<Long, Boolean> attributes, List<Long> order) {
    List<String> parts = new ArrayList<>();
    for (long type : order) {
      if (attributes.containsKey(type)) {
        parts.add(PKCS11Constants.ckaCodeToName(type) + "=" + attributes.get(type));
      }
    }
    return String.join(",", parts);
  }

  /** Parses {@link #flagsText()} or {@link #unwrapTemplateText()}. */
  static Map<Long, Boolean> parseFlags(String text) {
    Map<Long, Boolean> attributes = new LinkedHashMap<>();
    if (text == null || text.isBlank()) {
      return attributes;
    }
    for (String part : text.split(",")) {
      String[] nameValue = part.trim().split("=", 2);
      Long type = nameValue.length == 2 ? PKCS11Constants.ckaNameToCode(nameValue[0]) : null;
      if (type == null || !(nameValue[1].equals("true") || nameValue[1].equals("false"))) {
        throw new IllegalArgumentException("not an attribute: " + part.trim());
      }
      attributes.put(type, Boolean.parseBoolean(nameValue[1]));
    }
    return attributes;
  }
}
