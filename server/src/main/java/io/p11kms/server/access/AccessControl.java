package io.p11kms.server.access;

import io.p11kms.hsm.Hsm;
import io.p11kms.server.audit.AuditEntry;
import io.p11kms.server.audit.AuditException;
import io.p11kms.server.audit.AuditLog;
import io.p11kms.server.auth.Authorizer;
import io.p11kms.server.auth.KeyPolicy;
import io.p11kms.server.auth.MalformedPolicyException;
import io.p11kms.server.auth.PrincipalAccounts;
import io.p11kms.server.auth.Principals;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KeyMetadata;
import io.p11kms.server.service.KeyResolver;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.Operation;
import io.p11kms.server.service.ServiceManagedKeys;
import io.p11kms.server.store.AccessStore;
import io.p11kms.server.store.KeyStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

/**
 * The service's entry point for every front end: principals' rights on keys (key policies, grants,
 * the administrators) and the audit log. {@link #run} carries out one operation for a principal, in
 * order: validation, key lookup (once, through the request's {@link KeyLookup}, which the operation
 * reuses), authorisation, the operation, the audit record; it returns the result or throws a {@link
 * KmsException}. A front end whose calls end later than they start (gRPC) uses the same steps
 * through {@link #start}.
 */
public final class AccessControl implements AutoCloseable {
  private final boolean tls;
  private final List<String> admins;
  private final PrincipalAccounts accounts;
  private final KeyArns arns;
  private final Clock clock;
  private final AccessStore access;
  private final Authorizer authorizer;
  private final KeyService keys;
  private final Callers callers;
  private final KeyAuthorization authorization;
  private final ServiceDirectory services;
  private final ServiceManagedKeys managedKeys;
  private final AuditLog audit;
  private final RefusalAuditLimit refusals;

  /**
   * @param tls whether principals come from client certificates; without TLS every call is {@code
   *     local:developer}, which is then an administrator
   * @param admins principals given {@code kms:*} by every default key policy
   * @param accounts the account of each principal; its default account must be {@code arns}'
   * @param audit the audit log (one over {@code AuditSink.discarding()} keeps no trail)
   * @param refusals the bound on audit records of requests refused before authentication, on the
   *     same clock
   */
  public AccessControl(
      boolean tls,
      List<String> admins,
      PrincipalAccounts accounts,
      Hsm hsm,
      KeyStore store,
      KeyArns arns,
      Clock clock,
      AuditLog audit,
      RefusalAuditLimit refusals) {
    if (!accounts.defaultAccount().equals(arns.account())) {
      throw new IllegalArgumentException("the default account must be the ARNs' account");
    }
    this.accounts = accounts;
    this.tls = tls;
    List<String> all = new ArrayList<>(admins);
    if (!tls) {
      all.add(Principals.LOCAL);
    }
    this.admins = List.copyOf(all);
    this.arns = arns;
    this.clock = clock;
    this.access = AccessStore.of(store);
    this.authorizer = new Authorizer(access, arns, this.admins);
    this.keys = new KeyService(hsm, store, arns, clock);
    AccountDirectory directory = new AccountDirectory(accounts.defaultAccount(), store);
    this.services = new ServiceDirectory(store, clock);
    this.callers = new Callers(accounts, directory, services);
    this.authorization = new KeyAuthorization(authorizer, this.admins, directory, services, arns);
    this.managedKeys = new ServiceManagedKeys(store, keys, clock);
    this.audit = Objects.requireNonNull(audit, "audit");
    this.refusals = Objects.requireNonNull(refusals, "refusals");
  }

  /**
   * Development mode's access control: without TLS, so every call is {@code local:developer}, an
   * administrator of every key; every principal in {@code arns}' account; the default bounds on
   * recorded refusals.
   */
  public static AccessControl developmentMode(
      Hsm hsm, KeyStore store, KeyArns arns, Clock clock, AuditLog audit) {
    return new AccessControl(
        false,
        List.of(),
        PrincipalAccounts.allIn(arns.account()),
        hsm,
        store,
        arns,
        clock,
        audit,
        new RefusalAuditLimit(
            clock, RefusalAuditLimit.DEFAULT_PER_ADDRESS, RefusalAuditLimit.DEFAULT_OVERALL));
  }

