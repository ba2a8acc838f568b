package io.p11kms.server.awsjson;

import static io.p11kms.server.awsjson.Members.orEmpty;

import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.awsjson.SharedMessages.KeyIdRequest;
import io.p11kms.server.service.DataKeyPairService;
import io.p11kms.server.service.KeySpec;
import io.p11kms.server.service.MacAlgorithm;
import io.p11kms.server.service.MacService;
import io.p11kms.server.service.MessageType;
import io.p11kms.server.service.Operation;
import io.p11kms.server.service.PublicKeyInfo;
import io.p11kms.server.service.SigningAlgorithm;
import io.p11kms.server.service.SigningService;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Sign, Verify, GetPublicKey, GenerateMac, VerifyMac and the data key pairs: their members as the
 * KMS service model names them.
 */
final class AsymmetricRoutes {
  private AsymmetricRoutes() {}

  record SignRequest(
      String keyId,
      byte[] message,
      String messageType,
      byte[] signature,
      List<String> grantTokens,
      String signingAlgorithm,
      Boolean dryRun)
      implements OperationRequest {
    SignRequest {
      keyId = orEmpty(keyId);
      message = orEmpty(message);
      signature = orEmpty(signature);
      grantTokens = orEmpty(grantTokens);
    }
  }

  record MacRequest(
      String keyId,
      byte[] message,
      String macAlgorithm,
      byte[] mac,
      List<String> grantTokens,
      Boolean dryRun)
      implements OperationRequest {
    MacRequest {
      keyId = orEmpty(keyId);
      message = orEmpty(message);
      mac = orEmpty(mac);
      grantTokens = orEmpty(grantTokens);
    }
  }

  record DataKeyPairRequest(
      String keyId,
      Map<String, String> encryptionContext,
      String keyPairSpec,
      List<String> grantTokens,
      Object recipient,
      Boolean dryRun)
      implements OperationRequest {
    DataKeyPairRequest {
      keyId = orEmpty(keyId);
      encryptionContext = orEmpty(encryptionContext);
      grantTokens = orEmpty(grantTokens);
    }
  }

  record SignResponse(String keyId, byte[] signature, String signingAlgorithm) {}

  record VerifyResponse(String keyId, Boolean signatureValid, String signingAlgorithm) {}

  record GetPublicKeyResponse(
      String keyId,
      byte[] publicKey,
      String customerMasterKeySpec,
      String keySpec,
      String keyUsage,
      List<String> encryptionAlgorithms,
      List<String> signingAlgorithms) {}

  record GenerateMacResponse(byte[] mac, String macAlgorithm, String keyId) {}

  record VerifyMacResponse(String keyId, Boolean macValid, String macAlgorithm) {}

  record DataKeyPairResponse(
      byte[] privateKeyCiphertextBlob,
      byte[] privateKeyPlaintext,
      byte[] publicKey,
      String keyId,
      String keyPairSpec)
      implements Route.Secret {
    @Override
    public void wipe() {
      if (privateKeyPlaintext != null) {
        Arrays.fill(privateKeyPlaintext, (byte) 0);
      }
    }
  }

  static List<Route<?, ?>> routes(
      SigningService signing, MacService macs, DataKeyPairService dataKeyPairs) {
    return List.of(
        Route.of(
            Operation.SIGN,
            SignRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              SigningService.Signed s =
                  signing.sign(r.keyId(), r.message(), messageType(r), signingAlgorithm(r));
              return new SignResponse(s.keyArn(), s.signature(), s.algorithm().name());
            }),
        Route.of(
            Operation.VERIFY,
            SignRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              SigningService.Signed s =
                  signing.verify(
                      r.keyId(), r.message(), messageType(r), r.signature(), signingAlgorithm(r));
              return new VerifyResponse(s.keyArn(), true, s.algorithm().name());
            }),
        Route.of(
            Operation.GET_PUBLIC_KEY,
            KeyIdRequest.class,
            (c, r) -> {
              PublicKeyInfo info = signing.getPublicKey(r.keyId());
              return new GetPublicKeyResponse(
                  info.keyArn(),
                  info.publicKey(),
                  info.keySpec().name(),
                  info.keySpec().name(),
                  info.keyUsage().name(),
                  AwsEnums.names(info.encryptionAlgorithms()),
                  AwsEnums.names(info.signingAlgorithms()));
            }),
        Route.of(
            Operation.GENERATE_MAC,
            MacRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              MacService.Mac m = macs.generateMac(r.keyId(), r.message(), macAlgorithm(r));
              return new GenerateMacResponse(m.mac(), m.algorithm().name(), m.keyArn());
            }),
        Route.of(
            Operation.VERIFY_MAC,
            MacRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              MacService.Mac m = macs.verifyMac(r.keyId(), r.message(), r.mac(), macAlgorithm(r));
              return new VerifyMacResponse(m.keyArn(), true, m.algorithm().name());
            }),
        Route.of(
            Operation.GENERATE_DATA_KEY_PAIR,
            DataKeyPairRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              CryptoRoutes.refuseRecipient(r.recipient());
              DataKeyPairService.Pair pair =
                  dataKeyPairs.generateDataKeyPair(
                      r.keyId(), r.encryptionContext(), keyPairSpec(r));
              return new DataKeyPairResponse(
                  pair.privateKeyCiphertext().blob(),
                  pair.privateKey().bytes(),
                  pair.publicKey(),
                  pair.privateKeyCiphertext().keyArn(),
                  pair.spec().name());
            }),
        Route.of(
            Operation.GENERATE_DATA_KEY_PAIR_WITHOUT_PLAINTEXT,
            DataKeyPairRequest.class,
            (c, r) -> {
              Members.refuseDryRun(r.dryRun());
              DataKeyPairService.Pair pair =
                  dataKeyPairs.generateDataKeyPairWithoutPlaintext(
                      r.keyId(), r.encryptionContext(), keyPairSpec(r));
              return new DataKeyPairResponse(
                  pair.privateKeyCiphertext().blob(),
                  null,
                  pair.publicKey(),
                  pair.privateKeyCiphertext().keyArn(),
                  pair.spec().name());
            }));
  }

  private static MessageType messageType(SignRequest r) {
    return AwsEnums.parse(MessageType.class, r.messageType(), "MessageType");
  }

  private static SigningAlgorithm signingAlgorithm(SignRequest r) {
    return AwsEnums.parse(SigningAlgorithm.class, r.signingAlgorithm(), "SigningAlgorithm");
  }

  private static MacAlgorithm macAlgorithm(MacRequest r) {
    return AwsEnums.parse(MacAlgorithm.class, r.macAlgorithm(), "MacAlgorithm");
  }

  private static KeySpec keyPairSpec(DataKeyPairRequest r) {
    return AwsEnums.parse(KeySpec.class, r.keyPairSpec(), "KeyPairSpec");
  }
}
