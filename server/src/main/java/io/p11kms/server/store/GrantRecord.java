package io.p11kms.server.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A grant as stored: who may do which operations on a key, under which encryption-context
 * constraints, and who may retire it.
 *
 * @param operations operation names without the {@code kms:} prefix, such as {@code Encrypt}
 * @param contextEquals the encryption context must equal this map, when not empty
 * @param contextSubset the encryption context must include this map, when not empty
 * @param retiring the retiring principal, or null
 */
public record GrantRecord(
    String grantId,
    UUID keyId,
    String name,
    String grantee,
    String retiring,
    List<String> operations,
    Map<String, String> contextEquals,
    Map<String, String> contextSubset,
    String grantToken,
    Instant createdAt) {
  public GrantRecord {
    operations = List.copyOf(operations);
    contextEquals = Map.copyOf(contextEquals);
    contextSubset = Map.copyOf(contextSubset);
  }
}
