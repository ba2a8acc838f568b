package io.p11kms.server.service;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The rules of an alias name, as AWS KMS has them: {@code alias/} and then a name, 1-256 characters
 * in all, of {@code [a-zA-Z0-9/_-]}; {@code alias/aws/} is reserved for AWS managed keys and
 * refused. Every failure is a ValidationException that names the rule.
 */
final class AliasNames {
  static final String PREFIX = "alias/";
  static final String RESERVED_PREFIX = "alias/aws/";
  static final int MAX_LENGTH = 256;
  private static final Pattern CHARACTERS = Pattern.compile("^[a-zA-Z0-9/_-]+$");

  private AliasNames() {}

  static String require(String aliasName, String parameter) {
    if (aliasName == null || aliasName.isEmpty()) {
      throw KmsException.validation(parameter + " is required");
    }
    if (aliasName.length() > MAX_LENGTH) {
      throw KmsException.validation(
          parameter + " must be at most " + MAX_LENGTH + " characters, was " + aliasName.length());
    }
    if (!aliasName.startsWith(PREFIX) || aliasName.length() == PREFIX.length()) {
      throw KmsException.validation(parameter + " must begin with alias/ followed by a name");
    }
    if (!CHARACTERS.matcher(aliasName).matches()) {
      throw KmsException.validation(
          parameter + " may contain only a-z, A-Z, 0-9, forward slash, underscore and dash");
    }
    // Case-insensitively: alias/AWS/x would read as an AWS managed key's alias too.
    if (aliasName.toLowerCase(Locale.ROOT).startsWith(RESERVED_PREFIX)) {
      throw KmsException.validation(
          parameter
              + " must not begin with alias/aws/: the prefix is reserved for AWS managed keys");
    }
    return aliasName;
  }
}
