package io.p11kms.it;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.WrappedKey;
import java.util.concurrent.atomic.AtomicLong;

/** A seam around the real token that counts the calls made to it; it fakes nothing. */
final class CountingHsm implements Hsm {
  private final Hsm token;
  private final AtomicLong calls = new AtomicLong();

  CountingHsm(Hsm token) {
    this.token = token;
  }

  long calls() {
    return calls.get();
  }

  @Override
  public Derivation preferredDerivation() {
    return token.preferredDerivation();
  }

  @Override
  public WrappedKey generateBackingKey() {
    calls.incrementAndGet();
    return token.generateBackingKey();
  }

  @Override
  public byte[] encrypt(
      WrappedKey backingKey,
      Derivation derivation,
      byte[] salt,
      byte[] iv,
      byte[] aad,
      byte[] plaintext) {
    calls.incrementAndGet();
    return token.encrypt(backingKey, derivation, salt, iv, aad, plaintext);
  }

  @Override
  public byte[] decrypt(
      WrappedKey backingKey,
      Derivation derivation,
      byte[] salt,
      byte[] iv,
      byte[] aad,
      byte[] ciphertextAndTag) {
    calls.incrementAndGet();
    return token.decrypt(backingKey, derivation, salt, iv, aad, ciphertextAndTag);
  }

  @Override
  public int currentDomainKeyGeneration() {
    calls.incrementAndGet();
    return token.currentDomainKeyGeneration();
  }

  @Override
  public WrappedKey rewrap(WrappedKey ekt, int toGeneration) {
    calls.incrementAndGet();
    return token.rewrap(ekt, toGeneration);
  }

  @Override
  public byte[] generateRandom(int numberOfBytes) {
    calls.incrementAndGet();
    return token.generateRandom(numberOfBytes);
  }

  @Override
  public boolean isHealthy() {
    return token.isHealthy();
  }

  @Override
  public void close() {
    token.close();
  }
}