  /**
   * Runs one operation for {@code principal} and records it under {@code auditedAs} (the operation
   * itself, or the batch an item belongs to) with {@code requestId}.
   *
   * @param operation the operation proper, given the request's key reads
   * @throws KmsException the operation's failure, or ACCESS_DENIED, after it was recorded
   * @throws AuditException when the record could not be written
   */
  public <R> R run(
      Caller caller,
      String requestId,
      Operation op,
      Operation auditedAs,
      OperationRequest request,
      KeyLookup lookup,
      Function<KeyLookup, R> operation) {
    AuthorizedCall call = start(caller, requestId, op, auditedAs);
    R result;
    try {
      call.authorize(request, lookup);
      result = operation.apply(lookup);
    } catch (AuditException e) {
      throw e;
    } catch (KmsException e) {
      call.failed(e.error().awsName());
      throw e;
    } catch (RuntimeException e) {
      call.failed(KmsError.INTERNAL.awsName());
      throw e;
    }
    call.succeeded(
        op == Operation.CREATE_KEY && result instanceof KeyMetadata created
            ? created.keyId()
            : null,
        request);
    return result;
  }

  /**
   * As {@link #run(Caller, String, Operation, Operation, OperationRequest, KeyLookup, Function)},
   * for {@code principal} in the account {@link #caller} finds for it.
   */
  public <R> R run(
      String principal,
      String requestId,
      Operation op,
      Operation auditedAs,
      OperationRequest request,
      KeyLookup lookup,
      Function<KeyLookup, R> operation) {
    return run(caller(principal), requestId, op, auditedAs, request, lookup, operation);
  }

  /**
   * One call's access, to be authorised and then recorded once, whatever its outcome, under {@code
   * auditedAs} (null: {@code op}).
   */
  public AuthorizedCall start(Caller caller, String requestId, Operation op, Operation auditedAs) {
    return new AuthorizedCall(this, caller, requestId, op, auditedAs);
  }

  /**
   * Records a request refused before its caller was authenticated (under {@code claimant}, who the
   * request claimed to be, and {@code errorName}), unless its client address is over the {@link
   * RefusalAuditLimit}.
   */
  public void refusedAuthentication(
      String clientAddress, Caller claimant, String requestId, Operation op, String errorName) {
    if (refusals.admit(clientAddress)) {
      start(claimant, requestId, op, null).failed(errorName);
    }
  }

  /** The bound on audit records of requests refused before authentication. */
  public RefusalAuditLimit refusalAuditLimit() {
    return refusals;
  }

  /** As {@link #start(Caller, String, Operation, Operation)} for {@code principal}. */
  public AuthorizedCall start(
      String principal, String requestId, Operation op, Operation auditedAs) {
    return start(caller(principal), requestId, op, auditedAs);
  }

  /**
   * The caller a principal string (a certificate's, see {@code auth/Principals}) stands for: in the
   * account its SPIFFE-style name or the configured mapping gives, else the default account.
   */
  public Caller caller(String principal) {
    return callers.caller(principal);
  }

  /**
   * {@code caller} acting for the customer a front end's request names: its principal ({@code
   * customer}) and, when that names no account, its account ({@code customerAccount}). Whether the
   * caller may is decided when the call is authorised (only a registered service's principals may).
   *
   * @param customer the customer's principal; null or empty: the caller acts for itself
   * @param customerAccount the customer's account; null: the one its principal names
   * @throws KmsException VALIDATION when {@code customerAccount} is not 12 digits, or is given
   *     without a customer
   */
  public Caller actingFor(Caller caller, String customer, String customerAccount) {
    return callers.actingFor(caller, customer, customerAccount);
  }

