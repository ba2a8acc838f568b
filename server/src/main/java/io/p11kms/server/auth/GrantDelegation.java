package io.p11kms.server.auth;

import io.p11kms.server.store.GrantRecord;
import java.util.Map;

/**
 * What a grant that allows CreateGrant lets its grantee grant, as AWS KMS: only operations of that
 * grant, and encryption-context constraints as strict as its own or stricter.
 */
final class GrantDelegation {
  private GrantDelegation() {}

  /** Whether {@code parent} lets its grantee create {@code child}. */
  static boolean covers(GrantRecord parent, GrantRecord child) {
    return parent.operations().contains("CreateGrant")
        && parent.operations().containsAll(child.operations())
        && atLeastAsStrict(child, parent);
  }

  /**
   * Whether every encryption context {@code child}'s constraints admit, {@code parent}'s admit too.
   * An EncryptionContextEquals parent admits one context, so the child must require just that one;
   * an EncryptionContextSubset parent admits every context that holds its pairs, so the child's
   * constraint (either kind) must hold them all.
   */
  static boolean atLeastAsStrict(GrantRecord child, GrantRecord parent) {
    if (!parent.contextEquals().isEmpty()) {
      return parent.contextEquals().equals(child.contextEquals());
    }
    Map<String, String> required =
        child.contextEquals().isEmpty() ? child.contextSubset() : child.contextEquals();
    return required.entrySet().containsAll(parent.contextSubset().entrySet());
  }
}
