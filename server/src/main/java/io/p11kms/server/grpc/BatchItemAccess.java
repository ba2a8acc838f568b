package io.p11kms.server.grpc;

import com.google.protobuf.Message;
import io.grpc.Context;
import io.p11kms.server.audit.AuditException;
import io.p11kms.server.audit.AuditLog;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Authorisation and audit of each item of a batch call, as the single call the item stands for: the
 * item is checked by {@link AccessRules} under its own method (Encrypt, Decrypt) before it runs,
 * and recorded once it ends, allowed, denied or failed, under the batch's method with the call's
 * request id and the item's index ({@code <request id>/<index>}). {@link AccessInterceptor} puts
 * one in the call's context; without an access layer items are neither checked nor recorded.
 */
final class BatchItemAccess {
  private static final Context.Key<BatchItemAccess> ITEMS = Context.key("p11kms-batch-items");
  private static final BatchItemAccess NONE = new BatchItemAccess(null, null, null);

  private final AccessLayer layer;
  private final String principal;
  private final String requestId;

  BatchItemAccess(AccessLayer layer, String principal, String requestId) {
    this.layer = layer;
    this.principal = principal;
    this.requestId = requestId;
  }

  static Context with(Context context, BatchItemAccess items) {
    return context.withValue(ITEMS, items);
  }

  static BatchItemAccess current() {
    BatchItemAccess items = ITEMS.get();
    return items != null ? items : NONE;
  }

  /**
   * Runs one item: authorises it as {@code itemMethod}, runs {@code operation}, records the
   * outcome. The item's failure is thrown after it was recorded; a record that cannot be written
   * throws {@link AuditException}, which fails the whole call.
   */
  <T> T run(
      String batchMethod,
      String itemMethod,
      int index,
      Message item,
      KeyLookup lookup,
      Supplier<T> operation) {
    if (layer == null) {
      return operation.get();
    }
    Target target = new Target();
    try {
      GrantTokens.check(item);
      layer.authorize(
          principal,
          itemMethod,
          item,
          lookup,
          checks -> {
            if (!checks.isEmpty()) {
              target.keyArn = layer.arn(checks.get(0).keyId());
              target.contextKeys = new ArrayList<>(new TreeSet<>(checks.get(0).context().keySet()));
            }
          });
      T result = operation.get();
      record(batchMethod, index, target, "SUCCEEDED", "");
      return result;
    } catch (AuditException e) {
      throw e;
    } catch (KmsException e) {
      String outcome = e.error() == KmsError.ACCESS_DENIED ? "DENIED" : "FAILED";
      record(batchMethod, index, target, outcome, e.error().awsName());
      throw e;
    } catch (RuntimeException e) {
      record(batchMethod, index, target, "FAILED", KmsError.INTERNAL.awsName());
      throw e;
    }
  }

  /** The key an item was checked on, for its record. */
  private static final class Target {
    String keyArn = "";
    List<String> contextKeys = List.of();
  }

  private void record(String method, int index, Target target, String outcome, String error) {
    layer.audit(
        new AuditLog.Entry(
            requestId + "/" + index,
            principal,
            method,
            target.keyArn,
            target.contextKeys,
            outcome,
            error));
  }
}
