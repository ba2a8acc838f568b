package io.p11kms.server.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * A key exposed to the external key store (XKS) proxy API: the external key id AWS KMS names it by,
 * the key, and what the XKS API may do with it (encrypt, decrypt, or both).
 *
 * @param externalKeyId 1-128 characters of {@code [A-Za-z0-9._-]}, unique on this proxy
 */
public record XksKeyRecord(
    String externalKeyId, UUID keyId, boolean encrypt, boolean decrypt, Instant createdAt) {
  /** What an external key id may be, as the XKS proxy API specification has it. */
  public static final Pattern EXTERNAL_KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  public XksKeyRecord {
    KeyRecord.requireNonNull(externalKeyId, "external key id");
    KeyRecord.requireNonNull(keyId, "key id");
    KeyRecord.requireNonNull(createdAt, "creation time");
    if (!EXTERNAL_KEY_ID.matcher(externalKeyId).matches()) {
      throw new IllegalArgumentException(
          "an external key id is 1-128 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
    }
    if (!encrypt && !decrypt) {
      throw new IllegalArgumentException("an exposed key allows ENCRYPT, DECRYPT or both");
    }
    createdAt = createdAt.truncatedTo(ChronoUnit.MICROS);
  }

  /** The usages as the XKS API names them: {@code ENCRYPT}, {@code DECRYPT}, in that order. */
  public List<String> usages() {
    List<String> out = new ArrayList<>(2);
    if (encrypt) {
      out.add("ENCRYPT");
    }
    if (decrypt) {
      out.add("DECRYPT");
    }
    return List.copyOf(out);
  }
}
