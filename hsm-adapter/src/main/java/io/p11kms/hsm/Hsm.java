package io.p11kms.hsm;

/**
 * Everything the service asks of a PKCS#11 token, by job: {@link EnvelopeKeys} (backing keys and
 * AES-GCM), {@link AsymmetricKeys} (key pairs, HMAC keys, signing, RSA-OAEP, MACs), {@link
 * KeyMaterialImport} (imported key material), {@link RegionTransport} (backing keys sent to and
 * received from other regions) and {@link TokenAdministration} (health, the service's own signing
 * keys and data objects, domain key generations). Every key generation, wrap, derivation and
 * AES-GCM operation happens inside the token; what crosses these interfaces is wrapped key
 * material, public parameters, and the caller's own data.
 *
 * <p>A token adapter implements the interfaces of what it offers; callers take the narrowest one
 * they need.
 */
public interface Hsm
    extends EnvelopeKeys,
        AsymmetricKeys,
        KeyMaterialImport,
        RegionTransport,
        TokenAdministration,
        AutoCloseable {

  /** Closes the sessions and releases the library. */
  @Override
  void close();
}
