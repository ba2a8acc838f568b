package io.p11kms.server.awsjson;

import static io.p11kms.server.awsjson.Members.orEmpty;

import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.service.ExpirationModel;
import io.p11kms.server.service.ImportService;
import io.p11kms.server.service.KeySpec;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.Operation;
import io.p11kms.server.service.WrappingAlgorithm;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * GetParametersForImport, ImportKeyMaterial and DeleteImportedKeyMaterial: their members as the KMS
 * service model names them.
 */
final class ImportRoutes {
  private ImportRoutes() {}

  record GetParametersForImportRequest(
      String keyId, String wrappingAlgorithm, String wrappingKeySpec) implements OperationRequest {
    GetParametersForImportRequest {
      keyId = orEmpty(keyId);
    }
  }

  /** ValidTo: a timestamp, epoch seconds (a number) as AWS's JSON protocol sends it. */
  record ImportKeyMaterialRequest(
      String keyId,
      byte[] importToken,
      byte[] encryptedKeyMaterial,
      BigDecimal validTo,
      String expirationModel,
      String importType,
      String keyMaterialDescription,
      String keyMaterialId)
      implements OperationRequest {
    ImportKeyMaterialRequest {
      keyId = orEmpty(keyId);
      importToken = orEmpty(importToken);
      encryptedKeyMaterial = orEmpty(encryptedKeyMaterial);
    }
  }

  record DeleteImportedKeyMaterialRequest(String keyId, String keyMaterialId)
      implements OperationRequest {
    DeleteImportedKeyMaterialRequest {
      keyId = orEmpty(keyId);
    }
  }

  record GetParametersForImportResponse(
      String keyId, byte[] importToken, byte[] publicKey, Instant parametersValidTo) {}

  record KeyMaterialResponse(String keyId, String keyMaterialId) {}

  static List<Route<?, ?>> routes(ImportService imports) {
    return List.of(
        Route.of(
            Operation.GET_PARAMETERS_FOR_IMPORT,
            GetParametersForImportRequest.class,
            (c, r) -> {
              ImportService.Parameters p =
                  imports.getParametersForImport(
                      r.keyId(),
                      AwsEnums.parse(
                          WrappingAlgorithm.class, r.wrappingAlgorithm(), "WrappingAlgorithm"),
                      AwsEnums.parse(KeySpec.class, r.wrappingKeySpec(), "WrappingKeySpec"));
              return new GetParametersForImportResponse(
                  p.keyArn(), p.importToken(), p.publicKey(), p.parametersValidTo());
            }),
        Route.of(
            Operation.IMPORT_KEY_MATERIAL,
            ImportKeyMaterialRequest.class,
            (c, r) -> {
              if (r.importType() != null || r.keyMaterialId() != null) {
                throw new KmsException(
                    KmsError.UNSUPPORTED_OPERATION,
                    "ImportType and KeyMaterialId (new key material for a rotation) are not"
                        + " supported");
              }
              ImportService.Material m =
                  imports.importKeyMaterial(
                      r.keyId(),
                      r.importToken(),
                      r.encryptedKeyMaterial(),
                      instant(r.validTo()),
                      AwsEnums.parse(
                          ExpirationModel.class, r.expirationModel(), "ExpirationModel"));
              return new KeyMaterialResponse(m.keyArn(), m.keyMaterialId().toString());
            }),
        Route.of(
            Operation.DELETE_IMPORTED_KEY_MATERIAL,
            DeleteImportedKeyMaterialRequest.class,
            (c, r) -> {
              ImportService.Material m = imports.deleteImportedKeyMaterial(r.keyId());
              UUID id = m.keyMaterialId();
              return new KeyMaterialResponse(m.keyArn(), id == null ? null : id.toString());
            }));
  }

  private static Instant instant(BigDecimal epochSeconds) {
    if (epochSeconds == null) {
      return null;
    }
    try {
      BigDecimal millis = epochSeconds.movePointRight(3);
      return Instant.ofEpochMilli(millis.longValueExact());
    } catch (ArithmeticException | java.time.DateTimeException e) {
      throw new KmsException(KmsError.VALIDATION, "ValidTo is not a valid timestamp");
    }
  }
}
