package io.p11kms.server.awsjson;

import static io.p11kms.server.awsjson.Members.orEmpty;

import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.service.Ciphertext;
import io.p11kms.server.service.CryptoService;
import io.p11kms.server.service.DataKey;
import io.p11kms.server.service.DataKeySpec;
import io.p11kms.server.service.EncryptionAlgorithm;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.Operation;
import io.p11kms.server.service.Plaintext;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext and GenerateRandom:
 * their members as the KMS service model names them.
 */
final class CryptoRoutes {
  private static final String SYMMETRIC = EncryptionAlgorithm.SYMMETRIC_DEFAULT.name();

  private CryptoRoutes() {}

  record EncryptRequest(
      String keyId,
      byte[] plaintext,
      Map<String, String> encryptionContext,
      List<String> grantTokens,
      String encryptionAlgorithm,
      Boolean dryRun)
      implements OperationRequest {
    EncryptRequest {
      keyId = orEmpty(keyId);
      plaintext = orEmpty(plaintext);
      encryptionContext = orEmpty(encryptionContext);
      grantTokens = orEmpty(grantTokens);
    }

    @Override
    public boolean asymmetricAlgorithm() {
      return asymmetric(encryptionAlgorithm);
    }
  }

  record DecryptRequest(
      byte[] ciphertextBlob,
      Map<String, String> encryptionContext,
      List<String> grantTokens,
      String keyId,
      String encryptionAlgorithm,
      Object recipient,
      Boolean dryRun)
      implements OperationRequest {
    DecryptRequest {
      ciphertextBlob = orEmpty(ciphertextBlob);
      encryptionContext = orEmpty(encryptionContext);
      grantTokens = orEmpty(grantTokens);
      keyId = orEmpty(keyId);
    }

    @Override
    public boolean asymmetricAlgorithm() {
      return asymmetric(encryptionAlgorithm);
    }
  }

  record ReEncryptRequest(
      byte[] ciphertextBlob,
      Map<String, String> sourceEncryptionContext,
      String sourceKeyId,
      String destinationKeyId,
      Map<String, String> destinationEncryptionContext,
      String sourceEncryptionAlgorithm,
      String destinationEncryptionAlgorithm,
      List<String> grantTokens,
      Boolean dryRun)
      implements OperationRequest {
    ReEncryptRequest {
      ciphertextBlob = orEmpty(ciphertextBlob);
      sourceEncryptionContext = orEmpty(sourceEncryptionContext);
      sourceKeyId = orEmpty(sourceKeyId);
      destinationKeyId = orEmpty(destinationKeyId);
      destinationEncryptionContext = orEmpty(destinationEncryptionContext);
      grantTokens = orEmpty(grantTokens);
    }

    @Override
    public String keyId() {
      return sourceKeyId;
    }

    @Override
    public Map<String, String> encryptionContext() {
      return sourceEncryptionContext;
    }

    @Override
    public boolean asymmetricAlgorithm() {
      return asymmetric(sourceEncryptionAlgorithm);
    }
  }

  record GenerateDataKeyRequest(
      String keyId,
      Map<String, String> encryptionContext,
      Integer numberOfBytes,
      String keySpec,
      List<String> grantTokens,
      Object recipient,
      Boolean dryRun)
      implements OperationRequest {
    GenerateDataKeyRequest {
      keyId = orEmpty(keyId);
      encryptionContext = orEmpty(encryptionContext);
      grantTokens = orEmpty(grantTokens);
    }
  }

  record GenerateRandomRequest(Integer numberOfBytes, String customKeyStoreId, Object recipient)
      implements OperationRequest {}

  record EncryptResponse(byte[] ciphertextBlob, String keyId, String encryptionAlgorithm) {}

