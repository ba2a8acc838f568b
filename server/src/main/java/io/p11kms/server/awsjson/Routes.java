package io.p11kms.server.awsjson;

import io.p11kms.server.access.AccessControl;
import io.p11kms.server.service.KmsServices;
import io.p11kms.server.service.Operation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON API's table: one {@link Route} per AWS KMS operation of the catalogue, found by the AWS
 * name in {@code X-Amz-Target}. Built once; two routes for one operation stop the server at start,
 * and {@code RoutesTest} checks that every AWS KMS operation of the catalogue has one.
 */
final class Routes {
  /**
   * The catalogue's groups that are not AWS KMS operations: this service's own batches (gRPC only)
   * and the external key store proxy API's (its own front end).
   */
  static final Set<Operation.Group> NOT_AWS_KMS =
      EnumSet.of(Operation.Group.BATCH, Operation.Group.XKS);

  private final Map<Operation, Route<?, ?>> routes;

  private Routes(Map<Operation, Route<?, ?>> routes) {
    this.routes = Collections.unmodifiableMap(routes);
  }

  static Routes of(KmsServices services, AccessControl control) {
    List<Route<?, ?>> all = new ArrayList<>();
    all.addAll(KeyRoutes.routes(services.keys(), services.multiRegion()));
    all.addAll(CryptoRoutes.routes(services.crypto()));
    all.addAll(LifecycleRoutes.routes(services.lifecycle(), services.aliases(), services.tags()));
    all.addAll(AccessRoutes.routes(control));
    all.addAll(RotationRoutes.routes(services.rotations()));
    all.addAll(
        AsymmetricRoutes.routes(services.signing(), services.macs(), services.dataKeyPairs()));
    all.addAll(ImportRoutes.routes(services.imports()));
    return of(all);
  }

  static Routes of(List<Route<?, ?>> all) {
    Map<Operation, Route<?, ?>> byOperation = new EnumMap<>(Operation.class);
    for (Route<?, ?> route : all) {
      if (byOperation.put(route.operation(), route) != null) {
        throw new IllegalStateException("two routes for " + route.operation().awsName());
      }
    }
    return new Routes(byOperation);
  }

  /** The route of the operation {@code awsName} names, or null. */
  Route<?, ?> find(String awsName) {
    Operation op = Operation.byName(awsName);
    return op == null ? null : routes.get(op);
  }

  /** The AWS KMS operations of the catalogue that have no route here (a test keeps it empty). */
  Set<Operation> missing() {
    Set<Operation> missing = EnumSet.noneOf(Operation.class);
    for (Operation op : Operation.values()) {
      if (!routes.containsKey(op) && !NOT_AWS_KMS.contains(op.group())) {
        missing.add(op);
      }
    }
    return missing;
  }
}
