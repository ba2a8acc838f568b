package io.p11kms.server.tls;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trusts a client certificate that chains to the configured CA (the JDK's PKIX check) and whose
 * subject has the one common name (CN) configured, such as {@code cks.kms.eu-west-1.amazonaws.com}
 * for AWS KMS; any other certificate fails the TLS handshake, before a request is read.
 */
public final class CommonNameTrustManager extends X509ExtendedTrustManager {
  private final X509ExtendedTrustManager ca;
  private final String commonName;

  private CommonNameTrustManager(X509ExtendedTrustManager ca, String commonName) {
    this.ca = ca;
    this.commonName = commonName;
  }

  /**
   * Trusts the CA certificates in the PEM file {@code caFile}, for subjects with {@code
   * commonName}.
   *
   * @throws IllegalArgumentException when the file cannot be read or holds no certificate
   */
  public static CommonNameTrustManager of(Path caFile, String commonName) {
    try (InputStream in = Files.newInputStream(caFile)) {
      KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
      anchors.load(null, null);
      int n = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        anchors.setCertificateEntry("ca-" + n++, c);
      }
      if (n == 0) {
        throw new IllegalArgumentException("no CA certificate in " + caFile);
      }
      TrustManagerFactory pkix = TrustManagerFactory.getInstance("PKIX");
      pkix.init(anchors);
      for (TrustManager tm : pkix.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x509) {
          return new CommonNameTrustManager(x509, commonName);
        }
      }
      throw new IllegalStateException("the JDK offers no X.509 trust manager");
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot read the client CA certificates from " + caFile + ": " + e.getClass().getName());
    }
  }

  /** Whether {@code certificate}'s subject has a CN equal to {@code commonName}. */
  static boolean hasCommonName(X509Certificate certificate, String commonName) {
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

  private void requireCommonName(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0 || !hasCommonName(chain[0], commonName)) {
      throw new CertificateException("the client certificate's subject is not the configured CN");
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    ca.checkClientTrusted(chain, authType);
    requireCommonName(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    ca.checkClientTrusted(chain, authType, socket);
    requireCommonName(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    ca.checkClientTrusted(chain, authType, engine);
    requireCommonName(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw new CertificateException("a server listener checks clients only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw new CertificateException("a server listener checks clients only");
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw new CertificateException("a server listener checks clients only");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return ca.getAcceptedIssuers();
  }
}
