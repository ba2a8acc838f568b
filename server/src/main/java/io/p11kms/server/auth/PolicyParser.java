package io.p11kms.server.auth;

import static io.p11kms.server.auth.KeyPolicy.CALLER_ACCOUNT;
import static io.p11kms.server.auth.KeyPolicy.CONTEXT_KEYS;
import static io.p11kms.server.auth.KeyPolicy.CONTEXT_PREFIX;
import static io.p11kms.server.auth.KeyPolicy.VIA_SERVICE;
import static io.p11kms.server.auth.KeyPolicy.XKS_METADATA;
import static io.p11kms.server.auth.KeyPolicy.XKS_PREFIX;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.p11kms.server.auth.KeyPolicy.Condition;
import io.p11kms.server.auth.KeyPolicy.Statement;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a policy document into {@link KeyPolicy}'s statements, checking it against the grammar
 * {@link KeyPolicy} describes; anything outside it is a {@link MalformedPolicyException} naming the
 * part (a quoted value at most 64 characters long).
 */
final class PolicyParser {
  static final ObjectMapper JSON =
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

  private PolicyParser() {}

  /**
   * The statements of a policy document.
   *
   * @throws MalformedPolicyException when it is over {@link KeyPolicy#MAX_BYTES}, not JSON, or not
   *     in the grammar
   */
  static List<Statement> statements(String document) {
    if (document == null || document.isBlank()) {
      throw new MalformedPolicyException("the policy is empty");
    }
    int bytes = document.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > KeyPolicy.MAX_BYTES) {
      throw new MalformedPolicyException(
          "the policy is " + bytes + " bytes; at most " + KeyPolicy.MAX_BYTES + " are allowed");
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
    return statements;
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
