package io.p11kms.server.grpc;

import com.google.protobuf.Message;
import io.grpc.Context;
import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.Caller;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.Operation;
import java.util.function.Supplier;

/**
 * Authorisation and audit of each item of a batch call, as the single call the item stands for: the
 * item runs through {@link AccessControl#run} as its own operation (Encrypt, Decrypt) and is
 * recorded under the batch's operation with the call's request id and the item's index ({@code
 * <request id>/<index>}). {@link AccessInterceptor} puts one in the call's context; without an
 * access layer items are neither checked nor recorded.
 */
final class BatchItemAccess {
  private static final Context.Key<BatchItemAccess> ITEMS = Context.key("p11kms-batch-items");
  private static final BatchItemAccess NONE = new BatchItemAccess(null, null, null);

  private final AccessControl control;
  private final Caller caller;
  private final String requestId;

  BatchItemAccess(AccessControl control, Caller caller, String requestId) {
    this.control = control;
    this.caller = caller;
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
   * Runs one item: authorises it as {@code itemOperation}, runs {@code operation}, records the
   * outcome. The item's failure is thrown after it was recorded; a record that cannot be written
   * throws {@link io.p11kms.server.audit.AuditException}, which fails the whole call.
   */
  <T> T run(
      Operation batch,
      Operation itemOperation,
      int index,
      Message item,
      KeyLookup lookup,
      Supplier<T> operation) {
    if (control == null) {
      return operation.get();
    }
    return control.run(
        caller,
        requestId + "/" + index,
        itemOperation,
        batch,
        new ProtoRequest(itemOperation, item),
        lookup,
        l -> operation.get());
  }
}
