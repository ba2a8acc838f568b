package io.p11kms.server.store;

/** One tag of a key. */
public record TagRecord(String tagKey, String tagValue) {
  public TagRecord {
    KeyRecord.requireNonNull(tagKey, "tag key");
    KeyRecord.requireNonNull(tagValue, "tag value");
  }
}
