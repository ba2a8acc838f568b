package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Reads the KeyId parameter: a key id (UUID), a key ARN, an alias name ({@code alias/...}) or an
 * alias ARN. A string that is none of these is a {@code ValidationException}; a well-formed name
 * that this service does not hold is {@code NotFoundException}.
 */
final class KeyIdentifiers {
  private static final Pattern KEY_ID =
      Pattern.compile(
          "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
  private static final Pattern KEY_ARN =
      Pattern.compile("^arn:[a-z0-9-]{1,63}:kms:[a-z0-9-]{1,63}:[0-9]{12}:key/(.+)$");
  private static final Pattern ALIAS_NAME = Pattern.compile("^alias/[a-zA-Z0-9/_-]{1,250}$");
  private static final Pattern ALIAS_ARN =
      Pattern.compile("^arn:[a-z0-9-]{1,63}:kms:[a-z0-9-]{1,63}:[0-9]{12}:alias/.+$");

  private final KeyArns arns;

  KeyIdentifiers(KeyArns arns) {
    this.arns = arns;
  }

  /** Whether the string has the form of a key id: the only form some operations take. */
  static boolean isKeyId(String s) {
    return KEY_ID.matcher(s).matches();
  }

  /**
   * The key id that {@code keyId} names.
   *
   * @throws KmsException VALIDATION when malformed, NOT_FOUND when well formed but not ours
   */
  UUID resolve(String keyId, String parameter) {
    Requests.requireKeyId(keyId, parameter);
    if (isKeyId(keyId)) {
      return UUID.fromString(keyId);
    }
    var arn = KEY_ARN.matcher(keyId);
    if (arn.matches()) {
      if (!isKeyId(arn.group(1))) {
        throw KmsException.validation(parameter + " is not a valid key ARN");
      }
      Optional<UUID> ours = arns.parseKeyArn(keyId);
      return ours.orElseThrow(() -> KmsException.notFound("Key '" + keyId + "' does not exist"));
    }
    if (ALIAS_NAME.matcher(keyId).matches() || ALIAS_ARN.matcher(keyId).matches()) {
      // Aliases arrive with the key life-cycle work; until then no alias exists.
      throw KmsException.notFound("Alias '" + keyId + "' does not exist");
    }
    throw KmsException.validation(
        parameter + " must be a key id, key ARN, alias name or alias ARN");
  }
}
