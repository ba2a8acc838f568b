package io.p11kms.it;

import io.p11kms.hsm.DataKeyPair;
import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.DigestAlgorithm;
import io.p11kms.hsm.HmacType;
import io.p11kms.hsm.Hsm;
import io.p11kms.hsm.ImportWrappingAlgorithm;
import io.p11kms.hsm.ImportWrappingKey;
import io.p11kms.hsm.KeyPairType;
import io.p11kms.hsm.PrivateKeyUsage;
import io.p11kms.hsm.RegionWrappedKey;
import io.p11kms.hsm.SignatureScheme;
import io.p11kms.hsm.TokenIdentity;
import io.p11kms.hsm.WrappedKey;
import io.p11kms.hsm.WrappedKeyPair;
import io.p11kms.hsm.domain.TransportKey;
import java.time.Instant;
import java.util.List;
import java.util.Set;
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
  public Derivation derivationFor(WrappedKey backingKey) {
    return token.derivationFor(backingKey);
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

  /** Read from the probe made at start-up: not a token call. */
  @Override
  public Set<KeyPairType> supportedKeyPairTypes() {
    return token.supportedKeyPairTypes();
  }

  @Override
  public WrappedKeyPair generateKeyPair(KeyPairType type, PrivateKeyUsage usage) {
    calls.incrementAndGet();
    return token.generateKeyPair(type, usage);
  }

  @Override
  public WrappedKey generateHmacKey(HmacType type) {
    calls.incrementAndGet();
    return token.generateHmacKey(type);
  }

  @Override
  public WrappedKey importHmacKey(byte[] value) {
    calls.incrementAndGet();
    return token.importHmacKey(value);
  }

  @Override
  public byte[] signDigest(
      WrappedKey privateKey,
      KeyPairType type,
      SignatureScheme scheme,
      DigestAlgorithm digest,
      byte[] digestValue) {
    calls.incrementAndGet();
    return token.signDigest(privateKey, type, scheme, digest, digestValue);
  }

  @Override
  public byte[] decryptOaep(
      WrappedKey privateKey, KeyPairType type, DigestAlgorithm oaepHash, byte[] ciphertext) {
    calls.incrementAndGet();
    return token.decryptOaep(privateKey, type, oaepHash, ciphertext);
  }

  @Override
  public byte[] generateMac(WrappedKey hmacKey, HmacType type, byte[] message) {
    calls.incrementAndGet();
    return token.generateMac(hmacKey, type, message);
  }

  @Override
  public DataKeyPair generateDataKeyPair(KeyPairType type) {
    calls.incrementAndGet();
    return token.generateDataKeyPair(type);
  }

  @Override
  public WrappedKey rewrapPrivateKey(
      WrappedKey ekt,
      KeyPairType typeOrNull,
      HmacType hmacOrNull,
      PrivateKeyUsage usageOrNull,
      int toGeneration) {
    calls.incrementAndGet();
    return token.rewrapPrivateKey(ekt, typeOrNull, hmacOrNull, usageOrNull, toGeneration);
  }

  @Override
  public void createSigningKeyIfAbsent(String label) {
    calls.incrementAndGet();
    token.createSigningKeyIfAbsent(label);
  }

  @Override
  public byte[] sign(String label, byte[] data) {
    calls.incrementAndGet();
    return token.sign(label, data);
  }

  @Override
  public ImportWrappingKey createImportWrappingKey(
      ImportWrappingAlgorithm algorithm, int modulusBits, Instant expiresAt) {
    calls.incrementAndGet();
    return token.createImportWrappingKey(algorithm, modulusBits, expiresAt);
  }

  @Override
  public WrappedKey importBackingKey(
      String wrappingKeyId, ImportWrappingAlgorithm algorithm, byte[] encryptedMaterial) {
    calls.incrementAndGet();
    return token.importBackingKey(wrappingKeyId, algorithm, encryptedMaterial);
  }

  @Override
  public boolean destroyImportWrappingKey(String wrappingKeyId) {
    calls.incrementAndGet();
    return token.destroyImportWrappingKey(wrappingKeyId);
  }

  @Override
  public int destroyExpiredImportWrappingKeys(Instant now) {
    calls.incrementAndGet();
    return token.destroyExpiredImportWrappingKeys(now);
  }

  @Override
  public boolean verify(String label, byte[] data, byte[] mac) {
    calls.incrementAndGet();
    return token.verify(label, data, mac);
  }

  @Override
  public List<byte[]> readPrivateData(String label) {
    calls.incrementAndGet();
    return token.readPrivateData(label);
  }

  @Override
  public void replacePrivateData(String label, byte[] value) {
    calls.incrementAndGet();
    token.replacePrivateData(label, value);
  }

  @Override
  public TransportKey regionTransportKey() {
    calls.incrementAndGet();
    return token.regionTransportKey();
  }

  @Override
  public RegionWrappedKey wrapForRegion(String region, WrappedKey ekt) {
    calls.incrementAndGet();
    return token.wrapForRegion(region, ekt);
  }

  @Override
  public WrappedKey receiveFromRegion(RegionWrappedKey sent) {
    calls.incrementAndGet();
    return token.receiveFromRegion(sent);
  }

  @Override
  public boolean isHealthy() {
    return token.isHealthy();
  }

  /** Read when the token was opened: not a token call. */
  @Override
  public TokenIdentity identity() {
    return token.identity();
  }

  @Override
  public void close() {
    token.close();
  }
}
