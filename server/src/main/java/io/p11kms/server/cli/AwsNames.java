package io.p11kms.server.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * AWS KMS's names for the API's enum values, where the proto's differ: proto enum values share one
 * scope per package, so EncryptionAlgorithmSpec's {@code SYMMETRIC_DEFAULT} had to be renamed
 * (KeySpec has one), and WrappingAlgorithmSpec's OAEP values (EncryptionAlgorithmSpec has them),
 * and AWS spells key states in PascalCase. The client takes either name and prints AWS's, in its
 * help, in the JSON it prints, and in the JSON it reads.
 */
final class AwsNames {
  private static final Map<String, String> RENAMED =
      Map.of(
          "kms.v1.EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM", "SYMMETRIC_DEFAULT",
          "kms.v1.WrappingAlgorithmSpec.WRAPPING_RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_1",
          "kms.v1.WrappingAlgorithmSpec.WRAPPING_RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_256",
          "kms.v1.KeyState.ENABLED", "Enabled",
          "kms.v1.KeyState.DISABLED", "Disabled",
          "kms.v1.KeyState.PENDING_DELETION", "PendingDeletion",
          "kms.v1.KeyState.PENDING_IMPORT", "PendingImport",
          "kms.v1.KeyState.PENDING_REPLICA_DELETION", "PendingReplicaDeletion",
          "kms.v1.KeyState.UPDATING", "Updating");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectWriter PRETTY =
      JSON.writer(
          new DefaultPrettyPrinter()
              .withSeparators(
                  Separators.createDefaultInstance()
                      .withObjectFieldValueSpacing(Separators.Spacing.AFTER))
              .withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE));

  private AwsNames() {}

  /** AWS's name of {@code value}. */
  static String of(EnumValueDescriptor value) {
    return RENAMED.getOrDefault(value.getFullName(), value.getName());
  }

  /**
   * The value of {@code type} called {@code name}, by AWS's name or the proto's, ignoring case,
   * dashes and underscores ({@code SYMMETRIC_DEFAULT}, {@code Enabled}, {@code pending-deletion}).
   */
  static Optional<EnumValueDescriptor> parse(EnumDescriptor type, String name) {
    String wanted = folded(name);
    for (EnumValueDescriptor value : type.getValues()) {
      if (value.getNumber() != 0
          && (folded(of(value)).equals(wanted) || folded(value.getName()).equals(wanted))) {
        return Optional.of(value);
      }
    }
    return Optional.empty();
  }

  private static String folded(String name) {
    return name.trim().replace("_", "").replace("-", "").toUpperCase(Locale.ROOT);
  }

  /** {@code message} as JSON (proto field names), its enum values in AWS's spelling. */
  static String json(MessageOrBuilder message) throws InvalidProtocolBufferException {
    try {
      JsonNode tree = JSON.readTree(JsonFormat.printer().print(message));
      rename(
          tree,
          message.getDescriptorForType(),
          (type, name) -> {
            EnumValueDescriptor value = type.findValueByName(name);
            return value == null ? name : of(value);
          });
      return PRETTY.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the JSON printer's own output does not parse", e);
    }
  }

  /** Merges {@code json} into {@code builder}, reading AWS's enum names as well as the proto's. */
  static void merge(String json, Message.Builder builder) throws InvalidProtocolBufferException {
    JsonNode tree;
    try {
      tree = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new InvalidProtocolBufferException("not JSON: " + e.getOriginalMessage());
    }
    rename(
        tree,
        builder.getDescriptorForType(),
        (type, name) -> parse(type, name).map(EnumValueDescriptor::getName).orElse(name));
    JsonFormat.parser().merge(tree.toString(), builder);
  }

  /** Renames every enum value in {@code node}, a message of {@code type} in proto JSON. */
  private static void rename(
      JsonNode node, Descriptor type, BiFunction<EnumDescriptor, String, String> renaming) {
    if (!(node instanceof ObjectNode object)
        || type.getFile().getPackage().equals("google.protobuf")) {
      return;
    }
    for (FieldDescriptor field : type.getFields()) {
      for (String key : new String[] {field.getJsonName(), field.getName()}) {
        JsonNode value = object.get(key);
        if (value == null) {
          continue;
        }
        if (field.isMapField()) {
          FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
          if (value instanceof ObjectNode map) {
            for (Map.Entry<String, JsonNode> entry : map.properties()) {
              entry.setValue(renamed(entry.getValue(), valueField, renaming));
            }
          }
        } else if (value instanceof ArrayNode list) {
          for (int i = 0; i < list.size(); i++) {
            list.set(i, renamed(list.get(i), field, renaming));
          }
        } else {
          object.set(key, renamed(value, field, renaming));
        }
      }
    }
  }

  private static JsonNode renamed(
      JsonNode value, FieldDescriptor field, BiFunction<EnumDescriptor, String, String> renaming) {
    if (field.getJavaType() == FieldDescriptor.JavaType.ENUM && value.isTextual()) {
      return TextNode.valueOf(renaming.apply(field.getEnumType(), value.asText()));
    }
    if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      rename(value, field.getMessageType(), renaming);
    }
    return value;
  }
}
