package io.p11kms.server.access;

import io.p11kms.server.audit.AuditEntry;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.Operation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;

/**
 * One call's passage through {@link AccessControl}: {@link #authorize} before the operation runs,
 * then exactly one of {@link #succeeded} or {@link #failed}, which writes its audit record: who,
 * which operation, on which key, the names (never the values) of the encryption context, the
 * outcome and the AWS error name, and an XKS request's requestMetadata.
 */
public final class AuthorizedCall {
  private final AccessControl control;
  private final Caller caller;
  private final String requestId;
  private final Operation op;
  private final Operation auditedAs;
  private String keyArn = "";
  private String keyAccount;
  private List<String> contextKeys = List.of();
  private Map<String, String> requestMetadata = Map.of();

  AuthorizedCall(
      AccessControl control, Caller caller, String requestId, Operation op, Operation auditedAs) {
    this.control = control;
    this.caller = java.util.Objects.requireNonNull(caller);
    this.requestId = requestId;
    this.op = java.util.Objects.requireNonNull(op);
    this.auditedAs = auditedAs;
  }

  public String principal() {
    return caller.principal();
  }

  public Caller caller() {
    return caller;
  }

  /**
   * Validates the request, finds its keys through {@code lookup} and authorises it; then, for a
   * call of its own (not an item of a batch, whose call was checked as a whole) that may change
   * something ({@link Operation#answerIsItsOnlyEffect}), checks that its record can be written, so
   * that a call that could not be recorded fails before it has any effect.
   *
   * @throws io.p11kms.server.service.KmsException VALIDATION, MALFORMED_POLICY, ACCESS_DENIED
   * @throws io.p11kms.server.audit.AuditException when the audit log cannot be written
   */
  public void authorize(OperationRequest request, KeyLookup lookup) {
    requestMetadata = request.requestMetadata();
    control.requireCaller(caller);
    control.prepare(op, caller, request);
    List<Check> checks = control.checks(op, request, lookup);
    if (!checks.isEmpty()) {
      Check first = checks.get(0);
      keyArn = control.arn(lookup, first.keyId());
      keyAccount = control.keyAccount(lookup, first.keyId());
      if (op.takesContext() && !first.context().isEmpty()) {
        contextKeys = new ArrayList<>(new TreeSet<>(first.context().keySet()));
      }
    }
    control.authorize(caller, checks, lookup, requestMetadata);
    // The record's write checks the log again (a stat of its file, about 1.5 us of CPU each): an
    // operation whose answer is its only effect is refused there, before its answer, and needs no
    // check before it runs.
    if (auditedAs == null && !op.answerIsItsOnlyEffect()) {
      control.ensureAuditWritable();
    }
  }

  /**
   * Records success. A CreateKey's new key ({@code createdKey}) gets its policy first.
   *
   * @throws io.p11kms.server.audit.AuditException when the record could not be written
   */
  public void succeeded(UUID createdKey, OperationRequest request) {
    if (createdKey != null) {
      control.created(caller.effective().principal(), createdKey, request.policy());
      keyArn = control.arn(control.lookup(caller), createdKey);
      keyAccount = caller.effective().account();
    }
    record("SUCCEEDED", "");
  }

  /**
   * Records a failure by its AWS error name: DENIED for AccessDeniedException, else FAILED.
   *
   * @throws io.p11kms.server.audit.AuditException when the record could not be written
   */
  public void failed(String awsError) {
    record(awsError.equals(KmsError.ACCESS_DENIED.awsName()) ? "DENIED" : "FAILED", awsError);
  }

  private void record(String outcome, String error) {
    control.audit(
        AuditEntry.builder(
                requestId,
                caller.principal(),
                auditedAs == null ? op.awsName() : auditedAs.awsName())
            .keyArn(keyArn)
            .keyAccount(keyAccount)
            .contextKeys(contextKeys)
            .outcome(outcome, error)
            .account(caller.account())
            .requestMetadata(requestMetadata)
            .onBehalfOf(
                caller.onBehalfOf() == null ? null : caller.onBehalfOf().principal(),
                caller.onBehalfOf() == null ? null : caller.onBehalfOf().account())
            .build());
  }
}
