package io.p11kms.server.auth;

import io.p11kms.server.service.Operation;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The {@code kms:} actions a key policy may name, and action patterns ({@code kms:Generate*}). */
public final class Actions {
  /** AWS KMS actions this service does not serve, named so that AWS policies parse. */
  private static final List<String> AWS_ONLY =
      List.of(
          "DeriveSharedSecret",
          "SynchronizeMultiRegionKey",
          "ConnectCustomKeyStore",
          "DisconnectCustomKeyStore");

  /** Actions of this service's operations, and AWS KMS actions it does not serve. */
  public static final Set<String> KNOWN =
      Stream.concat(
              Arrays.stream(Operation.values())
                  .filter(op -> op.keySource() != Operation.KeySource.ITEMS)
                  .flatMap(op -> op.actions().stream()),
              AWS_ONLY.stream())
          .collect(Collectors.toUnmodifiableSet());

  /** Operations a grant may allow, as AWS KMS. */
  public static final Set<String> GRANTABLE = actionsWhere(u -> u != Operation.GrantUse.NO);

  /**
   * Grant operations that take no encryption context but that a constrained grant may include, its
   * constraints not applying to them (CreateGrant passes them on, {@link GrantDelegation}).
   */
  public static final Set<String> UNCONSTRAINED =
      actionsWhere(u -> u == Operation.GrantUse.UNCONSTRAINED);

  /** Grant operations that take no encryption context, so a constrained grant may not name. */
  public static final Set<String> WITHOUT_CONTEXT =
      actionsWhere(u -> u == Operation.GrantUse.UNCONSTRAINABLE);

  private static Set<String> actionsWhere(Predicate<Operation.GrantUse> use) {
    return Arrays.stream(Operation.values())
        .filter(op -> use.test(op.grantUse()))
        .flatMap(op -> op.actions().stream())
        .collect(Collectors.toUnmodifiableSet());
  }

  private Actions() {}

  /** Whether {@code pattern} (case-insensitive, {@code *} and {@code ?} wildcards) is valid. */
  static boolean isValidPattern(String pattern) {
    if (pattern.equals("*")) {
      return true;
    }
    if (!pattern.regionMatches(true, 0, "kms:", 0, 4)) {
      return false;
    }
    return KNOWN.stream().anyMatch(a -> matches(pattern, "kms:" + a));
  }

  /** Whether {@code action} (such as {@code kms:Encrypt}) matches {@code pattern}. */
  static boolean matches(String pattern, String action) {
    if (pattern.equals("*")) {
      return true;
    }
    int star = pattern.indexOf('*');
    if (pattern.indexOf('?') < 0 && (star < 0 || star == pattern.length() - 1)) {
      // An action or an action prefix ("kms:*", "kms:Generate*"), as policies name them: compared
      // as the glob's regular expression would, without running one on every call.
      int length = star < 0 ? pattern.length() : star;
      return (star < 0 ? action.length() == length : action.length() >= length)
          && regionMatchesAsciiCase(pattern, action, length);
    }
    return glob(pattern, true).matcher(action).matches();
  }

  /**
   * Whether the first {@code length} characters of {@code a} and {@code b} are the same but for the
   * case of ASCII letters (as {@link Pattern#CASE_INSENSITIVE} without {@code UNICODE_CASE}).
   */
  private static boolean regionMatchesAsciiCase(String a, String b, int length) {
    for (int i = 0; i < length; i++) {
      char x = a.charAt(i);
      char y = b.charAt(i);
      if (x != y && (x >= 128 || y >= 128 || asciiLower(x) != asciiLower(y))) {
        return false;
      }
    }
    return true;
  }

  private static char asciiLower(char c) {
    return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
  }

  /**
   * Compiled globs by pattern and case rule. A policy is evaluated on every call and compiling its
   * action patterns each time was ~2% of the server's samples under the benchmark; policies hold
   * few patterns, so a small bounded map (cleared when full) keeps them all.
   */
  private static final ConcurrentHashMap<String, Pattern> GLOBS = new ConcurrentHashMap<>();

  private static final int MAX_GLOBS = 1024;

  /** A glob with {@code *} (any run) and {@code ?} (one character), as IAM StringLike. */
  static Pattern glob(String glob, boolean ignoreCase) {
    String key = (ignoreCase ? 'i' : 'c') + glob;
    Pattern compiled = GLOBS.get(key);
    if (compiled == null) {
      compiled = compile(glob, ignoreCase);
      if (GLOBS.size() >= MAX_GLOBS) {
        GLOBS.clear();
      }
      GLOBS.put(key, compiled);
    }
    return compiled;
  }

  private static Pattern compile(String glob, boolean ignoreCase) {
    StringBuilder regex = new StringBuilder();
    for (char ch : glob.toCharArray()) {
      if (ch == '*') {
        regex.append(".*");
      } else if (ch == '?') {
        regex.append('.');
      } else {
        regex.append(Pattern.quote(String.valueOf(ch)));
      }
    }
    return Pattern.compile(
        regex.toString(), ignoreCase ? Pattern.CASE_INSENSITIVE | Pattern.DOTALL : Pattern.DOTALL);
  }
}
