package io.p11kms.server.awsjson;

import io.p11kms.server.access.Caller;
import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.service.KeyLookup;
import io.p11kms.server.service.Operation;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * One operation of the JSON API: the record its request is read into, the service call it makes
 * (inside {@code AccessControl.run}, so after validation and authorisation) and how the service's
 * result becomes the response record that is written.
 *
 * @param <Q> the request record
 * @param <S> what the service call returns (the response record itself, or for CreateKey the
 *     service's {@code KeyMetadata}, which the access control reads)
 */
record Route<Q extends OperationRequest, S>(
    Operation operation,
    Class<Q> requestType,
    BiFunction<Call, Q, S> call,
    Function<S, Object> response) {

  /** What a service call sees of its request beside the request record. */
  record Call(Caller caller, KeyLookup lookup) {}

  /** A route whose service call returns the response record itself. */
  static <Q extends OperationRequest> Route<Q, Object> of(
      Operation operation, Class<Q> requestType, BiFunction<Call, Q, Object> call) {
    return new Route<>(operation, requestType, call, Function.identity());
  }

  /** A route for an operation that answers with an empty object. */
  static <Q extends OperationRequest> Route<Q, Object> empty(
      Operation operation, Class<Q> requestType, java.util.function.Consumer<Q> call) {
    return of(
        operation,
        requestType,
        (c, r) -> {
          call.accept(r);
          return Empty.INSTANCE;
        });
  }

  /** The response of an operation that returns nothing: {@code {}}. */
  record Empty() {
    static final Empty INSTANCE = new Empty();
  }

  /** A response holding plaintext: cleared once it is written. */
  interface Secret {
    void wipe();
  }
}
