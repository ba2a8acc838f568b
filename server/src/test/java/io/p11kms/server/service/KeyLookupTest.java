package io.p11kms.server.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.server.crypto.CiphertextBlob;
import io.p11kms.server.crypto.MalformedCiphertextException;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The ciphertext blob of a request is read once: the access check and the operation behind it each
 * get their own copy of the request's bytes, and the second gets the blob the first read.
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

  private static byte[] blob(UUID keyId) {
    byte[] salt = new byte[CiphertextBlob.SALT_LENGTH];
    byte[] iv = new byte[CiphertextBlob.IV_LENGTH];
    Arrays.fill(iv, (byte) 7);
    byte[] sealed = new byte[40];
    Arrays.fill(sealed, (byte) 3);
    return new CiphertextBlob(keyId, UUID.randomUUID(), 1, salt, iv, sealed).toBytes();
  }
}
