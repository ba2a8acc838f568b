package io.p11kms.server.grpc;

import com.google.protobuf.ByteString;
import io.p11kms.proto.v1.DeleteImportedKeyMaterialRequest;
import io.p11kms.proto.v1.DeleteImportedKeyMaterialResponse;
import io.p11kms.proto.v1.GetParametersForImportRequest;
import io.p11kms.proto.v1.GetParametersForImportResponse;
import io.p11kms.proto.v1.ImportKeyMaterialRequest;
import io.p11kms.proto.v1.ImportKeyMaterialResponse;
import io.p11kms.server.service.ImportService;
import java.util.UUID;

/**
 * The messages of the imported key material operations, to and from service calls. {@link
 * KmsGrpcService} registers them; failures become statuses there.
 */
public final class ImportHandlers {
  private final ImportService imports;

  public ImportHandlers(ImportService imports) {
    this.imports = imports;
  }

  GetParametersForImportResponse getParametersForImport(GetParametersForImportRequest request) {
    ImportService.Parameters parameters =
        imports.getParametersForImport(
            request.getKeyId(),
            ProtoMapping.wrappingAlgorithm(request.getWrappingAlgorithm()),
            ProtoMapping.keySpec(request.getWrappingKeySpec(), "WrappingKeySpec"));
    return GetParametersForImportResponse.newBuilder()
        .setKeyId(parameters.keyArn())
        .setImportToken(ByteString.copyFrom(parameters.importToken()))
        .setPublicKey(ByteString.copyFrom(parameters.publicKey()))
        .setParametersValidTo(ProtoMapping.timestamp(parameters.parametersValidTo()))
        .build();
  }

  ImportKeyMaterialResponse importKeyMaterial(ImportKeyMaterialRequest request) {
    ImportService.Material material =
        imports.importKeyMaterial(
            request.getKeyId(),
            request.getImportToken().toByteArray(),
            request.getEncryptedKeyMaterial().toByteArray(),
            request.hasValidTo() ? ProtoMapping.instant(request.getValidTo()) : null,
            ProtoMapping.expirationModel(request.getExpirationModel()));
    return ImportKeyMaterialResponse.newBuilder()
        .setKeyId(material.keyArn())
        .setKeyMaterialId(material.keyMaterialId().toString())
        .build();
  }

  DeleteImportedKeyMaterialResponse deleteImportedKeyMaterial(
      DeleteImportedKeyMaterialRequest request) {
    ImportService.Material material = imports.deleteImportedKeyMaterial(request.getKeyId());
    DeleteImportedKeyMaterialResponse.Builder builder =
        DeleteImportedKeyMaterialResponse.newBuilder().setKeyId(material.keyArn());
    UUID id = material.keyMaterialId();
    if (id != null) {
      builder.setKeyMaterialId(id.toString());
    }
    return builder.build();
  }
}
