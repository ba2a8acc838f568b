package io.p11kms.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.p11kms.proto.v1.CreateAliasRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.proto.v1.ReEncryptRequest;
import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.service.Operation;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProtoRequestTest {
  @Test
  void encrypt_readsItsKeyContextAndGrantTokens_andNothingItLacks() {
    EncryptRequest message =
        EncryptRequest.newBuilder()
            .setKeyId("alias/app")
            .putEncryptionContext("b", "2")
            .putEncryptionContext("a", "1")
            .addGrantTokens("token")
            .build();

    OperationRequest request = new ProtoRequest(Operation.ENCRYPT, message);

    assertThat(request.keyId()).isEqualTo("alias/app");
    assertThat(request.encryptionContext()).isEqualTo(Map.of("a", "1", "b", "2"));
    assertThat(request.grantTokens()).isEqualTo(List.of("token"));
    assertThat(request.ciphertextBlob()).isEmpty();
    assertThat(request.asymmetricAlgorithm()).isFalse();
    assertThat(request.destinationKeyId()).isEmpty();
    assertThat(request.aliasName()).isEmpty();
    assertThat(request.policy()).isEmpty();
  }

  @Test
  void decrypt_readsTheBlob_andWhetherItsAlgorithmIsAsymmetric() {
    DecryptRequest symmetric =
        DecryptRequest.newBuilder()
            .setCiphertextBlob(ByteString.copyFrom(new byte[] {1, 2, 3}))
            .setEncryptionAlgorithm(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM)
            .build();
    DecryptRequest rsa =
        DecryptRequest.newBuilder()
            .setKeyId("k")
            .setEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
            .build();

    assertThat(new ProtoRequest(Operation.DECRYPT, symmetric).ciphertextBlob())
        .containsExactly(1, 2, 3);
    assertThat(new ProtoRequest(Operation.DECRYPT, symmetric).asymmetricAlgorithm()).isFalse();
    assertThat(new ProtoRequest(Operation.DECRYPT, rsa).asymmetricAlgorithm()).isTrue();
    assertThat(new ProtoRequest(Operation.DECRYPT, rsa).encryptionContext()).isEmpty();
  }

  @Test
  void reEncrypt_readsItsSourceFieldsAsKeyIdContextAndAlgorithm() {
    ReEncryptRequest message =
        ReEncryptRequest.newBuilder()
            .setSourceKeyId("source")
            .putSourceEncryptionContext("s", "1")
            .setSourceEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_1)
            .setDestinationKeyId("destination")
            .putDestinationEncryptionContext("d", "2")
            .build();

    OperationRequest request = new ProtoRequest(Operation.RE_ENCRYPT, message);

    assertThat(request.keyId()).isEqualTo("source");
    assertThat(request.encryptionContext()).isEqualTo(Map.of("s", "1"));
    assertThat(request.asymmetricAlgorithm()).isTrue();
    assertThat(request.destinationKeyId()).isEqualTo("destination");
    assertThat(request.destinationEncryptionContext()).isEqualTo(Map.of("d", "2"));
  }

  @Test
  void createAlias_readsTheAliasAndItsTarget() {
    OperationRequest request =
        new ProtoRequest(
            Operation.CREATE_ALIAS,
            CreateAliasRequest.newBuilder().setAliasName("alias/a").setTargetKeyId("k").build());

    assertThat(request.aliasName()).isEqualTo("alias/a");
    assertThat(request.targetKeyId()).isEqualTo("k");
    assertThat(request.keyId()).isEmpty();
  }
}
