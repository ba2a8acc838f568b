package io.p11kms.server.service;

import java.util.List;

/**
 * The catalogue of operations: for each, its name as AWS KMS spells it, the policy actions it is
 * authorised by, how the key those actions are checked on is found, whether it takes (and its audit
 * record names) an encryption context, whether a grant may allow it, and the group of handlers that
 * serves it. Front ends, policies ({@code auth/Actions}) and grants read it; an operation is one
 * entry here plus its service method.
 */
public enum Operation {
  CREATE_KEY("CreateKey", KeySource.NONE, Context.NO, GrantUse.NO, Group.KEYS),
  DESCRIBE_KEY("DescribeKey", KeySource.KEY_ID, Context.NO, GrantUse.UNCONSTRAINED, Group.KEYS),
  LIST_KEYS("ListKeys", KeySource.NONE, Context.NO, GrantUse.NO, Group.KEYS),
  /**
   * Checked on the primary key in this (its) region. AWS also asks for kms:CreateKey in the replica
   * region: there the replica is made by this region over the peer channel, which the replica
   * region accepts only from the principal it configured for this region, and only for keys whose
   * primary is here.
   */
  REPLICATE_KEY("ReplicateKey", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.KEYS),
  /**
   * Checked on the primary key in this (its) region. AWS also asks for it on the replica in the new
   * primary's region: there the change arrives over the peer channel from the principal configured
   * for this region, as a replica does.
   */
  UPDATE_PRIMARY_REGION(
      "UpdatePrimaryRegion", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.KEYS),
  ENCRYPT("Encrypt", KeySource.KEY_ID, Context.YES, GrantUse.CONSTRAINED, Group.CRYPTO),
  DECRYPT("Decrypt", KeySource.CIPHERTEXT, Context.YES, GrantUse.CONSTRAINED, Group.CRYPTO),
  RE_ENCRYPT(
      "ReEncrypt",
      KeySource.CIPHERTEXT_AND_DESTINATION,
      Context.YES,
      GrantUse.CONSTRAINED,
      Group.CRYPTO,
      "ReEncryptFrom",
      "ReEncryptTo"),
  GENERATE_DATA_KEY(
      "GenerateDataKey", KeySource.KEY_ID, Context.YES, GrantUse.CONSTRAINED, Group.CRYPTO),
  GENERATE_DATA_KEY_WITHOUT_PLAINTEXT(
      "GenerateDataKeyWithoutPlaintext",
      KeySource.KEY_ID,
      Context.YES,
      GrantUse.CONSTRAINED,
      Group.CRYPTO),
  GENERATE_RANDOM("GenerateRandom", KeySource.NONE, Context.NO, GrantUse.NO, Group.CRYPTO),
  UPDATE_KEY_DESCRIPTION(
      "UpdateKeyDescription", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  ENABLE_KEY("EnableKey", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  DISABLE_KEY("DisableKey", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  SCHEDULE_KEY_DELETION(
      "ScheduleKeyDeletion", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  CANCEL_KEY_DELETION(
      "CancelKeyDeletion", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  CREATE_ALIAS("CreateAlias", KeySource.ALIAS, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  UPDATE_ALIAS("UpdateAlias", KeySource.ALIAS, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  DELETE_ALIAS("DeleteAlias", KeySource.ALIAS, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  LIST_ALIASES("ListAliases", KeySource.NONE, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  TAG_RESOURCE("TagResource", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  UNTAG_RESOURCE("UntagResource", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  LIST_RESOURCE_TAGS(
      "ListResourceTags", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.LIFECYCLE),
  PUT_KEY_POLICY("PutKeyPolicy", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.ACCESS),
  GET_KEY_POLICY("GetKeyPolicy", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.ACCESS),
  LIST_KEY_POLICIES("ListKeyPolicies", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.ACCESS),
  CREATE_GRANT("CreateGrant", KeySource.KEY_ID, Context.NO, GrantUse.UNCONSTRAINED, Group.ACCESS),
  LIST_GRANTS("ListGrants", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.ACCESS),
  /** Any principal may ask; the handler lists only the caller's own (or all, to administrators). */
  LIST_RETIRABLE_GRANTS(
      "ListRetirableGrants", KeySource.NONE, Context.NO, GrantUse.NO, Group.ACCESS),
  /** The grant, found by its token or id, says who may retire it; its handler checks. */
  RETIRE_GRANT("RetireGrant", KeySource.GRANT, Context.NO, GrantUse.UNCONSTRAINED, Group.ACCESS),
  REVOKE_GRANT("RevokeGrant", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.ACCESS),
  ENABLE_KEY_ROTATION(
      "EnableKeyRotation", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.ROTATION),
  DISABLE_KEY_ROTATION(
      "DisableKeyRotation", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.ROTATION),
  GET_KEY_ROTATION_STATUS(
      "GetKeyRotationStatus", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.ROTATION),
  ROTATE_KEY_ON_DEMAND(
      "RotateKeyOnDemand", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.ROTATION),
  LIST_KEY_ROTATIONS("ListKeyRotations", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.ROTATION),
  SIGN("Sign", KeySource.KEY_ID, Context.NO, GrantUse.UNCONSTRAINABLE, Group.ASYMMETRIC),
  VERIFY("Verify", KeySource.KEY_ID, Context.NO, GrantUse.UNCONSTRAINABLE, Group.ASYMMETRIC),
  GET_PUBLIC_KEY(
      "GetPublicKey", KeySource.KEY_ID, Context.NO, GrantUse.UNCONSTRAINABLE, Group.ASYMMETRIC),
  GENERATE_MAC(
      "GenerateMac", KeySource.KEY_ID, Context.NO, GrantUse.UNCONSTRAINABLE, Group.ASYMMETRIC),
  VERIFY_MAC("VerifyMac", KeySource.KEY_ID, Context.NO, GrantUse.UNCONSTRAINABLE, Group.ASYMMETRIC),
  GENERATE_DATA_KEY_PAIR(
      "GenerateDataKeyPair", KeySource.KEY_ID, Context.YES, GrantUse.CONSTRAINED, Group.ASYMMETRIC),
  GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT(
      "GenerateDataKeyPairWithoutPlaintext",
      KeySource.KEY_ID,
      Context.YES,
      GrantUse.CONSTRAINED,
      Group.ASYMMETRIC),
  GET_PARAMETERS_FOR_IMPORT(
      "GetParametersForImport", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.IMPORT),
  IMPORT_KEY_MATERIAL("ImportKeyMaterial", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.IMPORT),
  DELETE_IMPORTED_KEY_MATERIAL(
      "DeleteImportedKeyMaterial", KeySource.KEY_ID, Context.NO, GrantUse.NO, Group.IMPORT),
  /** This service's own (not in AWS KMS): each item is authorised and audited as an Encrypt. */
  BATCH_ENCRYPT("BatchEncrypt", KeySource.ITEMS, Context.NO, GrantUse.NO, Group.BATCH),
  /** This service's own (not in AWS KMS): each item is authorised and audited as a Decrypt. */
  BATCH_DECRYPT("BatchDecrypt", KeySource.ITEMS, Context.NO, GrantUse.NO, Group.BATCH),
  /** External key store proxy API: the metadata of the key exposed under an external key id. */
  XKS_GET_KEY_METADATA(
      "XksGetKeyMetadata", KeySource.EXTERNAL_KEY_ID, Context.NO, GrantUse.NO, Group.XKS),
  /** External key store proxy API: AES-GCM encryption under an exposed key, for AWS KMS. */
  XKS_ENCRYPT("XksEncrypt", KeySource.EXTERNAL_KEY_ID, Context.NO, GrantUse.NO, Group.XKS),
  /** External key store proxy API: AES-GCM decryption under an exposed key, for AWS KMS. */
  XKS_DECRYPT("XksDecrypt", KeySource.EXTERNAL_KEY_ID, Context.NO, GrantUse.NO, Group.XKS),
  /**
   * External key store proxy API: the proxy's and the token's health. Any authenticated caller: the
   * specification excludes it from authorisation by key.
   */
  XKS_GET_HEALTH_STATUS("XksGetHealthStatus", KeySource.NONE, Context.NO, GrantUse.NO, Group.XKS);

  /** How the key an operation's actions are checked on is found. */
  public enum KeySource {
    /** None: any authenticated principal (as IAM would allow for this deployment). */
    NONE,
    /** The key the KeyId parameter names (a key id, key ARN, alias name or alias ARN). */
    KEY_ID,
    /** The key the ciphertext was made under (for an RSA ciphertext, the one KeyId names). */
    CIPHERTEXT,
    /** ReEncrypt: the source as {@link #CIPHERTEXT}, the destination as {@link #KEY_ID}. */
    CIPHERTEXT_AND_DESTINATION,
    /** The key an alias points to now and, for a target, the target key. */
    ALIAS,
    /** A grant, by its token or id: the grant itself names who may act on it. */
    GRANT,
    /** Each item of a batch, as the single operation it stands for. */
    ITEMS,
    /** The key exposed to the external key store proxy API under the request's external key id. */
    EXTERNAL_KEY_ID
  }

  /** Whether the operation takes an encryption context, which its audit record then names. */
  public enum Context {
    YES,
    NO
  }

  /** Whether a grant may allow the operation, and how the grant's constraints apply to it. */
  public enum GrantUse {
    /** No grant may allow it. */
    NO,
    /** The grant's encryption-context constraints must hold for the request's context. */
    CONSTRAINED,
    /**
     * Takes no encryption context; a constrained grant may include it and its constraints do not
     * apply (CreateGrant passes them on to the grants it makes).
     */
    UNCONSTRAINED,
    /** Takes no encryption context; a constrained grant may not include it. */
    UNCONSTRAINABLE
  }

  /** The group of handlers that serves the operation. */
  public enum Group {
    KEYS,
    CRYPTO,
    LIFECYCLE,
    ACCESS,
    ROTATION,
    ASYMMETRIC,
    IMPORT,
    BATCH,
    /**
     * The external key store (XKS) proxy API's operations, served by the XKS front end only (not
     * KMS operations: no gRPC method, no AWS KMS API action).
     */
    XKS
  }

  private final String awsName;
  private final List<String> actions;
  private final List<String> policyActions;
  private final KeySource keySource;
  private final boolean context;
  private final GrantUse grantUse;
  private final Group group;

  Operation(
      String awsName,
      KeySource keySource,
      Context context,
      GrantUse grantUse,
      Group group,
      String... actions) {
    this.awsName = awsName;
    this.actions = actions.length == 0 ? List.of(awsName) : List.of(actions);
    this.policyActions = this.actions.stream().map(a -> "kms:" + a).toList();
    this.keySource = keySource;
    this.context = context == Context.YES;
    this.grantUse = grantUse;
    this.group = group;
  }

  /** The name as AWS KMS spells it, such as {@code GenerateDataKey}. */
  public String awsName() {
    return awsName;
  }

  /**
   * The policy actions without the {@code kms:} prefix (ReEncrypt: ReEncryptFrom and ReEncryptTo),
   * which are also the names a grant allows it by.
   */
  public List<String> actions() {
    return actions;
  }

  /** {@link #actions} as policies name them, such as {@code kms:Encrypt}. */
  public List<String> policyActions() {
    return policyActions;
  }

  public KeySource keySource() {
    return keySource;
  }

  /** Whether it takes an encryption context (its audit record names the context's keys). */
  public boolean takesContext() {
    return context;
  }

  public GrantUse grantUse() {
    return grantUse;
  }

  public Group group() {
    return group;
  }

  /**
   * Whether its answer is its only effect: a cryptographic operation, which changes no key, alias,
   * policy, grant or tag. A call of one that cannot be recorded in the audit log is refused when
   * its record is written, before its answer is sent; a call of any other operation is also refused
   * before it runs, so that it changes nothing.
   */
  public boolean answerIsItsOnlyEffect() {
    return ANSWER_ONLY.contains(this);
  }

  private static final java.util.Set<Operation> ANSWER_ONLY =
      java.util.EnumSet.of(
          ENCRYPT,
          DECRYPT,
          RE_ENCRYPT,
          GENERATE_DATA_KEY,
          GENERATE_DATA_KEY_WITHOUT_PLAINTEXT,
          GENERATE_RANDOM,
          SIGN,
          VERIFY,
          GENERATE_MAC,
          VERIFY_MAC,
          GENERATE_DATA_KEY_PAIR,
          GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT,
          XKS_ENCRYPT,
          XKS_DECRYPT);

  /**
   * Whether it is an operation of the KMS API (gRPC and the AWS KMS JSON API serve it); false for
   * the external key store proxy API's own.
   */
  public boolean kmsApi() {
    return group != Group.XKS;
  }

  private static final java.util.Map<String, Operation> BY_NAME = new java.util.HashMap<>();

  static {
    for (Operation op : values()) {
      BY_NAME.put(op.awsName, op);
    }
  }

  /** The operation of that AWS name, or null. */
  public static Operation byName(String awsName) {
    return BY_NAME.get(awsName);
  }
}
