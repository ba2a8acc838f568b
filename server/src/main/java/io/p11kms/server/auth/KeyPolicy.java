package io.p11kms.server.auth;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A key policy: a subset of the AWS IAM policy grammar, parsed and checked when written.
 *
 * <p>Grammar: {@code Version}, {@code Id}, and {@code Statement} (one object or a list) with {@code
 * Sid}, {@code Effect} ({@code Allow} or {@code Deny}), {@code Principal} ({@code "*"} or {@code
 * {"AWS": principal or [principals]}}, where a principal is the caller's certificate principal
 * string exactly as the server derives it (SAN URI, else subject DN), an account ({@code
 * 111122223333} or {@code arn:aws:iam::111122223333:root}: every principal of that account), or
 * {@code "*"}), {@code Action} ({@code kms:Encrypt}, wildcards such as {@code kms:*} or {@code
 * kms:ReEncrypt*}, or a list), {@code Resource} ({@code "*"} or the key's ARN, or a list), and
 * {@code Condition} with {@code StringEquals}, {@code StringLike}, {@code
 * ForAllValues:StringEquals}, {@code ForAllValues:StringLike}, {@code ForAnyValue:StringEquals},
 * {@code ForAnyValue:StringLike} on {@code kms:EncryptionContext:<key>}, {@code
 * kms:EncryptionContextKeys} and, for the external key store proxy API's requests, {@code
 * xks:<field>} of their requestMetadata ({@code xks:awsPrincipalArn}, {@code xks:kmsKeyArn}, ...; a
 * field the request does not carry has no value, so a condition on it does not hold), {@code
 * kms:ViaService} (the registered service a request came through) and {@code kms:CallerAccount}
 * (the account of the principal it is for). Anything else (NotAction, NotPrincipal, other operators
 * or keys) is rejected as malformed.
 */
public final class KeyPolicy {
  /** The largest policy document, in bytes of UTF-8, as AWS KMS. */
  public static final int MAX_BYTES = 32 * 1024;

  static final String CONTEXT_PREFIX = "kms:EncryptionContext:";
  static final String CONTEXT_KEYS = "kms:EncryptionContextKeys";
  static final String XKS_PREFIX = "xks:";

  /** The service a registered service principal called through, when it acts for a customer. */
  public static final String VIA_SERVICE = "kms:ViaService";

  /** The account of the principal the request is made for (the customer's, through a service). */
  public static final String CALLER_ACCOUNT = "kms:CallerAccount";

  /** The requestMetadata fields of the XKS proxy API a condition may name. */
  public static final Set<String> XKS_METADATA =
      Set.of(
          "awsPrincipalArn",
          "awsSourceVpc",
          "awsSourceVpce",
          "kmsKeyArn",
          "kmsOperation",
          "kmsRequestId",
          "kmsViaService");

  private final List<Statement> statements;

  private KeyPolicy(List<Statement> statements) {
    this.statements = List.copyOf(statements);
  }

  /** The outcome of a policy for one request. */
  public enum Effect {
    ALLOW,
    DENY,
    NONE
  }

  record Condition(String operator, String key, List<String> values) {}

  record Statement(
      boolean allow,
      List<String> principals,
      List<String> actions,
      List<String> resources,
      List<Condition> conditions) {}

  /**
   * Parses and checks a policy document.
   *
   * @throws MalformedPolicyException when it is over {@link #MAX_BYTES}, not JSON, or not in the
   *     grammar (the message names the part)
   */
  public static KeyPolicy parse(String document) {
    return new KeyPolicy(PolicyParser.statements(document));
  }

  /** The default policy: {@code principals} get {@code kms:*} on the key. */
  public static String defaultDocument(Collection<String> principals) {
    var root = PolicyParser.JSON.createObjectNode();
    root.put("Version", "2012-10-17");
    root.put("Id", "key-default-1");
    var statement = root.putArray("Statement").addObject();
    statement.put("Sid", "Enable key administrators and the creator");
    statement.put("Effect", "Allow");
    var aws = statement.putObject("Principal").putArray("AWS");
    principals.stream().distinct().forEach(aws::add);
    statement.put("Action", "kms:*");
    statement.put("Resource", "*");
    return root.toPrettyString();
  }

  /** What this policy says about {@code action} on {@code keyArn} by {@code principal}. */
  public Effect evaluate(
      String principal, String action, String keyArn, Map<String, String> context) {
    return evaluate(principal, null, action, keyArn, context, Map.of());
  }

