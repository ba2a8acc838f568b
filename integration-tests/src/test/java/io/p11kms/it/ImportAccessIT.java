package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static io.p11kms.it.KmsSecureTestServer.ALICE;
import static io.p11kms.it.KmsSecureTestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.hsm.testing.CustomerKeyWrap;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DeleteImportedKeyMaterialRequest;
import io.p11kms.proto.v1.ExpirationModelType;
import io.p11kms.proto.v1.GetParametersForImportRequest;
import io.p11kms.proto.v1.GetParametersForImportResponse;
import io.p11kms.proto.v1.ImportKeyMaterialRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.KeySpec;
import io.p11kms.proto.v1.Origin;
import io.p11kms.proto.v1.WrappingAlgorithmSpec;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The import operations over mutual TLS with the production access layer: each needs its own {@code
 * kms:} action in the key's policy, is refused before any token call without it, and every call,
 * allowed or denied, is in the audit log with its key.
 */
class ImportAccessIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> IMPORT_OPERATIONS =
      List.of("GetParametersForImport", "ImportKeyMaterial", "DeleteImportedKeyMaterial");

  @Test
  void eachImportOperation_needsItsAction_andIsAudited() throws Exception {
    try (KmsSecureTestServer server = KmsSecureTestServer.start()) {
      KeyManagementServiceBlockingStub admin = server.client(ADMIN);
      KeyManagementServiceBlockingStub alice = server.client(ALICE);
      KeyManagementServiceBlockingStub bob = server.client(BOB);
      String policy =
          """
          {"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"%s"},
             "Action":["kms:GetParametersForImport","kms:ImportKeyMaterial"],"Resource":"*"}]}
          """
              .formatted(ADMIN, ALICE);
      KeyMetadata key =
          admin
              .createKey(
                  CreateKeyRequest.newBuilder()
                      .setOrigin(Origin.EXTERNAL)
                      .setPolicy(policy)
                      .build())
              .getKeyMetadata();
      String keyId = key.getKeyId();

      Rpc.assertFails(
          () -> parameters(bob, keyId), Status.Code.PERMISSION_DENIED, "AccessDeniedException");
      GetParametersForImportResponse parameters = parameters(alice, keyId);
      byte[] wrapped =
          CustomerKeyWrap.wrap(
              parameters.getPublicKey().toByteArray(),
              "SHA-1",
              false,
              CustomerKeyWrap.newMaterial());
      ImportKeyMaterialRequest importRequest =
          ImportKeyMaterialRequest.newBuilder()
              .setKeyId(keyId)
              .setImportToken(parameters.getImportToken())
              .setEncryptedKeyMaterial(ByteString.copyFrom(wrapped))
              .setExpirationModel(ExpirationModelType.KEY_MATERIAL_DOES_NOT_EXPIRE)
              .build();
      Rpc.assertFails(
          () -> bob.importKeyMaterial(importRequest),
          Status.Code.PERMISSION_DENIED,
          "AccessDeniedException");
      alice.importKeyMaterial(importRequest);
      DeleteImportedKeyMaterialRequest delete =
          DeleteImportedKeyMaterialRequest.newBuilder().setKeyId(keyId).build();
      Rpc.assertFails(
          () -> alice.deleteImportedKeyMaterial(delete),
          Status.Code.PERMISSION_DENIED,
          "AccessDeniedException");
      admin.deleteImportedKeyMaterial(delete);

      List<String> audited = new ArrayList<>();
      for (String line : Files.readString(server.auditFile()).split("\n")) {
        JsonNode r = JSON.readTree(line);
        String operation = r.path("operation").asText();
        if (r.path("type").asText().equals("request") && IMPORT_OPERATIONS.contains(operation)) {
          assertThat(r.path("keyArn").asText()).isEqualTo(key.getArn());
          audited.add(
              r.path("principal").asText() + " " + operation + " " + r.path("outcome").asText());
        }
      }
      assertThat(audited)
          .containsExactly(
              BOB + " GetParametersForImport DENIED",
              ALICE + " GetParametersForImport SUCCEEDED",
              BOB + " ImportKeyMaterial DENIED",
              ALICE + " ImportKeyMaterial SUCCEEDED",
              ALICE + " DeleteImportedKeyMaterial DENIED",
              ADMIN + " DeleteImportedKeyMaterial SUCCEEDED");
    }
  }

  private static GetParametersForImportResponse parameters(
      KeyManagementServiceBlockingStub client, String keyId) {
    return client.getParametersForImport(
        GetParametersForImportRequest.newBuilder()
            .setKeyId(keyId)
            .setWrappingAlgorithm(WrappingAlgorithmSpec.WRAPPING_RSAES_OAEP_SHA_1)
            .setWrappingKeySpec(KeySpec.RSA_2048)
            .build());
  }
}
