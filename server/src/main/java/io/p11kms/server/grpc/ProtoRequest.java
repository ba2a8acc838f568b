package io.p11kms.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MapEntry;
import com.google.protobuf.Message;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.service.Operation;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A request message as the service's {@link OperationRequest}: its fields read by their names in
 * {@code kms.proto}, which follow AWS's parameter names (ReEncrypt's source fields stand for KeyId,
 * EncryptionContext and EncryptionAlgorithm).
 */
final class ProtoRequest implements OperationRequest {
  private final Message message;
  private final boolean reEncrypt;

  ProtoRequest(Operation op, Message message) {
    this.message = message;
    this.reEncrypt = op == Operation.RE_ENCRYPT;
  }

  @Override
  public String keyId() {
    return string(reEncrypt ? "source_key_id" : "key_id");
  }

  @Override
  public Map<String, String> encryptionContext() {
    return map(reEncrypt ? "source_encryption_context" : "encryption_context");
  }

  @Override
  public byte[] ciphertextBlob() {
    FieldDescriptor f = field("ciphertext_blob");
    return f == null ? NO_BYTES : ((ByteString) message.getField(f)).toByteArray();
  }

  @Override
  public boolean asymmetricAlgorithm() {
    FieldDescriptor f = field(reEncrypt ? "source_encryption_algorithm" : "encryption_algorithm");
    if (f == null || f.getJavaType() != FieldDescriptor.JavaType.ENUM) {
      return false;
    }
    int number = ((EnumValueDescriptor) message.getField(f)).getNumber();
    return number != EncryptionAlgorithmSpec.ENCRYPTION_ALGORITHM_SPEC_UNSPECIFIED_VALUE
        && number != EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM_VALUE;
  }

  @Override
  public String destinationKeyId() {
    return string("destination_key_id");
  }

  @Override
  public Map<String, String> destinationEncryptionContext() {
    return map("destination_encryption_context");
  }

  @Override
  public String aliasName() {
    return string("alias_name");
  }

  @Override
  public String targetKeyId() {
    return string("target_key_id");
  }

  @Override
  @SuppressWarnings("unchecked")
  public List<String> grantTokens() {
    FieldDescriptor f = field("grant_tokens");
    return f == null || !f.isRepeated() ? List.of() : (List<String>) message.getField(f);
  }

  @Override
  public String policy() {
    return string("policy");
  }

  private FieldDescriptor field(String name) {
    return FIELDS.computeIfAbsent(message.getDescriptorForType(), ProtoRequest::byName).get(name);
  }

  /**
   * Each request type's fields by name, read once: {@link Descriptor#findFieldByName} builds the
   * field's full name and looks it up in the file's pool on every call.
   */
  private static final Map<Descriptor, Map<String, FieldDescriptor>> FIELDS =
      new ConcurrentHashMap<>();

  private static Map<String, FieldDescriptor> byName(Descriptor type) {
    Map<String, FieldDescriptor> fields = new HashMap<>();
    for (FieldDescriptor f : type.getFields()) {
      fields.put(f.getName(), f);
    }
    return Map.copyOf(fields);
  }

  private String string(String name) {
    FieldDescriptor f = field(name);
    return f == null || f.getJavaType() != FieldDescriptor.JavaType.STRING
        ? ""
        : (String) message.getField(f);
  }

  /** A {@code map<string, string>} field; empty when the message has none. */
  private Map<String, String> map(String name) {
    FieldDescriptor f = field(name);
    if (f == null || !f.isMapField()) {
      return Map.of();
    }
    List<?> entries = (List<?>) message.getField(f);
    if (entries.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Object entry : entries) {
      MapEntry<?, ?> e = (MapEntry<?, ?>) entry;
      out.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
    }
    return out;
  }
}
