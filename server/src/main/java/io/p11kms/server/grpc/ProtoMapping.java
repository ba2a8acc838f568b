package io.p11kms.server.grpc;

import com.google.protobuf.Timestamp;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.proto.v1.ExpirationModelType;
import io.p11kms.proto.v1.KeyManager;
import io.p11kms.proto.v1.MacAlgorithmSpec;
import io.p11kms.proto.v1.Origin;
import io.p11kms.proto.v1.SigningAlgorithmSpec;
import io.p11kms.proto.v1.WrappingAlgorithmSpec;
import io.p11kms.server.service.CreateKeyRequest;
import io.p11kms.server.service.DataKeySpec;
import io.p11kms.server.service.EncryptionAlgorithm;
import io.p11kms.server.service.ExpirationModel;
import io.p11kms.server.service.KeyMetadata;
import io.p11kms.server.service.KeySpec;
import io.p11kms.server.service.KeyUsage;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.MacAlgorithm;
import io.p11kms.server.service.MessageType;
import io.p11kms.server.service.MultiRegionConfiguration;
import io.p11kms.server.service.MultiRegionService;
import io.p11kms.server.service.SigningAlgorithm;
import io.p11kms.server.service.Tag;
import io.p11kms.server.service.WrappingAlgorithm;
import java.time.Instant;
import java.util.List;

/** Between the wire's messages and enums and the service's. */
final class ProtoMapping {
  private ProtoMapping() {}

  static io.p11kms.proto.v1.KeyMetadata keyMetadata(KeyMetadata m) {
    var builder =
        io.p11kms.proto.v1.KeyMetadata.newBuilder()
            .setKeyId(io.p11kms.server.config.KeyArns.keyIdText(m.keyId()))
            .setArn(m.arn())
            .setCreationDate(timestamp(m.creationDate()))
            .setEnabled(m.enabled())
            .setDescription(m.description())
            .setKeyUsage(io.p11kms.proto.v1.KeyUsage.valueOf(m.keyUsage().name()))
            .setKeySpec(io.p11kms.proto.v1.KeySpec.valueOf(m.keySpec().name()))
            .setKeyState(io.p11kms.proto.v1.KeyState.valueOf(m.keyState().name()))
            .setOrigin(Origin.valueOf(m.origin().name()))
            .setKeyManager(KeyManager.valueOf(m.keyManager().name()))
            .setAwsAccountId(m.account());
    m.encryptionAlgorithms().forEach(a -> builder.addEncryptionAlgorithms(encryptionAlgorithm(a)));
    m.signingAlgorithms().forEach(a -> builder.addSigningAlgorithms(signingAlgorithm(a)));
    m.macAlgorithms().forEach(a -> builder.addMacAlgorithms(macAlgorithm(a)));
    m.deletionDate().ifPresent(d -> builder.setDeletionDate(timestamp(d)));
    m.pendingDeletionWindowInDays().ifPresent(builder::setPendingDeletionWindowInDays);
    m.expirationModel()
        .ifPresent(e -> builder.setExpirationModel(ExpirationModelType.valueOf(e.name())));
    m.validTo().ifPresent(t -> builder.setValidTo(timestamp(t)));
    builder.setMultiRegion(m.multiRegion());
    m.multiRegionConfiguration()
        .ifPresent(c -> builder.setMultiRegionConfiguration(multiRegionConfiguration(c)));
    return builder.build();
  }

  private static io.p11kms.proto.v1.MultiRegionConfiguration multiRegionConfiguration(
      MultiRegionConfiguration c) {
    var builder =
        io.p11kms.proto.v1.MultiRegionConfiguration.newBuilder()
            .setMultiRegionKeyType(io.p11kms.proto.v1.MultiRegionKeyType.valueOf(c.keyType()))
            .setPrimaryKey(multiRegionKey(c.primaryKey()));
    c.replicaKeys().forEach(r -> builder.addReplicaKeys(multiRegionKey(r)));
    return builder.build();
  }

  private static io.p11kms.proto.v1.MultiRegionKey multiRegionKey(
      MultiRegionConfiguration.RegionKey key) {
    return io.p11kms.proto.v1.MultiRegionKey.newBuilder()
        .setArn(key.arn())
        .setRegion(key.region())
        .build();
  }

  /** ReplicateKey's answer. */
  static io.p11kms.proto.v1.ReplicateKeyResponse replicated(MultiRegionService.Replicated r) {
    var builder =
        io.p11kms.proto.v1.ReplicateKeyResponse.newBuilder()
            .setReplicaKeyMetadata(keyMetadata(r.replicaKeyMetadata()));
    if (r.replicaPolicy() != null) {
      builder.setReplicaPolicy(r.replicaPolicy());
    }
    r.replicaTags().forEach(t -> builder.addReplicaTags(tag(t)));
    return builder.build();
  }

  /** CreateKey's request values. */
  static CreateKeyRequest createKey(io.p11kms.proto.v1.CreateKeyRequest request) {
    return new CreateKeyRequest(
        request.getDescription(),
        keyUsage(request.getKeyUsage()),
        keySpec(request.getKeySpec()),
        tags(request.getTagsList()),
        origin(request.getOrigin()),
        request.getMultiRegion());
  }

  static List<Tag> tags(List<io.p11kms.proto.v1.Tag> tags) {
    return tags.stream().map(t -> new Tag(t.getTagKey(), t.getTagValue())).toList();
  }

  static io.p11kms.proto.v1.Tag tag(Tag tag) {
    return io.p11kms.proto.v1.Tag.newBuilder()
        .setTagKey(tag.key())
        .setTagValue(tag.value())
        .build();
  }

