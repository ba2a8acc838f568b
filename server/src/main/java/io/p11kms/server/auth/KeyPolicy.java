package io.p11kms.server.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
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

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final Set<String> TOP = Set.of("Version", "Id", "Statement");
  private static final Set<String> STATEMENT =
      Set.of("Sid", "Effect", "Principal", "Action", "Resource", "Condition");
  private static final Set<String> OPERATORS =
      Set.of(
          "StringEquals",
          "StringLike",
          "ForAllValues:StringEquals",
          "ForAllValues:StringLike",
          "ForAnyValue:StringEquals",
          "ForAnyValue:StringLike");
  private static final String CONTEXT_PREFIX = "kms:EncryptionContext:";
  private static final String CONTEXT_KEYS = "kms:EncryptionContextKeys";
  private static final String XKS_PREFIX = "xks:";

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
    if (document == null || document.isBlank()) {
      throw new MalformedPolicyException("the policy is empty");
    }
    int bytes = document.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_BYTES) {
      throw new MalformedPolicyException(
          "the policy is " + bytes + " bytes; at most " + MAX_BYTES + " are allowed");
    }
    JsonNode root;
    try {
      root = JSON.readTree(document);
    } catch (JsonProcessingException e) {
      throw new MalformedPolicyException("the policy is not valid JSON");
    }
    if (root == null || !root.isObject()) {
      throw new MalformedPolicyException("the policy must be a JSON object");
    }
    onlyFields(root, TOP, "policy");
    JsonNode statementNode = root.get("Statement");
    if (statementNode == null) {
      throw new MalformedPolicyException("the policy has no Statement");
    }
    List<Statement> statements = new ArrayList<>();
    for (JsonNode s : listOf(statementNode)) {
      statements.add(statement(s));
    }
    if (statements.isEmpty()) {
      throw new MalformedPolicyException("the policy has no Statement");
    }
    return new KeyPolicy(statements);
  }

  /** The default policy: {@code principals} get {@code kms:*} on the key. */
  public static String defaultDocument(Collection<String> principals) {
    var root = JSON.createObjectNode();
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
    return s.principals().stream().anyMatch(p -> names(p, principal, account))
        && s.actions().stream().anyMatch(a -> Actions.matches(a, action))
        && s.resources().stream().anyMatch(r -> r.equals("*") || r.equals(keyArn))
        && s.conditions().stream().allMatch(c -> holds(c, context, requestMetadata));
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

  private static Statement statement(JsonNode s) {
    if (!s.isObject()) {
      throw new MalformedPolicyException("a Statement must be a JSON object");
    }
    onlyFields(s, STATEMENT, "Statement");
    JsonNode effect = s.get("Effect");
    if (effect == null || !(effect.asText().equals("Allow") || effect.asText().equals("Deny"))) {
      throw new MalformedPolicyException("a Statement's Effect must be Allow or Deny");
    }
    return new Statement(
        effect.asText().equals("Allow"),
        principals(s.get("Principal")),
        actions(s.get("Action")),
        resources(s.get("Resource")),
        conditions(s.get("Condition")));
  }

  private static List<String> principals(JsonNode p) {
    if (p == null) {
      throw new MalformedPolicyException("a Statement has no Principal");
    }
    if (p.isTextual()) {
      if (!p.asText().equals("*")) {
        throw new MalformedPolicyException("Principal must be \"*\" or {\"AWS\": ...}");
      }
      return List.of("*");
    }
    if (!p.isObject() || p.size() != 1 || p.get("AWS") == null) {
      throw new MalformedPolicyException("Principal must be \"*\" or {\"AWS\": ...}");
    }
    return strings(p.get("AWS"), "Principal");
  }

  private static List<String> actions(JsonNode a) {
    if (a == null) {
      throw new MalformedPolicyException("a Statement has no Action");
    }
    List<String> actions = strings(a, "Action");
    for (String action : actions) {
      if (!Actions.isValidPattern(action)) {
        throw new MalformedPolicyException("unknown action " + quoted(action));
      }
    }
    return actions;
  }

  private static List<String> resources(JsonNode r) {
    if (r == null) {
      throw new MalformedPolicyException("a Statement has no Resource");
    }
    List<String> resources = strings(r, "Resource");
    for (String resource : resources) {
      if (!resource.equals("*")
          && !resource.matches("arn:[a-z0-9-]+:kms:[a-z0-9-]+:\\d{12}:key/.+")) {
        throw new MalformedPolicyException("Resource must be \"*\" or a key ARN");
      }
    }
    return resources;
  }

  private static List<Condition> conditions(JsonNode c) {
    if (c == null) {
      return List.of();
    }
    if (!c.isObject()) {
      throw new MalformedPolicyException("Condition must be a JSON object");
    }
    List<Condition> out = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> ops = c.fields(); ops.hasNext(); ) {
      Map.Entry<String, JsonNode> op = ops.next();
      if (!OPERATORS.contains(op.getKey())) {
        throw new MalformedPolicyException("unsupported condition operator " + quoted(op.getKey()));
      }
      if (!op.getValue().isObject()) {
        throw new MalformedPolicyException("a condition operator must map keys to values");
      }
      for (Iterator<Map.Entry<String, JsonNode>> keys = op.getValue().fields(); keys.hasNext(); ) {
        Map.Entry<String, JsonNode> key = keys.next();
        String name = key.getKey();
        boolean contextKey =
            name.regionMatches(true, 0, CONTEXT_PREFIX, 0, CONTEXT_PREFIX.length())
                && name.length() > CONTEXT_PREFIX.length();
        String xksField = xksField(name);
        String requestKey =
            name.equalsIgnoreCase(VIA_SERVICE)
                ? VIA_SERVICE
                : name.equalsIgnoreCase(CALLER_ACCOUNT) ? CALLER_ACCOUNT : null;
        if (!contextKey
            && !name.equalsIgnoreCase(CONTEXT_KEYS)
            && xksField == null
            && requestKey == null) {
          throw new MalformedPolicyException("unsupported condition key " + quoted(name));
        }
        String normal =
            contextKey
                ? CONTEXT_PREFIX + name.substring(CONTEXT_PREFIX.length())
                : xksField != null
                    ? XKS_PREFIX + xksField
                    : requestKey != null ? requestKey : CONTEXT_KEYS;
        out.add(new Condition(op.getKey(), normal, strings(key.getValue(), name)));
      }
    }
    return out;
  }

  /** The requestMetadata field an {@code xks:<field>} key names (keys are case-insensitive). */
  private static String xksField(String name) {
    if (!name.regionMatches(true, 0, XKS_PREFIX, 0, XKS_PREFIX.length())) {
      return null;
    }
    String field = name.substring(XKS_PREFIX.length());
    return XKS_METADATA.stream().filter(f -> f.equalsIgnoreCase(field)).findFirst().orElse(null);
  }

  private static List<JsonNode> listOf(JsonNode node) {
    List<JsonNode> out = new ArrayList<>();
    if (node.isArray()) {
      node.forEach(out::add);
    } else {
      out.add(node);
    }
    return out;
  }

  private static List<String> strings(JsonNode node, String what) {
    List<String> out = new ArrayList<>();
    for (JsonNode n : listOf(node)) {
      if (!n.isTextual() && !n.isNumber() && !n.isBoolean()) {
        throw new MalformedPolicyException(what + " must be a string or a list of strings");
      }
      out.add(n.asText());
    }
    if (out.isEmpty()) {
      throw new MalformedPolicyException(what + " is empty");
    }
    return out;
  }

  private static void onlyFields(JsonNode node, Set<String> allowed, String where) {
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!allowed.contains(name)) {
        throw new MalformedPolicyException(
            "unsupported element " + quoted(name) + " in the " + where);
      }
    }
  }

  private static String quoted(String s) {
    String shown = s.length() > 64 ? s.substring(0, 64) + "..." : s;
    return "'" + shown + "'";
  }
}
