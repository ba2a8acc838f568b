package io.p11kms.server.xks;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.p11kms.server.auth.KeyPolicy;
import io.p11kms.server.service.Operation;
import io.p11kms.server.service.XksDecryptInput;
import io.p11kms.server.service.XksEncryptInput;
import io.p11kms.server.service.XksEncrypted;
import io.p11kms.server.service.XksKeyMetadata;
import java.io.IOException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The XKS proxy API's JSON: request bodies to {@link XksRequest}, results and errors to compact
 * one-line JSON. A body that is not one JSON object, a missing or empty requestMetadata, a missing
 * required requestMetadata field, a field of the wrong type or a value that is not Base64 is a
 * {@link XksException} of ValidationException.
 */
final class XksJson {
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  /** The longest requestMetadata value taken: ARNs are up to 2,048 characters. */
  static final int MAX_METADATA_VALUE = 2048;

  /** The longest errorMessage the specification allows is 511 characters. */
  private static final int MAX_ERROR_MESSAGE = 511;

  private static final Set<String> FOR_HEALTH = Set.of("kmsRequestId", "kmsOperation");
  private static final Set<String> FOR_METADATA =
      Set.of("awsPrincipalArn", "kmsOperation", "kmsRequestId");
  private static final Set<String> FOR_CRYPTO =
      Set.of("awsPrincipalArn", "kmsKeyArn", "kmsOperation", "kmsRequestId");

  private XksJson() {}

  /** The request of {@code route} in {@code body}. */
  static XksRequest request(XksRoute route, byte[] body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw invalid("the request body is not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw invalid("the request body must be a JSON object");
    }
    Map<String, String> metadata = metadata(root.get("requestMetadata"), route.operation());
    return switch (route.operation()) {
      case XKS_ENCRYPT ->
          new XksRequest(
              route.externalKeyId(),
              metadata,
              new XksEncryptInput(
                  base64(root, "plaintext"),
                  text(root, "encryptionAlgorithm"),
                  base64(root, "additionalAuthenticatedData"),
                  text(root, "ciphertextDataIntegrityValueAlgorithm")),
              null);
      case XKS_DECRYPT ->
          new XksRequest(
              route.externalKeyId(),
              metadata,
              null,
              new XksDecryptInput(
                  base64(root, "ciphertext"),
                  base64(root, "ciphertextMetadata"),
                  text(root, "encryptionAlgorithm"),
                  base64(root, "additionalAuthenticatedData"),
                  base64(root, "initializationVector"),
                  base64(root, "authenticationTag")));
      default -> new XksRequest(route.externalKeyId(), metadata, null, null);
    };
  }

  /**
   * The requestMetadata fields this proxy records and policies may name; other fields (the
   * specification lets AWS KMS add more) are accepted and left out.
   */
  private static Map<String, String> metadata(JsonNode node, Operation op) {
    if (node == null || node.isNull()) {
      throw invalid("requestMetadata is required");
    }
    if (!node.isObject()) {
      throw invalid("requestMetadata must be a JSON object");
    }
    if (node.isEmpty()) {
      throw invalid("requestMetadata must not be empty");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String field : KeyPolicy.XKS_METADATA) {
      JsonNode value = node.get(field);
      if (value == null || value.isNull()) {
        continue;
      }
      if (!value.isTextual()) {
        throw invalid("requestMetadata." + field + " must be a string");
      }
      if (value.asText().length() > MAX_METADATA_VALUE) {
        throw invalid(
            "requestMetadata." + field + " is over " + MAX_METADATA_VALUE + " characters");
      }
      out.put(field, value.asText());
    }
    Set<String> required =
        switch (op) {
          case XKS_GET_HEALTH_STATUS -> FOR_HEALTH;
          case XKS_GET_KEY_METADATA -> FOR_METADATA;
          default -> FOR_CRYPTO;
        };
    for (String field : required.stream().sorted().toList()) {
      if (!out.containsKey(field)) {
        throw invalid("requestMetadata." + field + " is required");
      }
    }
    return Map.copyOf(out);
  }

  private static String text(JsonNode root, String field) {
    JsonNode value = root.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      throw invalid(field + " must be a string");
    }
    return value.asText();
  }

  private static byte[] base64(JsonNode root, String field) {
    String value = text(root, field);
    if (value == null) {
      return null;
    }
    try {
      return Base64.getDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      throw invalid(field + " is not Base64");
    }
  }

  private static XksException invalid(String message) {
    return new XksException(XksError.VALIDATION, message);
  }

  static String health(
      int fleetSize, String model, String ekmVendor, String ekmId, String ekmModel, String status) {
    ObjectNode root = JSON.createObjectNode();
    root.put("xksProxyFleetSize", fleetSize);
    root.put("xksProxyVendor", "p11kms");
    root.put("xksProxyModel", model);
    root.put("ekmVendor", ekmVendor);
    ObjectNode ekm = root.putArray("ekmFleetDetails").addObject();
    ekm.put("id", ekmId);
    ekm.put("model", ekmModel);
    ekm.put("healthStatus", status);
    return write(root);
  }

  static String metadata(XksKeyMetadata m) {
    ObjectNode root = JSON.createObjectNode();
    root.put("keySpec", m.keySpec());
    m.keyUsage().forEach(root.putArray("keyUsage")::add);
    root.put("keyStatus", m.keyStatus());
    return write(root);
  }

  static String encrypted(XksEncrypted e) {
    Base64.Encoder b64 = Base64.getEncoder();
    ObjectNode root = JSON.createObjectNode();
    root.put("authenticationTag", b64.encodeToString(e.authenticationTag()));
    root.put("ciphertext", b64.encodeToString(e.ciphertext()));
    if (e.integrityValue() != null) {
      root.put("ciphertextDataIntegrityValue", b64.encodeToString(e.integrityValue()));
    }
    root.put("ciphertextMetadata", b64.encodeToString(e.ciphertextMetadata()));
    root.put("initializationVector", b64.encodeToString(e.initializationVector()));
    return write(root);
  }

  static String decrypted(byte[] plaintext) {
    ObjectNode root = JSON.createObjectNode();
    root.put("plaintext", Base64.getEncoder().encodeToString(plaintext));
    return write(root);
  }

  /**
   * {@code {"errorName":...,"errorMessage":...}}, the message cut to 511 printable ASCII characters
   * as the specification requires.
   */
  static String error(XksError error, String message) {
    ObjectNode root = JSON.createObjectNode();
    root.put("errorName", error.errorName());
    root.put("errorMessage", printable(message == null ? "" : message));
    return write(root);
  }

  static String printable(String message) {
    StringBuilder out = new StringBuilder(Math.min(message.length(), MAX_ERROR_MESSAGE));
    for (int i = 0; i < message.length() && out.length() < MAX_ERROR_MESSAGE; i++) {
      char c = message.charAt(i);
      out.append(c >= 0x20 && c <= 0x7e ? c : '?');
    }
    return out.toString();
  }

  private static String write(ObjectNode root) {
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a JSON response", e);
    }
  }
}
