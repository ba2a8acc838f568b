package io.p11kms.server.audit;

import java.util.List;
import java.util.Map;

/**
 * One request, as recorded. Built with {@link #builder}: what a record does not name is left out of
 * its line (the accounts, the caller a registered service acted for, the XKS request metadata).
 *
 * @param requestId the request's id, as the front end returned it
 * @param principal the caller
 * @param operation the operation's AWS name
 * @param keyArn the ARN of the key the request names; "" when none
 * @param contextKeys the keys (never the values) of the request's encryption context; null when the
 *     operation takes none
 * @param outcome SUCCEEDED, FAILED or DENIED
 * @param error the AWS exception name of a failure; "" on success
 * @param account the caller's account; null: none recorded
 * @param keyAccount the account of the key the request names; null: none recorded
 * @param requestMetadata the XKS proxy API's requestMetadata; empty for every other request
 * @param onBehalfOf the customer's principal a registered service called for; null: none
 * @param onBehalfOfAccount that customer's account; null: none
 */
public record AuditEntry(
    String requestId,
    String principal,
    String operation,
    String keyArn,
    List<String> contextKeys,
    String outcome,
    String error,
    String account,
    String keyAccount,
    Map<String, String> requestMetadata,
    String onBehalfOf,
    String onBehalfOfAccount) {

  public AuditEntry {
    requestMetadata = requestMetadata == null ? Map.of() : requestMetadata;
  }

  /** A record of {@code operation}, called by {@code principal}, in request {@code requestId}. */
  public static Builder builder(String requestId, String principal, String operation) {
    return new Builder(requestId, principal, operation);
  }

  /** The parts of a record that some requests have and others not. */
  public static final class Builder {
    private final String requestId;
    private final String principal;
    private final String operation;
    private String keyArn = "";
    private List<String> contextKeys;
    private String outcome;
    private String error = "";
    private String account;
    private String keyAccount;
    private Map<String, String> requestMetadata = Map.of();
    private String onBehalfOf;
    private String onBehalfOfAccount;

    private Builder(String requestId, String principal, String operation) {
      this.requestId = requestId;
      this.principal = principal;
      this.operation = operation;
    }

    public Builder keyArn(String keyArn) {
      this.keyArn = keyArn;
      return this;
    }

    public Builder keyAccount(String keyAccount) {
      this.keyAccount = keyAccount;
      return this;
    }

    public Builder contextKeys(List<String> contextKeys) {
      this.contextKeys = contextKeys;
      return this;
    }

    public Builder outcome(String outcome, String error) {
      this.outcome = outcome;
      this.error = error;
      return this;
    }

    public Builder account(String account) {
      this.account = account;
      return this;
    }

    public Builder requestMetadata(Map<String, String> requestMetadata) {
      this.requestMetadata = requestMetadata;
      return this;
    }

    /** The customer a registered service called for: its principal and account. */
    public Builder onBehalfOf(String principal, String account) {
      this.onBehalfOf = principal;
      this.onBehalfOfAccount = account;
      return this;
    }

    public AuditEntry build() {
      return new AuditEntry(
          requestId,
          principal,
          operation,
          keyArn,
          contextKeys,
          outcome,
          error,
          account,
          keyAccount,
          requestMetadata,
          onBehalfOf,
          onBehalfOfAccount);
    }
  }
}
