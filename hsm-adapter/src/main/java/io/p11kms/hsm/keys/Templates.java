package io.p11kms.hsm.keys;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.attrs.Attribute;

/** Compares the nested templates (WRAP_TEMPLATE, UNWRAP_TEMPLATE) of two keys. */
public final class Templates {
  private Templates() {}

  /** Whether {@code actual} has the WRAP_TEMPLATE and UNWRAP_TEMPLATE of {@code expected}. */
  public static boolean same(AttributeVector expected, AttributeVector actual) {
    return equal(expected.wrapTemplate(), actual.wrapTemplate())
        && equal(expected.unwrapTemplate(), actual.unwrapTemplate());
  }

  /** Same attribute types with the same values, in any order; null equals an empty template. */
  static boolean equal(AttributeVector a, AttributeVector b) {
    return values(a).equals(values(b));
  }

  private static Map<Long, Object> values(AttributeVector template) {
    Map<Long, Object> values = new HashMap<>();
    if (template != null) {
      for (Attribute attribute : template.snapshot()) {
        values.put(attribute.getType(), new Value(attribute.getValue()));
      }
    }
    return values;
  }

  /** An attribute value compared by content (arrays included). */
  private record Value(Object value) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Value v && Objects.deepEquals(value, v.value);
    }

    @Override
    public int hashCode() {
      return 0;
    }
  }
}
