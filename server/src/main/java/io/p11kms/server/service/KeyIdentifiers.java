package io.p11kms.server.service;

import io.p11kms.server.config.KeyArns;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads KeyId parameters. Most operations take a key id (UUID), a key ARN, an alias name ({@code
 * alias/...}) or an alias ARN ({@link #resolve}); the life-cycle, tag and alias-target parameters
 * take only a key id or key ARN ({@link #resolveKey}, {@link #resolveTarget}), as AWS KMS. A string
 * that is none of these is a {@code ValidationException}; a well-formed name that this service does
 * not hold is {@code NotFoundException}.
 */
final class KeyIdentifiers {
  private static final Pattern KEY_ARN =
      Pattern.compile("^arn:[a-z0-9-]{1,63}:kms:[a-z0-9-]{1,63}:[0-9]{12}:key/(.+)$");
  private static final Pattern ALIAS_NAME = Pattern.compile("^alias/[a-zA-Z0-9/_-]{1,250}$");
  private static final Pattern ALIAS_ARN =
      Pattern.compile("^arn:[a-z0-9-]{1,63}:kms:[a-z0-9-]{1,63}:[0-9]{12}:alias/.+$");

  private final KeyArns arns;
  private final BiFunction<String, String, Optional<UUID>> aliasTargets;
  private final Function<UUID, Optional<String>> keyAccounts;

  /** Without aliases: every alias is NotFound. */
  KeyIdentifiers(KeyArns arns) {
    this(arns, name -> Optional.empty());
  }

  /**
   * Aliases of the default account only, every key in it.
   *
   * @param aliasTargets the key an alias name ({@code alias/...}) points to, if the alias exists
   */
  KeyIdentifiers(KeyArns arns, Function<String, Optional<UUID>> aliasTargets) {
    this(
        arns,
        (account, name) ->
            account.equals(arns.account()) ? aliasTargets.apply(name) : Optional.empty(),
        id -> Optional.of(arns.account()));
  }

  /**
   * @param aliasTargets the key an alias name ({@code alias/...}) of an account (12 digits) points
   *     to, if the alias exists
   * @param keyAccounts the account (12 digits) of a key, if the key exists
   */
  KeyIdentifiers(
      KeyArns arns,
      BiFunction<String, String, Optional<UUID>> aliasTargets,
      Function<UUID, Optional<String>> keyAccounts) {
    this.arns = arns;
    this.aliasTargets = aliasTargets;
    this.keyAccounts = keyAccounts;
  }

  /** Whether the string has the form of a key id. */
  static boolean isKeyId(String s) {
    return KeyArns.parseKeyId(s).isPresent();
  }

  /** Whether the string has the form of an alias name or alias ARN. */
  static boolean isAlias(String s) {
    return s != null && (isAliasName(s) || isAliasArn(s));
  }

  /**
   * Whether {@code s} is an alias name. A key id or key ARN fails the prefix without the pattern's
   * matcher (one per call, most calls name a key).
   */
  private static boolean isAliasName(String s) {
    return s.startsWith("alias/") && ALIAS_NAME.matcher(s).matches();
  }

  /** Whether {@code s} is an alias ARN; a key id or key ARN fails without the matcher. */
  private static boolean isAliasArn(String s) {
    return s.startsWith("arn:") && s.contains(":alias/") && ALIAS_ARN.matcher(s).matches();
  }

  /** As {@link #resolve(String, String, String)}, for a caller in the default account. */
  UUID resolve(String keyId, String parameter) {
    return resolve(arns.account(), keyId, parameter);
  }

  /**
   * The key id that {@code keyId} names for a caller in {@code account}: a key id, key ARN, alias
   * name (an alias of {@code account}) or alias ARN (an alias of the account it names).
   *
   * @throws KmsException VALIDATION when malformed, NOT_FOUND when well formed but not ours
   */
  UUID resolve(String account, String keyId, String parameter) {
    Requests.requireKeyId(keyId, parameter);
    if (isAliasName(keyId)) {
      return aliasTarget(account, keyId, keyId);
    }
    if (isAliasArn(keyId)) {
      KeyArns.AliasArn arn =
          arns.parseAnyAliasArn(keyId)
              .orElseThrow(() -> KmsException.notFound("Alias '" + keyId + "' does not exist"));
      if (!ALIAS_NAME.matcher(arn.aliasName()).matches()) {
        throw KmsException.validation(parameter + " is not a valid alias ARN");
      }
      return aliasTarget(arn.account(), arn.aliasName(), keyId);
    }
    return keyIdOrArn(keyId, parameter, "a key id, key ARN, alias name or alias ARN");
  }

  /**
   * The key id that a key id or key ARN names, for the operations that take no alias. An alias
   * there is NotFound ("Invalid keyId"), as AWS KMS answers it.
   */
  UUID resolveKey(String keyId, String parameter) {
    Requests.requireKeyId(keyId, parameter);
    if (isAlias(keyId)) {
      throw KmsException.notFound(
          "Invalid keyId '"
              + keyId
              + "': "
              + parameter
              + " takes a key id or key ARN, not an alias");
    }
    return keyIdOrArn(keyId, parameter, "a key id or key ARN");
  }

  /** The key an alias is to point to: a key id or key ARN; an alias is a ValidationException. */
  UUID resolveTarget(String keyId, String parameter) {
    Requests.requireKeyId(keyId, parameter);
    if (isAlias(keyId)) {
      throw KmsException.validation(
          parameter + " must be a key id or key ARN: aliases must refer to keys, not aliases");
    }
    return keyIdOrArn(keyId, parameter, "a key id or key ARN");
  }

  /**
   * A key id, or a key ARN of this partition and region whose account is the key's own (an ARN
   * naming another account than the key's names no key: NotFound).
   */
  private UUID keyIdOrArn(String keyId, String parameter, String forms) {
    Optional<UUID> id = KeyArns.parseKeyId(keyId);
    if (id.isPresent()) {
      return id.get();
    }
    var arn = KEY_ARN.matcher(keyId);
    if (arn.matches()) {
      if (!isKeyId(arn.group(1))) {
        throw KmsException.validation(parameter + " is not a valid key ARN");
      }
      KeyArns.KeyArn parsed =
          arns.parseAnyKeyArn(keyId)
              .orElseThrow(() -> KmsException.notFound("Key '" + keyId + "' does not exist"));
      Optional<String> account = keyAccounts.apply(parsed.keyId());
      if (account.isPresent() && !account.get().equals(parsed.account())) {
        throw KmsException.notFound("Key '" + keyId + "' does not exist");
      }
      return parsed.keyId();
    }
    throw KmsException.validation(parameter + " must be " + forms);
  }

  private UUID aliasTarget(String account, String aliasName, String asGiven) {
    return aliasTargets
        .apply(account, aliasName)
        .orElseThrow(() -> KmsException.notFound("Alias '" + asGiven + "' does not exist"));
  }
}
