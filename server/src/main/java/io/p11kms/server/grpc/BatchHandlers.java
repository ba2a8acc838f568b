package io.p11kms.server.grpc;

import com.google.protobuf.Message;
import io.p11kms.proto.v1.BatchDecryptRequest;
import io.p11kms.proto.v1.BatchDecryptResponse;
import io.p11kms.proto.v1.BatchDecryptResult;
import io.p11kms.proto.v1.BatchEncryptRequest;
import io.p11kms.proto.v1.BatchEncryptResponse;
import io.p11kms.proto.v1.BatchEncryptResult;
import io.p11kms.proto.v1.BatchItemError;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DecryptResponse;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptResponse;
import io.p11kms.server.audit.AuditException;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.Operation;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * BatchEncrypt and BatchDecrypt: up to {@value #MAX_ITEMS} single calls in one, each item run as
 * its own Encrypt or Decrypt (checked and recorded by {@link BatchItemAccess}), its failure
 * returned in its place. The items share the call's key reads and its trip through the transport,
 * which is what a batch saves.
 */
final class BatchHandlers {
  static final int MAX_ITEMS = 100;

  private final KeyService keys;
  private final BiFunction<KeyLookup, EncryptRequest, EncryptResponse> encrypt;
  private final BiFunction<KeyLookup, DecryptRequest, DecryptResponse> decrypt;

  BatchHandlers(
      KeyService keys,
      BiFunction<KeyLookup, EncryptRequest, EncryptResponse> encrypt,
      BiFunction<KeyLookup, DecryptRequest, DecryptResponse> decrypt) {
    this.keys = keys;
    this.encrypt = encrypt;
    this.decrypt = decrypt;
  }

  BatchEncryptResponse encrypt(BatchEncryptRequest request) {
    List<EncryptRequest> items = request.getItemsList();
    requireCount(items.size());
    Items run = new Items(Operation.BATCH_ENCRYPT, Operation.ENCRYPT);
    BatchEncryptResponse.Builder out = BatchEncryptResponse.newBuilder();
    for (int i = 0; i < items.size(); i++) {
      EncryptRequest item = items.get(i);
      try {
        EncryptResponse done = run.item(i, item, l -> encrypt.apply(l, item));
        out.addResults(BatchEncryptResult.newBuilder().setResponse(done));
      } catch (KmsException e) {
        out.addResults(BatchEncryptResult.newBuilder().setError(error(e)));
      }
    }
    return out.build();
  }

  BatchDecryptResponse decrypt(BatchDecryptRequest request) {
    List<DecryptRequest> items = request.getItemsList();
    requireCount(items.size());
    Items run = new Items(Operation.BATCH_DECRYPT, Operation.DECRYPT);
    BatchDecryptResponse.Builder out = BatchDecryptResponse.newBuilder();
    for (int i = 0; i < items.size(); i++) {
      DecryptRequest item = items.get(i);
      try {
        DecryptResponse done = run.item(i, item, l -> decrypt.apply(l, item));
        out.addResults(BatchDecryptResult.newBuilder().setResponse(done));
      } catch (KmsException e) {
        out.addResults(BatchDecryptResult.newBuilder().setError(error(e)));
      }
    }
    return out.build();
  }

  private static void requireCount(int count) {
    if (count < 1 || count > MAX_ITEMS) {
      throw new KmsException(
          KmsError.VALIDATION,
          "Items must hold 1 to " + MAX_ITEMS + " requests, it holds " + count);
    }
  }

  private static BatchItemError error(KmsException e) {
    return BatchItemError.newBuilder()
        .setErrorCode(e.error().awsName())
        .setMessage(e.getMessage())
        .build();
  }

  /** The items of one call: its key reads, its access and whether the token stopped answering. */
  private final class Items {
    private final Operation batch;
    private final Operation itemOperation;
    private final KeyLookup lookup = RequestLookups.current(keys);
    private final BatchItemAccess access = BatchItemAccess.current();
    private boolean tokenDown;

    Items(Operation batch, Operation itemOperation) {
      this.batch = batch;
      this.itemOperation = itemOperation;
    }

    /**
     * Runs one item; its failure as a KmsException (an unexpected one becomes an internal error,
     * logged with an id as a single call's would be). After a token timeout the remaining items
     * fail at once with the same error instead of each waiting out the call deadline.
     */
    <T> T item(int index, Message item, Function<KeyLookup, T> op) {
      try {
        return access.run(
            batch,
            itemOperation,
            index,
            item,
            lookup,
            () -> {
              if (tokenDown) {
                throw new KmsException(
                    KmsError.DEPENDENCY_TIMEOUT, "The key store's token did not answer in time");
              }
              return op.apply(lookup);
            });
      } catch (AuditException e) {
        throw e;
      } catch (KmsException e) {
        if (e.error() == KmsError.DEPENDENCY_TIMEOUT) {
          tokenDown = true;
        }
        throw e;
      } catch (RuntimeException e) {
        throw ErrorStatus.internal(e);
      }
    }
  }
}
