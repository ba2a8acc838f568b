package io.p11kms.server.grpc;

import com.google.protobuf.ByteString;
import io.p11kms.proto.v1.GenerateDataKeyPairRequest;
import io.p11kms.proto.v1.GenerateDataKeyPairResponse;
import io.p11kms.proto.v1.GenerateDataKeyPairWithoutPlaintextRequest;
import io.p11kms.proto.v1.GenerateDataKeyPairWithoutPlaintextResponse;
import io.p11kms.proto.v1.GenerateMacRequest;
import io.p11kms.proto.v1.GenerateMacResponse;
import io.p11kms.proto.v1.GetPublicKeyRequest;
import io.p11kms.proto.v1.GetPublicKeyResponse;
import io.p11kms.proto.v1.SignRequest;
import io.p11kms.proto.v1.SignResponse;
import io.p11kms.proto.v1.VerifyMacRequest;
import io.p11kms.proto.v1.VerifyMacResponse;
import io.p11kms.proto.v1.VerifyRequest;
import io.p11kms.proto.v1.VerifyResponse;
import io.p11kms.server.service.DataKeyPairService;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.MacService;
import io.p11kms.server.service.PublicKeyInfo;
import io.p11kms.server.service.SigningService;

/**
 * The messages of Sign, Verify, GetPublicKey, GenerateMac, VerifyMac and the data key pairs, to and
 * from service calls. {@link KmsGrpcService} registers them; failures become statuses there.
 */
public final class AsymmetricHandlers {
  private final KeyService keys;
  private final SigningService signing;
  private final MacService macs;
  private final DataKeyPairService dataKeyPairs;

  public AsymmetricHandlers(
      KeyService keys, SigningService signing, MacService macs, DataKeyPairService dataKeyPairs) {
    this.keys = keys;
    this.signing = signing;
    this.macs = macs;
    this.dataKeyPairs = dataKeyPairs;
  }

  SignResponse sign(SignRequest request) {
    SigningService.Signed signed =
        signing.sign(
            RequestLookups.current(keys),
            request.getKeyId(),
            request.getMessage().toByteArray(),
            ProtoMapping.messageType(request.getMessageType()),
            ProtoMapping.signingAlgorithm(request.getSigningAlgorithm()));
    return SignResponse.newBuilder()
        .setKeyId(signed.keyArn())
        .setSignature(ByteString.copyFrom(signed.signature()))
        .setSigningAlgorithm(ProtoMapping.signingAlgorithm(signed.algorithm()))
        .build();
  }

  VerifyResponse verify(VerifyRequest request) {
    SigningService.Signed verified =
        signing.verify(
            RequestLookups.current(keys),
            request.getKeyId(),
            request.getMessage().toByteArray(),
            ProtoMapping.messageType(request.getMessageType()),
            request.getSignature().toByteArray(),
            ProtoMapping.signingAlgorithm(request.getSigningAlgorithm()));
    return VerifyResponse.newBuilder()
        .setKeyId(verified.keyArn())
        .setSignatureValid(true)
        .setSigningAlgorithm(ProtoMapping.signingAlgorithm(verified.algorithm()))
        .build();
  }

  GetPublicKeyResponse getPublicKey(GetPublicKeyRequest request) {
    PublicKeyInfo info = signing.getPublicKey(RequestLookups.current(keys), request.getKeyId());
    GetPublicKeyResponse.Builder builder =
        GetPublicKeyResponse.newBuilder()
            .setKeyId(info.keyArn())
            .setPublicKey(ByteString.copyFrom(info.publicKey()))
            .setKeySpec(ProtoMapping.keySpec(info.keySpec()))
            .setKeyUsage(ProtoMapping.keyUsage(info.keyUsage()));
    info.encryptionAlgorithms()
        .forEach(a -> builder.addEncryptionAlgorithms(ProtoMapping.encryptionAlgorithm(a)));
    info.signingAlgorithms()
        .forEach(a -> builder.addSigningAlgorithms(ProtoMapping.signingAlgorithm(a)));
    return builder.build();
  }

  GenerateMacResponse generateMac(GenerateMacRequest request) {
    MacService.Mac mac =
        macs.generateMac(
            RequestLookups.current(keys),
            request.getKeyId(),
            request.getMessage().toByteArray(),
            ProtoMapping.macAlgorithm(request.getMacAlgorithm()));
    return GenerateMacResponse.newBuilder()
        .setKeyId(mac.keyArn())
        .setMac(ByteString.copyFrom(mac.mac()))
        .setMacAlgorithm(ProtoMapping.macAlgorithm(mac.algorithm()))
        .build();
  }

  VerifyMacResponse verifyMac(VerifyMacRequest request) {
    MacService.Mac mac =
        macs.verifyMac(
            RequestLookups.current(keys),
            request.getKeyId(),
            request.getMessage().toByteArray(),
            request.getMac().toByteArray(),
            ProtoMapping.macAlgorithm(request.getMacAlgorithm()));
    return VerifyMacResponse.newBuilder()
        .setKeyId(mac.keyArn())
        .setMacValid(true)
        .setMacAlgorithm(ProtoMapping.macAlgorithm(mac.algorithm()))
        .build();
  }

  GenerateDataKeyPairResponse generateDataKeyPair(GenerateDataKeyPairRequest request) {
    DataKeyPairService.Pair pair =
        dataKeyPairs.generateDataKeyPair(
            RequestLookups.current(keys),
            request.getKeyId(),
            request.getEncryptionContextMap(),
            ProtoMapping.keySpec(request.getKeyPairSpec(), "KeyPairSpec"));
    try {
      return GenerateDataKeyPairResponse.newBuilder()
          .setPrivateKeyCiphertextBlob(ByteString.copyFrom(pair.privateKeyCiphertext().blob()))
          .setPrivateKeyPlaintext(ByteString.copyFrom(pair.privateKey().bytes()))
          .setPublicKey(ByteString.copyFrom(pair.publicKey()))
          .setKeyId(pair.privateKeyCiphertext().keyArn())
          .setKeyPairSpec(ProtoMapping.keySpec(pair.spec()))
          .build();
    } finally {
      pair.privateKey().wipe();
    }
  }

  GenerateDataKeyPairWithoutPlaintextResponse generateDataKeyPairWithoutPlaintext(
      GenerateDataKeyPairWithoutPlaintextRequest request) {
    DataKeyPairService.Pair pair =
        dataKeyPairs.generateDataKeyPairWithoutPlaintext(
            RequestLookups.current(keys),
            request.getKeyId(),
            request.getEncryptionContextMap(),
            ProtoMapping.keySpec(request.getKeyPairSpec(), "KeyPairSpec"));
    return GenerateDataKeyPairWithoutPlaintextResponse.newBuilder()
        .setPrivateKeyCiphertextBlob(ByteString.copyFrom(pair.privateKeyCiphertext().blob()))
        .setPublicKey(ByteString.copyFrom(pair.publicKey()))
        .setKeyId(pair.privateKeyCiphertext().keyArn())
        .setKeyPairSpec(ProtoMapping.keySpec(pair.spec()))
        .build();
  }
}
