package io.p11kms.hsm;

import io.p11kms.hsm.keys.AsymmetricChecks;
import io.p11kms.hsm.keys.KeyImports;
import io.p11kms.hsm.session.StepCalls;
import java.time.Instant;

/**
 * {@link KeyMaterialImport} over a PKCS#11 token: checks each request's arguments before any token
 * call and runs it through {@link KeyImports} as {@link StepCalls}.
 */
final class Pkcs11KeyImport implements KeyMaterialImport {
  private final StepCalls calls;
  private final KeyImports imports;

  Pkcs11KeyImport(StepCalls calls, KeyImports imports) {
    this.calls = calls;
    this.imports = imports;
  }

  @Override
  public ImportWrappingKey createImportWrappingKey(
      ImportWrappingAlgorithm algorithm, int modulusBits, Instant expiresAt) {
    AsymmetricChecks.require(algorithm != null, "a wrapping algorithm is required");
    AsymmetricChecks.require(
        modulusBits == 2048 || modulusBits == 3072 || modulusBits == 4096,
        "the wrapping key must be RSA 2048, 3072 or 4096 bits");
    AsymmetricChecks.require(expiresAt != null, "an expiry is required");
    return calls.run(
        "create import wrapping key",
        StepCalls.RSA_GENERATION_DEADLINE_FACTOR,
        (session, step) -> imports.create(session, step, algorithm, modulusBits, expiresAt));
  }

  @Override
  public WrappedKey importBackingKey(
      String wrappingKeyId, ImportWrappingAlgorithm algorithm, byte[] encryptedMaterial) {
    AsymmetricChecks.require(
        wrappingKeyId != null && algorithm != null && encryptedMaterial != null,
        "a wrapping key id, an algorithm and the encrypted material are required");
    return calls.run(
        "import key material",
        (session, step) ->
            imports.importBackingKey(session, step, wrappingKeyId, algorithm, encryptedMaterial));
  }

  @Override
  public boolean destroyImportWrappingKey(String wrappingKeyId) {
    return calls.run(
        "destroy import wrapping key", (session, step) -> imports.destroy(session, wrappingKeyId));
  }

  @Override
  public int destroyExpiredImportWrappingKeys(Instant now) {
    AsymmetricChecks.require(now != null, "a time is required");
    return calls.run(
        "destroy expired import wrapping keys",
        (session, step) -> imports.destroyExpired(session, now));
  }
}