  /** As above, for a request that carries XKS requestMetadata. */
  public Effect evaluate(
      String principal,
      String action,
      String keyArn,
      Map<String, String> context,
      Map<String, String> requestMetadata) {
    return evaluate(principal, null, action, keyArn, context, requestMetadata);
  }

  /**
   * What this policy says about {@code action} on {@code keyArn} by {@code principal} of {@code
   * account} (null: no account), for a request that may carry XKS requestMetadata: a statement's
   * principal applies when it is {@code "*"}, the principal itself, or its account ({@code
   * 111122223333} or {@code arn:<partition>:iam::111122223333:root}: every principal of that
   * account).
   */
  public Effect evaluate(
      String principal,
      String account,
      String action,
      String keyArn,
      Map<String, String> context,
      Map<String, String> requestMetadata) {
    boolean allowed = false;
    for (Statement s : statements) {
      if (applies(s, principal, account, action, keyArn, context, requestMetadata)) {
        if (!s.allow()) {
          return Effect.DENY;
        }
        allowed = true;
      }
    }
    return allowed ? Effect.ALLOW : Effect.NONE;
  }

  /**
   * Whether an Allow statement names {@code principal}, its {@code account} or {@code "*"} (a key
   * open to everyone is open to every account, as in AWS): whether the policy lets a principal of
   * another account than the key's in at all.
   */
  public boolean admits(String principal, String account) {
    return statements.stream()
        .anyMatch(
            s -> s.allow() && s.principals().stream().anyMatch(p -> names(p, principal, account)));
  }

  /**
   * Whether {@code named} (a grant's grantee or retiring principal) names {@code principal} of
   * {@code account} (null: no account): the principal itself, or its account ({@code 111122223333}
   * or {@code arn:<partition>:iam::111122223333:root}). Unlike in a policy, {@code "*"} names
   * nobody.
   */
  public static boolean namesCaller(String named, String principal, String account) {
    return named != null && !named.equals("*") && names(named, principal, account);
  }

  private static boolean names(String p, String principal, String account) {
    if (p.equals("*") || p.equals(principal)) {
      return true;
    }
    if (account == null) {
      return false;
    }
    return p.equals(account) || (p.startsWith("arn:") && p.endsWith(":iam::" + account + ":root"));
  }

  private static boolean applies(
      Statement s,
      String principal,
      String account,
      String action,
      String keyArn,
      Map<String, String> context,
      Map<String, String> requestMetadata) {
    // Loops, not streams: this runs for every statement of the key's policy on every call.
    boolean named = false;
    for (String p : s.principals()) {
      if (names(p, principal, account)) {
        named = true;
        break;
      }
    }
    if (!named) {
      return false;
    }
    boolean acts = false;
    for (String a : s.actions()) {
      if (Actions.matches(a, action)) {
        acts = true;
        break;
      }
    }
    if (!acts) {
      return false;
    }
    boolean onKey = false;
    for (String r : s.resources()) {
      if (r.equals("*") || r.equals(keyArn)) {
        onKey = true;
        break;
      }
    }
    if (!onKey) {
      return false;
    }
    for (Condition c : s.conditions()) {
      if (!holds(c, context, requestMetadata)) {
        return false;
      }
    }
    return true;
  }

  private static boolean holds(
      Condition c, Map<String, String> context, Map<String, String> requestMetadata) {
    List<String> actual;
    if (c.key().equals(CONTEXT_KEYS)) {
      actual = List.copyOf(context.keySet());
    } else if (c.key().equals(VIA_SERVICE) || c.key().equals(CALLER_ACCOUNT)) {
      String value = requestMetadata.get(c.key());
      actual = value == null ? List.of() : List.of(value);
    } else if (c.key().startsWith(XKS_PREFIX)) {
      String value = requestMetadata.get(c.key().substring(XKS_PREFIX.length()));
      actual = value == null ? List.of() : List.of(value);
    } else {
      String value = context.get(c.key().substring(CONTEXT_PREFIX.length()));
      actual = value == null ? List.of() : List.of(value);
    }
    boolean like = c.operator().endsWith("StringLike");
    if (c.operator().startsWith("ForAllValues:")) {
      // As IAM: true when every value is matched, also when there are none.
      return actual.stream().allMatch(v -> matchesAny(c.values(), v, like));
    }
    // StringEquals/StringLike on a single-valued key, and ForAnyValue: some value matches.
    return actual.stream().anyMatch(v -> matchesAny(c.values(), v, like));
  }

  private static boolean matchesAny(List<String> patterns, String value, boolean like) {
    for (String p : patterns) {
      if (like ? Actions.glob(p, false).matcher(value).matches() : p.equals(value)) {
        return true;
      }
    }
    return false;
  }
}