  /** See {@link Callers#requireCaller}. */
  void requireCaller(Caller caller) {
    callers.requireCaller(caller);
  }

  /** The account of principals that name none: {@code arn.account}. */
  public String defaultAccount() {
    return accounts.defaultAccount();
  }

  /** Whether principals come from client certificates (else every caller is local). */
  public boolean tls() {
    return tls;
  }

  /**
   * A new, empty {@link KeyLookup} for one request of {@code caller}: in the account of the
   * customer it acts for, if it does.
   */
  public KeyLookup lookup(Caller caller) {
    return keys.lookup(
        caller.effective().account(),
        () ->
            caller.onBehalfOf() == null
                ? services.serviceOf(caller.principal())
                : Optional.<String>empty());
  }

  /**
   * A registered service encrypting or making a data key for a customer under its own {@code
   * alias/aws/<service>}: the customer's account gets that service-managed key now if it has none.
   */
  void prepare(Operation op, Caller caller, OperationRequest request) {
    if (caller.onBehalfOf() == null
        || (op != Operation.ENCRYPT
            && op != Operation.GENERATE_DATA_KEY
            && op != Operation.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT)) {
      return;
    }
    services
        .serviceOf(caller.principal())
        .filter(s -> request.keyId().equals(ServiceManagedKeys.aliasOf(s)))
        .ifPresent(s -> managedKeys.ensure(caller.onBehalfOf().account(), s));
  }

  /** A new, empty {@link KeyLookup} for one request in the default account. */
  public KeyLookup lookup() {
    return keys.lookup(accounts.defaultAccount());
  }

  List<Check> checks(Operation op, OperationRequest request, KeyLookup lookup) {
    GrantTokens.check(request.grantTokens());
    if (op == Operation.CREATE_KEY && !request.policy().isEmpty()) {
      parsePolicy(request.policy());
    }
    return AccessChecks.of(op, request, new KeyResolver(lookup));
  }

  /** See {@link KeyAuthorization#authorize}. */
  void authorize(
      Caller call, List<Check> checks, KeyLookup lookup, Map<String, String> requestMetadata) {
    authorization.authorize(call, checks, lookup, requestMetadata);
  }

  /** The key's ARN, in its account. */
  String arn(KeyLookup lookup, UUID keyId) {
    return authorization.arn(lookup, keyId);
  }

  /** The key's account (12 digits); the default one for a key that does not exist. */
  String keyAccount(KeyLookup lookup, UUID keyId) {
    return authorization.keyAccount(lookup, keyId);
  }

  /** CreateKey succeeded: the key gets the request's policy, or the default one. */
  void created(String principal, UUID keyId, String requested) {
    String policy = requested;
    if (policy.isEmpty()) {
      List<String> principals = new ArrayList<>();
      principals.add(principal);
      principals.addAll(admins);
      policy = KeyPolicy.defaultDocument(principals);
    }
    access.putPolicy(keyId, policy, clock.instant());
  }

  /** Throws {@code AuditException} when a request's record could not be written now. */
  void ensureAuditWritable() {
    audit.ensureWritable();
  }

  void audit(AuditEntry entry) {
    audit.append(entry);
  }

  /**
   * @throws KmsException MALFORMED_POLICY when {@code policy} is not a policy this service takes
   */
  public static KeyPolicy parsePolicy(String policy) {
    try {
      return KeyPolicy.parse(policy);
    } catch (MalformedPolicyException e) {
      throw new KmsException(KmsError.MALFORMED_POLICY, e.getMessage());
    }
  }

  public String arn(UUID keyId) {
    return arns.keyArn(keyId);
  }

  public List<String> admins() {
    return admins;
  }

  public AccessStore access() {
    return access;
  }

  public Authorizer authorizer() {
    return authorizer;
  }

  public Clock clock() {
    return clock;
  }

  @Override
  public void close() {
    audit.close();
  }
}