  record DecryptResponse(String keyId, byte[] plaintext, String encryptionAlgorithm)
      implements Route.Secret {
    @Override
    public void wipe() {
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  record ReEncryptResponse(
      byte[] ciphertextBlob,
      String sourceKeyId,
      String keyId,
      String sourceEncryptionAlgorithm,
      String destinationEncryptionAlgorithm) {}

  record GenerateDataKeyResponse(byte[] ciphertextBlob, byte[] plaintext, String keyId)
      implements Route.Secret {
    @Override
    public void wipe() {
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  record GenerateDataKeyWithoutPlaintextResponse(byte[] ciphertextBlob, String keyId) {}

  record GenerateRandomResponse(byte[] plaintext) implements Route.Secret {
    @Override
    public void wipe() {
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  static List<Route<?, ?>> routes(CryptoService crypto) {
    return List.of(
        Route.of(
            Operation.ENCRYPT,
            EncryptRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              EncryptionAlgorithm algorithm =
                  algorithm(r.encryptionAlgorithm(), "EncryptionAlgorithm");
              Ciphertext out =
                  crypto.encrypt(
                      c.lookup(), r.keyId(), r.plaintext(), r.encryptionContext(), algorithm);
              return new EncryptResponse(out.blob(), out.keyArn(), name(algorithm));
            }),
        Route.of(
            Operation.DECRYPT,
            DecryptRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              refuseRecipient(r.recipient());
              EncryptionAlgorithm algorithm =
                  algorithm(r.encryptionAlgorithm(), "EncryptionAlgorithm");
              Plaintext out =
                  crypto.decrypt(
                      c.lookup(), r.ciphertextBlob(), r.encryptionContext(), r.keyId(), algorithm);
              // The response owns the plaintext's bytes and clears them once written.
              return new DecryptResponse(out.keyArn(), out.bytes(), name(algorithm));
            }),
        Route.of(
            Operation.RE_ENCRYPT,
            ReEncryptRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              EncryptionAlgorithm source =
                  algorithm(r.sourceEncryptionAlgorithm(), "SourceEncryptionAlgorithm");
              EncryptionAlgorithm destination =
                  algorithm(r.destinationEncryptionAlgorithm(), "DestinationEncryptionAlgorithm");
              CryptoService.ReEncrypted out =
                  crypto.reEncrypt(
                      c.lookup(),
                      r.ciphertextBlob(),
                      r.sourceEncryptionContext(),
                      r.sourceKeyId(),
                      source,
                      r.destinationKeyId(),
                      r.destinationEncryptionContext(),
                      destination);
              return new ReEncryptResponse(
                  out.ciphertext().blob(),
                  out.sourceKeyArn(),
                  out.ciphertext().keyArn(),
                  name(source),
                  name(destination));
            }),
        Route.of(
            Operation.GENERATE_DATA_KEY,
            GenerateDataKeyRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              refuseRecipient(r.recipient());
              DataKey key =
                  crypto.generateDataKey(
                      c.lookup(),
                      r.keyId(),
                      r.encryptionContext(),
                      AwsEnums.parse(DataKeySpec.class, r.keySpec(), "KeySpec"),
                      r.numberOfBytes());
              return new GenerateDataKeyResponse(
                  key.ciphertext().blob(), key.plaintext().bytes(), key.ciphertext().keyArn());
            }),
        Route.of(
            Operation.GENERATE_DATA_KEY_WITHOUT_PLAINTEXT,
            GenerateDataKeyRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              Ciphertext out =
                  crypto.generateDataKeyWithoutPlaintext(
                      c.lookup(),
                      r.keyId(),
                      r.encryptionContext(),
                      AwsEnums.parse(DataKeySpec.class, r.keySpec(), "KeySpec"),
                      r.numberOfBytes());
              return new GenerateDataKeyWithoutPlaintextResponse(out.blob(), out.keyArn());
            }),
        Route.of(
            Operation.GENERATE_RANDOM,
            GenerateRandomRequest.class,
            (c, r) -> {
              if (r.customKeyStoreId() != null) {
                throw new KmsException(
                    KmsError.UNSUPPORTED_OPERATION, "A custom key store is not supported");
              }
              refuseRecipient(r.recipient());
              return new GenerateRandomResponse(crypto.generateRandom(r.numberOfBytes()));
            }));
  }

  /** Null when absent (the service then uses SYMMETRIC_DEFAULT, as AWS KMS). */
  private static EncryptionAlgorithm algorithm(String value, String member) {
    return AwsEnums.parse(EncryptionAlgorithm.class, value, member);
  }

  private static String name(EncryptionAlgorithm algorithm) {
    return algorithm == null ? SYMMETRIC : algorithm.name();
  }

  /** Whether the member names an RSAES_OAEP algorithm (the ciphertext names no key then). */
  private static boolean asymmetric(String algorithm) {
    return algorithm != null && !algorithm.isEmpty() && !algorithm.equals(SYMMETRIC);
  }

  /**
   * Recipient (a Nitro Enclaves attestation): this service has no enclaves, and must not answer in
   * plaintext a caller who asked for the answer under an enclave's key.
   */
  static void refuseRecipient(Object recipient) {
    if (recipient != null) {
      throw new KmsException(KmsError.UNSUPPORTED_OPERATION, "Recipient is not supported");
    }
  }
}
