package io.p11kms.server.xks;

import java.security.cert.X509Certificate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/** The common name of a client certificate's subject. */
final class ClientNames {
  private ClientNames() {}

  /** Whether {@code certificate} (null: none) has a subject CN equal to {@code commonName}. */
  static boolean hasCommonName(X509Certificate certificate, String commonName) {
    if (certificate == null) {
      return false;
    }
    try {
      for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN") && commonName.equals(rdn.getValue().toString())) {
          return true;
        }
      }
    } catch (InvalidNameException e) {
      return false;
    }
    return false;
  }
}
