package io.p11kms.it;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made at test time in a directory: a CA, a server certificate for 127.0.0.1 and
 * localhost, and client certificates whose principal is a SAN URI. EC P-256 keys, PEM files (the
 * private keys PKCS#8), as the server's {@code tls.} keys expect.
 */
final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A certificate and its key, written to {@code cert} and {@code key}. */
  record Issued(Path cert, Path key, X509Certificate certificate, PrivateKey privateKey) {}

  private final Path dir;
  private final String name;
  private final KeyPair caKeys;
  private final X509Certificate ca;

  private TestPki(Path dir, String name) throws Exception {
    this.dir = dir;
    this.name = name;
    this.caKeys = keyPair();
    Instant now = Instant.now();
    X500Name subject = new X500Name("CN=" + name);
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            subject,
            BigInteger.valueOf(SERIAL.incrementAndGet()),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(Duration.ofDays(1))),
            subject,
            caKeys.getPublic());
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    this.ca = sign(b, caKeys.getPrivate());
    writePem(caFile(), "CERTIFICATE", ca.getEncoded());
  }

  /** A new CA named {@code name} with its certificate at {@code dir/name-ca.pem}. */
  static TestPki create(Path dir, String name) throws Exception {
    return new TestPki(dir, name);
  }

  Path caFile() {
    return dir.resolve(name + "-ca.pem");
  }

  /** The server's certificate: SAN DNS localhost and IP 127.0.0.1. */
  Issued server() throws Exception {
    return issue(
        "server",
        "CN=p11kms test server",
        new GeneralNames(
            new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(GeneralName.iPAddress, "127.0.0.1")
            }),
        Instant.now().minus(Duration.ofHours(1)),
        Instant.now().plus(Duration.ofDays(1)));
  }

  /**
   * A region's identity, served on its peer listener and presented to its peers: SAN DNS localhost
   * and IP 127.0.0.1 (its server name), and the SAN URI {@code principal}.
   */
  Issued region(String file, String principal) throws Exception {
    return issue(
        file,
        "CN=" + file,
        new GeneralNames(
            new GeneralName[] {
              new GeneralName(GeneralName.dNSName, "localhost"),
              new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
              new GeneralName(GeneralName.uniformResourceIdentifier, principal)
            }),
        Instant.now().minus(Duration.ofHours(1)),
        Instant.now().plus(Duration.ofDays(1)));
  }

  /** A client certificate whose principal is the SAN URI {@code principal}. */
  Issued client(String file, String principal) throws Exception {
    return client(
        file,
        principal,
        Instant.now().minus(Duration.ofHours(1)),
        Instant.now().plus(Duration.ofDays(1)));
  }

  /** As above, valid from {@code notBefore} to {@code notAfter}. */
  Issued client(String file, String principal, Instant notBefore, Instant notAfter)
      throws Exception {
    return issue(
        file,
        "CN=" + file,
        new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, principal)),
        notBefore,
        notAfter);
  }

  /**
   * A client's TLS context trusting this CA (which issued the server's certificate), with {@code
   * cert} as its certificate (null: none).
   */
  SSLContext clientContext(Issued cert) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyManagerFactory kmf = null;
    if (cert != null) {
      char[] password = "test".toCharArray();
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry(
          "client", cert.privateKey(), password, new Certificate[] {cert.certificate()});
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keys, password);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }

  private Issued issue(
      String file, String subject, GeneralNames names, Instant notBefore, Instant notAfter)
      throws Exception {
    KeyPair keys = keyPair();
    X509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            ca,
            BigInteger.valueOf(SERIAL.incrementAndGet()),
            Date.from(notBefore),
            Date.from(notAfter),
            new X500Name(subject),
            keys.getPublic());
    b.addExtension(Extension.subjectAlternativeName, false, names);
    b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    X509Certificate cert = sign(b, caKeys.getPrivate());
    Path certFile = dir.resolve(name + "-" + file + ".pem");
    Path keyFile = dir.resolve(name + "-" + file + ".key");
    writePem(certFile, "CERTIFICATE", cert.getEncoded());
    writePem(keyFile, "PRIVATE KEY", keys.getPrivate().getEncoded());
    return new Issued(certFile, keyFile, cert, keys.getPrivate());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuer)
      throws Exception {
    return new JcaX509CertificateConverter()
        .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer)));
  }

  private static KeyPair keyPair() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static void writePem(Path file, String type, byte[] der) throws Exception {
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    Files.writeString(
        file,
        "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n",
        StandardCharsets.US_ASCII);
  }
}
