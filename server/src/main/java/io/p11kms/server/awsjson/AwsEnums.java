package io.p11kms.server.awsjson;

import io.p11kms.server.service.KeyState;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import java.util.List;

/**
 * Enum members between the wire and the service. The service's enums carry AWS's value names
 * (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, ECDSA_SHA_256...) except the key states, which AWS spells
 * Enabled, Disabled, PendingDeletion and so on. A value that is not one of them is refused inside
 * the operation, as the gRPC front end refuses it, so that it is audited the same.
 */
final class AwsEnums {
  private AwsEnums() {}

  /** The constant of {@code type} named {@code value}; null when absent. */
  static <E extends Enum<E>> E parse(Class<E> type, String value, String member) {
    if (value == null || value.isEmpty()) {
      return null;
    }
    try {
      return Enum.valueOf(type, value);
    } catch (IllegalArgumentException e) {
      throw new KmsException(KmsError.VALIDATION, member + " has a value that is not valid");
    }
  }

  static String name(Enum<?> value) {
    return value == null ? null : value.name();
  }

  /** The names of {@code values}; null (left out) when there are none. */
  static List<String> names(List<? extends Enum<?>> values) {
    return values.isEmpty() ? null : values.stream().map(Enum::name).toList();
  }

  static String keyState(KeyState state) {
    return switch (state) {
      case ENABLED -> "Enabled";
      case DISABLED -> "Disabled";
      case PENDING_DELETION -> "PendingDeletion";
      case PENDING_IMPORT -> "PendingImport";
      case PENDING_REPLICA_DELETION -> "PendingReplicaDeletion";
      case UPDATING -> "Updating";
    };
  }
}
