package io.p11kms.server.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.config.KeyArns;
import io.p11kms.server.crypto.CiphertextBlob;
import io.p11kms.server.crypto.MalformedCiphertextException;
import io.p11kms.server.store.KeyRecord;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import io.p11kms.server.store.KeyVersionRecord;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ciphertext blob of a request is read once: the access check and the operation behind it each
 * get their own copy of the request's bytes, and the second gets the blob the first read. The key's
 * ARN is made once per request, from the key read the request made already.
 */
class KeyLookupTest {
  private final KeyLookup lookup =
      new KeyLookup(null, null, "111122223333", java.util.Optional::empty);

  @Test
  void sameBytesInAnotherArray_getTheBlobReadBefore() throws Exception {
    byte[] bytes = blob(UUID.randomUUID());

    CiphertextBlob first = lookup.ciphertext(bytes);

    assertThat(lookup.ciphertext(bytes.clone())).isSameAs(first);
    assertThat(first).isEqualTo(CiphertextBlob.parse(bytes));
  }

  @Test
  void otherBytes_areReadAfresh() throws Exception {
    UUID keyId = UUID.randomUUID();
    byte[] bytes = blob(keyId);
    CiphertextBlob first = lookup.ciphertext(bytes);
    byte[] other = bytes.clone();
    other[other.length - 1] ^= 1;

    CiphertextBlob second = lookup.ciphertext(other);

    assertThat(second).isNotSameAs(first).isEqualTo(CiphertextBlob.parse(other));
    assertThat(lookup.ciphertext(blob(UUID.randomUUID())).keyId()).isNotEqualTo(keyId);
  }

  @Test
  void malformedBytes_failEachTime_andLeaveTheBlobReadBefore() throws Exception {
    byte[] bytes = blob(UUID.randomUUID());
    CiphertextBlob first = lookup.ciphertext(bytes);
    byte[] malformed = Arrays.copyOf(bytes, CiphertextBlob.minLength() - 1);

    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> lookup.ciphertext(malformed))
          .isInstanceOf(MalformedCiphertextException.class);
    }
    assertThat(lookup.ciphertext(bytes.clone())).isSameAs(first);
  }

  @Test
  void arn_isMadeOnce_fromTheReadOfAnyVersion(@TempDir Path temp) {
    AtomicInteger reads = new AtomicInteger();
    KeyStore store = countingKeyReads(KeyStores.open("jdbc:sqlite:" + temp.resolve("k.db")), reads);
    try {
      UUID keyId = UUID.randomUUID();
      KeyVersionRecord version =
          new KeyVersionRecord(keyId, UUID.randomUUID(), 1, Instant.now(), 1, 1, new byte[40]);
      store.createKey(
          new KeyRecord(
              keyId,
              Instant.now(),
              "",
              "ENCRYPT_DECRYPT",
              "SYMMETRIC_DEFAULT",
              "ENABLED",
              "AWS_KMS",
              null),
          version);
      KeyArns arns = new KeyArns("aws", "local-1", "111122223333");
      KeyLookup request =
          new KeyService(null, store, arns, Clock.systemUTC()).lookup("111122223333");
      // A Decrypt reads the version its ciphertext names; the ARN needs no read of its own.
      request.find(keyId, version.versionId());

      String arn = request.arn(keyId);

      assertThat(arn).isEqualTo("arn:aws:kms:local-1:111122223333:key/" + keyId);
      assertThat(request.arn(keyId)).isSameAs(arn);
      assertThat(request.key(keyId).map(KeyRecord::keyId)).contains(keyId);
      assertThat(reads).hasValue(1);
      // A key that does not exist is named in the default account, and read once too.
      UUID unknown = UUID.randomUUID();
      assertThat(request.arn(unknown)).isEqualTo(arns.keyArn(unknown));
      assertThat(request.arn(unknown)).isSameAs(request.arn(unknown));
      assertThat(reads).hasValue(2);
    } finally {
      store.close();
    }
  }

  /** {@code store}, counting its key reads ({@link KeyStore#findKeyInUse}) in {@code reads}. */
  private static KeyStore countingKeyReads(KeyStore store, AtomicInteger reads) {
    return (KeyStore)
        Proxy.newProxyInstance(
            KeyStore.class.getClassLoader(),
            new Class<?>[] {KeyStore.class},
            (proxy, method, args) -> {
              if (method.getName().equals("findKeyInUse")) {
                reads.incrementAndGet();
              }
              try {
                return method.invoke(store, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  private static byte[] blob(UUID keyId) {
    byte[] salt = new byte[CiphertextBlob.SALT_LENGTH];
    byte[] iv = new byte[CiphertextBlob.IV_LENGTH];
    Arrays.fill(iv, (byte) 7);
    byte[] sealed = new byte[40];
    Arrays.fill(sealed, (byte) 3);
    return new CiphertextBlob(keyId, UUID.randomUUID(), 1, salt, iv, sealed).toBytes();
  }
}