  static KeyUsage keyUsage(io.p11kms.proto.v1.KeyUsage usage) {
    return switch (usage) {
      case KEY_USAGE_UNSPECIFIED -> null;
      case UNRECOGNIZED -> throw invalidEnum("KeyUsage");
      default -> KeyUsage.valueOf(usage.name());
    };
  }

  /** CreateKey's KeySpec, GenerateDataKeyPair's KeyPairSpec ({@code parameter}). */
  static KeySpec keySpec(io.p11kms.proto.v1.KeySpec spec, String parameter) {
    return switch (spec) {
      case KEY_SPEC_UNSPECIFIED -> null;
      case UNRECOGNIZED -> throw invalidEnum(parameter);
      default -> KeySpec.valueOf(spec.name());
    };
  }

  static KeySpec keySpec(io.p11kms.proto.v1.KeySpec spec) {
    return keySpec(spec, "KeySpec");
  }

  static io.p11kms.proto.v1.KeySpec keySpec(KeySpec spec) {
    return io.p11kms.proto.v1.KeySpec.valueOf(spec.name());
  }

  static io.p11kms.proto.v1.KeyUsage keyUsage(KeyUsage usage) {
    return io.p11kms.proto.v1.KeyUsage.valueOf(usage.name());
  }

  /** Null when not given (SYMMETRIC_DEFAULT then, as AWS KMS). */
  static EncryptionAlgorithm encryptionAlgorithm(EncryptionAlgorithmSpec spec, String parameter) {
    return switch (spec) {
      case ENCRYPTION_ALGORITHM_SPEC_UNSPECIFIED -> null;
      case SYMMETRIC_DEFAULT_ALGORITHM -> EncryptionAlgorithm.SYMMETRIC_DEFAULT;
      case UNRECOGNIZED -> throw invalidEnum(parameter);
      default -> EncryptionAlgorithm.valueOf(spec.name());
    };
  }

  static EncryptionAlgorithmSpec encryptionAlgorithm(EncryptionAlgorithm algorithm) {
    return algorithm == EncryptionAlgorithm.SYMMETRIC_DEFAULT
        ? EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM
        : EncryptionAlgorithmSpec.valueOf(algorithm.name());
  }

  /** Null when not given: the service says it is required. */
  static SigningAlgorithm signingAlgorithm(SigningAlgorithmSpec spec) {
    return switch (spec) {
      case SIGNING_ALGORITHM_SPEC_UNSPECIFIED -> null;
      case UNRECOGNIZED -> throw invalidEnum("SigningAlgorithm");
      default -> SigningAlgorithm.valueOf(spec.name());
    };
  }

  static SigningAlgorithmSpec signingAlgorithm(SigningAlgorithm algorithm) {
    return SigningAlgorithmSpec.valueOf(algorithm.name());
  }

  static MacAlgorithm macAlgorithm(MacAlgorithmSpec spec) {
    return switch (spec) {
      case MAC_ALGORITHM_SPEC_UNSPECIFIED -> null;
      case UNRECOGNIZED -> throw invalidEnum("MacAlgorithm");
      default -> MacAlgorithm.valueOf(spec.name());
    };
  }

  static MacAlgorithmSpec macAlgorithm(MacAlgorithm algorithm) {
    return MacAlgorithmSpec.valueOf(algorithm.name());
  }

  /** Null when not given: RAW. */
  static MessageType messageType(io.p11kms.proto.v1.MessageType type) {
    return switch (type) {
      case MESSAGE_TYPE_UNSPECIFIED -> null;
      case UNRECOGNIZED -> throw invalidEnum("MessageType");
      default -> MessageType.valueOf(type.name());
    };
  }

  static DataKeySpec dataKeySpec(io.p11kms.proto.v1.DataKeySpec spec) {
    return switch (spec) {
      case DATA_KEY_SPEC_UNSPECIFIED -> null;
      case AES_128 -> DataKeySpec.AES_128;
      case AES_256 -> DataKeySpec.AES_256;
      default -> throw invalidEnum("KeySpec");
    };
  }

  /** CreateKey's Origin; null when not given (AWS_KMS then). */
  static io.p11kms.server.service.Origin origin(Origin origin) {
    return switch (origin) {
      case ORIGIN_UNSPECIFIED -> null;
      case UNRECOGNIZED -> throw invalidEnum("Origin");
      default -> io.p11kms.server.service.Origin.valueOf(origin.name());
    };
  }

  /** Null when not given: the service says it is required. */
  static WrappingAlgorithm wrappingAlgorithm(WrappingAlgorithmSpec spec) {
    return switch (spec) {
      case WRAPPING_ALGORITHM_SPEC_UNSPECIFIED -> null;
      case WRAPPING_RSAES_OAEP_SHA_1 -> WrappingAlgorithm.RSAES_OAEP_SHA_1;
      case WRAPPING_RSAES_OAEP_SHA_256 -> WrappingAlgorithm.RSAES_OAEP_SHA_256;
      case RSA_AES_KEY_WRAP_SHA_1 -> WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_1;
      case RSA_AES_KEY_WRAP_SHA_256 -> WrappingAlgorithm.RSA_AES_KEY_WRAP_SHA_256;
      case UNRECOGNIZED -> throw invalidEnum("WrappingAlgorithm");
    };
  }

  /** Null when not given (KEY_MATERIAL_EXPIRES then, as AWS KMS). */
  static ExpirationModel expirationModel(ExpirationModelType type) {
    return switch (type) {
      case EXPIRATION_MODEL_TYPE_UNSPECIFIED -> null;
      case UNRECOGNIZED -> throw invalidEnum("ExpirationModel");
      default -> ExpirationModel.valueOf(type.name());
    };
  }

  static Instant instant(Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }

  static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  private static KmsException invalidEnum(String parameter) {
    return new KmsException(KmsError.VALIDATION, parameter + " has a value that is not valid");
  }
}
