package io.p11kms.server.service;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The rules of tags, as AWS KMS has them: a tag key of 1-128 characters that does not begin with
 * {@code aws:} (reserved), a value of 0-256 characters, at most 50 tags per key.
 */
final class Tags {
  static final int MAX_TAGS_PER_KEY = 50;
  static final int MAX_KEY_CHARS = 128;
  static final int MAX_VALUE_CHARS = 256;
  private static final String RESERVED_PREFIX = "aws:";

  private Tags() {}

  /**
   * The tags as a map, each checked; no tag key twice. An empty list is allowed only when {@code
   * required} is false.
   */
  static Map<String, String> require(List<Tag> tags, boolean required) {
    if (tags == null || tags.isEmpty()) {
      if (required) {
        throw KmsException.validation("Tags is required and must hold at least one tag");
      }
      return Map.of();
    }
    if (tags.size() > MAX_TAGS_PER_KEY) {
      throw limitExceeded();
    }
    Map<String, String> checked = new LinkedHashMap<>();
    for (Tag tag : tags) {
      String key = requireTagKey(tag.key());
      String value = tag.value() == null ? "" : tag.value();
      if (value.codePointCount(0, value.length()) > MAX_VALUE_CHARS) {
        throw KmsException.validation("TagValue must be 0-256 characters");
      }
      if (checked.put(key, value) != null) {
        throw KmsException.validation("TagKey '" + key + "' is given more than once");
      }
    }
    return checked;
  }

  /** UntagResource's TagKeys: at least one, each a valid tag key. */
  static List<String> requireTagKeys(Collection<String> tagKeys) {
    if (tagKeys == null || tagKeys.isEmpty()) {
      throw KmsException.validation("TagKeys is required and must hold at least one tag key");
    }
    if (tagKeys.size() > MAX_TAGS_PER_KEY) {
      throw KmsException.validation("TagKeys must hold at most 50 tag keys");
    }
    return tagKeys.stream().map(Tags::requireTagKey).toList();
  }

  static String requireTagKey(String key) {
    if (key == null || key.isEmpty()) {
      throw KmsException.validation("TagKey must be 1-128 characters, was empty");
    }
    if (key.codePointCount(0, key.length()) > MAX_KEY_CHARS) {
      throw KmsException.validation("TagKey must be 1-128 characters");
    }
    if (key.toLowerCase(Locale.ROOT).startsWith(RESERVED_PREFIX)) {
      throw KmsException.validation("TagKey must not begin with aws: (reserved for AWS use)");
    }
    return key;
  }

  static KmsException limitExceeded() {
    return new KmsException(
        KmsError.LIMIT_EXCEEDED, "A key can have at most " + MAX_TAGS_PER_KEY + " tags");
  }
}
