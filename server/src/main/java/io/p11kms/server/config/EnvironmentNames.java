package io.p11kms.server.config;

import java.util.regex.Pattern;

/** What an environment variable's name may be, for the keys that name one. */
final class EnvironmentNames {
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,254}");

  private EnvironmentNames() {}

  static boolean valid(String name) {
    return ENV_NAME.matcher(name).matches();
  }
}
