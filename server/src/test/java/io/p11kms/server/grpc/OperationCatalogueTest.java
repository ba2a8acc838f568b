package io.p11kms.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.MethodDescriptor;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.server.service.Operation;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The gRPC service and the operation catalogue's KMS API operations are the same. */
class OperationCatalogueTest {
  @Test
  void everyRpc_isAnOperation_andEveryOperationAnRpc() {
    assertThat(
            KeyManagementServiceGrpc.getServiceDescriptor().getMethods().stream()
                .map(m -> ((MethodDescriptor<?, ?>) m).getBareMethodName()))
        .containsExactlyInAnyOrderElementsOf(
            Arrays.stream(Operation.values())
                .filter(Operation::kmsApi)
                .map(Operation::awsName)
                .toList());
  }
}
