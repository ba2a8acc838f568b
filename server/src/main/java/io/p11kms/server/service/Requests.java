package io.p11kms.server.service;

import io.p11kms.server.crypto.EncryptionContextEncoder;
import java.util.Map;

/**
 * The input rules of AWS KMS, checked before any token or store call. Each failure is a {@code
 * ValidationException} whose message names the parameter and the rule.
 */
final class Requests {
  static final int MAX_PLAINTEXT_BYTES = 4096;
  static final int MAX_CIPHERTEXT_BYTES = 6144;
  static final int MAX_DATA_KEY_BYTES = 1024;
  static final int MAX_RANDOM_BYTES = 1024;
  static final int MAX_DESCRIPTION_CHARS = 8192;
  static final int MAX_KEY_ID_CHARS = 2048;
  static final int MAX_ENCRYPTION_CONTEXT_BYTES = 8192;
  static final int MAX_LIST_LIMIT = 1000;
  static final int DEFAULT_LIST_LIMIT = 100;
  static final int MAX_ALIAS_LIST_LIMIT = 100;
  static final int DEFAULT_ALIAS_LIST_LIMIT = 50;
  static final int MAX_TAG_LIST_LIMIT = 50;
  static final int MIN_PENDING_WINDOW_DAYS = 7;
  static final int MAX_PENDING_WINDOW_DAYS = 30;
  static final int DEFAULT_PENDING_WINDOW_DAYS = 30;

  private Requests() {}

  static String requireKeyId(String keyId, String parameter) {
    if (keyId == null || keyId.isEmpty()) {
      throw KmsException.validation(parameter + " is required");
    }
    if (keyId.length() > MAX_KEY_ID_CHARS) {
      throw KmsException.validation(
          parameter + " must be at most " + MAX_KEY_ID_CHARS + " characters");
    }
    return keyId;
  }

  static byte[] requirePlaintext(byte[] plaintext) {
    if (plaintext == null || plaintext.length == 0) {
      throw KmsException.validation("Plaintext is required and must be 1-4096 bytes");
    }
    if (plaintext.length > MAX_PLAINTEXT_BYTES) {
      throw KmsException.validation(
          "Plaintext must be 1-4096 bytes, was " + plaintext.length + " bytes");
    }
    return plaintext;
  }

  static byte[] requireCiphertext(byte[] blob) {
    if (blob == null || blob.length == 0) {
      throw KmsException.validation("CiphertextBlob is required");
    }
    if (blob.length > MAX_CIPHERTEXT_BYTES) {
      throw KmsException.validation(
          "CiphertextBlob must be 1-6144 bytes, was " + blob.length + " bytes");
    }
    return blob;
  }

  /** Keys must be non-empty; the canonical encoding must fit in 8 KiB. */
  static Map<String, String> requireEncryptionContext(
      Map<String, String> context, String parameter) {
    if (context == null) {
      return Map.of();
    }
    for (Map.Entry<String, String> pair : context.entrySet()) {
      if (pair.getKey() == null || pair.getKey().isEmpty()) {
        throw KmsException.validation(parameter + " keys must not be empty");
      }
      if (pair.getValue() == null) {
        throw KmsException.validation(parameter + " values must not be null");
      }
    }
    if (EncryptionContextEncoder.encode(context).length > MAX_ENCRYPTION_CONTEXT_BYTES) {
      throw KmsException.validation(
          parameter + " must encode to at most " + MAX_ENCRYPTION_CONTEXT_BYTES + " bytes");
    }
    return context;
  }

  static String requireDescription(String description) {
    if (description == null) {
      return "";
    }
    if (description.length() > MAX_DESCRIPTION_CHARS) {
      throw KmsException.validation(
          "Description must be at most " + MAX_DESCRIPTION_CHARS + " characters");
    }
    return description;
  }

  /** Exactly one of KeySpec and NumberOfBytes (1-1024), as GenerateDataKey requires. */
  static int dataKeyLength(DataKeySpec keySpec, Integer numberOfBytes) {
    if (keySpec != null && numberOfBytes != null) {
      throw KmsException.validation("Specify either KeySpec or NumberOfBytes, not both");
    }
    if (keySpec != null) {
      return keySpec.bytes();
    }
    if (numberOfBytes == null) {
      throw KmsException.validation("Specify either KeySpec or NumberOfBytes");
    }
    if (numberOfBytes < 1 || numberOfBytes > MAX_DATA_KEY_BYTES) {
      throw KmsException.validation("NumberOfBytes must be 1-1024, was " + numberOfBytes);
    }
    return numberOfBytes;
  }

  static int randomLength(Integer numberOfBytes) {
    if (numberOfBytes == null) {
      throw KmsException.validation("NumberOfBytes is required");
    }
    if (numberOfBytes < 1 || numberOfBytes > MAX_RANDOM_BYTES) {
      throw KmsException.validation("NumberOfBytes must be 1-1024, was " + numberOfBytes);
    }
    return numberOfBytes;
  }

  static int listLimit(Integer limit) {
    if (limit == null) {
      return DEFAULT_LIST_LIMIT;
    }
    if (limit < 1 || limit > MAX_LIST_LIMIT) {
      throw KmsException.validation("Limit must be 1-1000, was " + limit);
    }
    return limit;
  }

  static int aliasListLimit(Integer limit) {
    return limit(limit, MAX_ALIAS_LIST_LIMIT, DEFAULT_ALIAS_LIST_LIMIT);
  }

  static int tagListLimit(Integer limit) {
    return limit(limit, MAX_TAG_LIST_LIMIT, MAX_TAG_LIST_LIMIT);
  }

  private static int limit(Integer limit, int max, int byDefault) {
    if (limit == null) {
      return byDefault;
    }
    if (limit < 1 || limit > max) {
      throw KmsException.validation("Limit must be 1-" + max + ", was " + limit);
    }
    return limit;
  }

  /** ScheduleKeyDeletion's PendingWindowInDays: 7-30, 30 when not given. */
  static int pendingWindowDays(Integer days) {
    if (days == null) {
      return DEFAULT_PENDING_WINDOW_DAYS;
    }
    if (days < MIN_PENDING_WINDOW_DAYS || days > MAX_PENDING_WINDOW_DAYS) {
      throw KmsException.validation("PendingWindowInDays must be 7-30, was " + days);
    }
    return days;
  }
}
