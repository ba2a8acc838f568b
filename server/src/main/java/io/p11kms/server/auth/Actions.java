package io.p11kms.server.auth;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/** The {@code kms:} actions a key policy may name, and action patterns ({@code kms:Generate*}). */
public final class Actions {
  /** Actions of this service, and AWS KMS actions it does not serve (so AWS policies parse). */
  public static final Set<String> KNOWN =
      Set.of(
          "CreateKey",
          "DescribeKey",
          "ListKeys",
          "Encrypt",
          "Decrypt",
          "ReEncryptFrom",
          "ReEncryptTo",
          "GenerateDataKey",
          "GenerateDataKeyWithoutPlaintext",
          "GenerateRandom",
          "UpdateKeyDescription",
          "EnableKey",
          "DisableKey",
          "ScheduleKeyDeletion",
          "CancelKeyDeletion",
          "CreateAlias",
          "UpdateAlias",
          "DeleteAlias",
          "ListAliases",
          "TagResource",
          "UntagResource",
          "ListResourceTags",
          "PutKeyPolicy",
          "GetKeyPolicy",
          "ListKeyPolicies",
          "CreateGrant",
          "ListGrants",
          "ListRetirableGrants",
          "RetireGrant",
          "RevokeGrant",
          "EnableKeyRotation",
          "DisableKeyRotation",
          "GetKeyRotationStatus",
          "RotateKeyOnDemand",
          "ListKeyRotations",
          "Sign",
          "Verify",
          "GetPublicKey",
          "GenerateMac",
          "VerifyMac",
          "GenerateDataKeyPair",
          "GenerateDataKeyPairWithoutPlaintext",
          "ImportKeyMaterial",
          "DeleteImportedKeyMaterial",
          "GetParametersForImport",
          "DeriveSharedSecret",
          "ReplicateKey",
          "UpdatePrimaryRegion",
          "SynchronizeMultiRegionKey",
          "ConnectCustomKeyStore",
          "DisconnectCustomKeyStore");

  /** Operations a grant may allow, as AWS KMS. */
  public static final Set<String> GRANTABLE =
      Set.of(
          "Decrypt",
          "Encrypt",
          "GenerateDataKey",
          "GenerateDataKeyWithoutPlaintext",
          "ReEncryptFrom",
          "ReEncryptTo",
          "CreateGrant",
          "RetireGrant",
          "DescribeKey",
          "Sign",
          "Verify",
          "GetPublicKey",
          "GenerateMac",
          "VerifyMac",
          "GenerateDataKeyPair",
          "GenerateDataKeyPairWithoutPlaintext");

  /**
   * Grant operations that a constrained grant may include but its constraints do not apply to, as
   * AWS KMS: they take no encryption context. A grant made through CreateGrant carries the
   * constraints on instead ({@link GrantDelegation}).
   */
  public static final Set<String> UNCONSTRAINED =
      Set.of("CreateGrant", "RetireGrant", "DescribeKey");

  /** Grant operations that take no encryption context, so a constrained grant may not name. */
  public static final Set<String> WITHOUT_CONTEXT =
      Set.of("Sign", "Verify", "GetPublicKey", "GenerateMac", "VerifyMac");

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
    return glob(pattern, true).matcher(action).matches();
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
