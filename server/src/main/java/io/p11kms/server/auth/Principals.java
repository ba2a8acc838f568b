package io.p11kms.server.auth;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

/**
 * The caller's principal: a client certificate's first SAN URI, else its subject DN (RFC 2253); on
 * the loopback plaintext listener, {@link #LOCAL}. Key policies name principals by this string (see
 * {@link KeyPolicy}).
 */
public final class Principals {
  /** The fixed principal of every call on the loopback plaintext listener (development only). */
  public static final String LOCAL = "local:developer";

  private static final int SAN_URI = 6;

  private Principals() {}

  /** The principal a client certificate names. */
  public static String of(X509Certificate certificate) {
    try {
      Collection<List<?>> names = certificate.getSubjectAlternativeNames();
      if (names != null) {
        for (List<?> name : names) {
          if (name.size() >= 2 && Integer.valueOf(SAN_URI).equals(name.get(0))) {
            return String.valueOf(name.get(1));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // Fall back to the subject.
    }
    return certificate.getSubjectX500Principal().getName();
  }
}
