package io.p11kms.hsm.domain;

import io.p11kms.hsm.keys.KeyTemplates;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.Session;

/** The domain keys on a token, found for the domain join and for operators comparing tokens. */
final class TrustedDomainKeys {
  private TrustedDomainKeys() {}

  /** Every TRUSTED secret token key whose label starts with {@code domain-key}, by label. */
  static Map<Long, DomainKeyAttributes> find(Session session) throws PKCS11Exception {
    List<Map.Entry<Long, DomainKeyAttributes>> found = new ArrayList<>();
    for (long handle : session.findAllObjectsSingle(KeyTemplates.trustedTokenSecretKeys())) {
      String label = session.getStringAttrValue(handle, PKCS11Constants.CKA_LABEL);
      if (label != null && label.startsWith(DomainKeyAttributes.LABEL_PREFIX)) {
        found.add(Map.entry(handle, DomainKeyAttributes.read(session, handle)));
      }
    }
    found.sort(Comparator.comparing(e -> e.getValue().label(), TrustedDomainKeys::compareLabels));
    Map<Long, DomainKeyAttributes> sorted = new LinkedHashMap<>();
    found.forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }

  /**
   * By generation, then by kind: {@code domain-key/1}, {@code domain-key-asym/1}, {@code
   * domain-key/2}; {@code domain-key/2} before {@code domain-key/10}.
   */
  private static int compareLabels(String a, String b) {
    int byGeneration = generationOf(a).compareTo(generationOf(b));
    if (byGeneration != 0) {
      return byGeneration;
    }
    return Comparator.comparing((String label) -> label.replaceAll("\\d+$", "").length())
        .thenComparing(Comparator.naturalOrder())
        .compare(a, b);
  }

  private static BigInteger generationOf(String label) {
    String digits = label.replaceAll("^.*?(\\d*)$", "$1");
    return digits.isEmpty() ? BigInteger.ZERO : new BigInteger(digits);
  }
}
