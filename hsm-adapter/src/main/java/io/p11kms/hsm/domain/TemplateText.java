package io.p11kms.hsm.domain;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.attrs.Attribute;

/**
 * A template or a key's attributes as one line of text, the same for the same attributes whatever
 * their order: {@code CKA_NAME=value} sorted by attribute code, comma-separated, a nested template
 * in braces ({@code CKA_WRAP_TEMPLATE={CKA_DERIVE=true}}). For comparing what a token holds with
 * what a template asks for, and for operators comparing two tokens. Never parsed back into a
 * template.
 */
public final class TemplateText {
  private TemplateText() {}

  static String of(AttributeVector attributes) {
    return String.join(",", parts(attributes));
  }

  /** One {@code CKA_NAME=value} per attribute, sorted by attribute code. */
  static List<String> parts(AttributeVector attributes) {
    List<Attribute> sorted = new ArrayList<>(attributes.snapshot());
    sorted.sort(Comparator.comparingLong(Attribute::type));
    List<String> parts = new ArrayList<>();
    for (Attribute attribute : sorted) {
      parts.add(
          PKCS11Constants.ckaCodeToName(attribute.type())
              + "="
              + value(attribute.type(), attribute.getValue()));
    }
    return parts;
  }

  /** {@link #parts} of a line made by {@link #of}: split at the commas outside braces. */
  public static List<String> split(String text) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '{') {
        depth++;
      } else if (c == '}') {
        depth--;
      } else if (c == ',' && depth == 0) {
        parts.add(text.substring(start, i));
        start = i + 1;
      }
    }
    if (start < text.length()) {
      parts.add(text.substring(start));
    }
    return parts;
  }

  private static String value(long type, Object value) {
    if (value == null) {
      return "absent";
    }
    if (value instanceof AttributeVector nested) {
      return "{" + of(nested) + "}";
    }
    if (value instanceof Long code && type == PKCS11Constants.CKA_CLASS) {
      return PKCS11Constants.ckoCodeToName(code);
    }
    if (value instanceof Long code && type == PKCS11Constants.CKA_KEY_TYPE) {
      return PKCS11Constants.ckkCodeToName(code);
    }
    if (value instanceof long[] mechanisms) {
      List<String> names = new ArrayList<>();
      for (long mechanism : mechanisms) {
        names.add(PKCS11Constants.ckmCodeToName(mechanism));
      }
      return names.toString();
    }
    if (value instanceof byte[] bytes) {
      return HexFormat.of().formatHex(bytes);
    }
    if (value instanceof char[] chars) {
      return new String(chars);
    }
    return value.toString();
  }
}
