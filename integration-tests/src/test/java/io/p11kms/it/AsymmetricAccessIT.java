package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static io.p11kms.it.KmsSecureTestServer.ALICE;
import static io.p11kms.it.KmsSecureTestServer.BOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.p11kms.proto.v1.CreateGrantRequest;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.proto.v1.GetPublicKeyRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.KeySpec;
import io.p11kms.proto.v1.KeyUsage;
import io.p11kms.proto.v1.ReEncryptRequest;
import io.p11kms.proto.v1.SignRequest;
import io.p11kms.proto.v1.SigningAlgorithmSpec;
import io.p11kms.proto.v1.VerifyRequest;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Policies, grants and the audit log cover the asymmetric operations, over mutual TLS: each needs
 * its own {@code kms:} action on the key; an RSA ciphertext, which names no key, is authorised on
 * the KeyId given with it; every call is audited with its key.
 */
class AsymmetricAccessIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ByteString MESSAGE = ByteString.copyFromUtf8("audited signature");

  @Test
  void signVerifyGetPublicKeyAndRsaDecrypt_needTheirActions_andAreAudited() throws Exception {
    try (KmsSecureTestServer server = KmsSecureTestServer.start()) {
      KeyManagementServiceBlockingStub admin = server.client(ADMIN);
      KeyManagementServiceBlockingStub alice = server.client(ALICE);
      KeyManagementServiceBlockingStub bob = server.client(BOB);
      String policy =
          """
          {"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"%s"},
             "Action":["kms:Sign","kms:GetPublicKey"],"Resource":"*"}]}
          """
              .formatted(ADMIN, ALICE);
      KeyMetadata signing = create(admin, policy, KeySpec.ECC_NIST_P256, KeyUsage.SIGN_VERIFY);
      KeyMetadata rsa = create(admin, policy, KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT);

      ByteString signature = sign(alice, signing.getKeyId());
      alice.getPublicKey(GetPublicKeyRequest.newBuilder().setKeyId(signing.getKeyId()).build());
      Rpc.assertFails(
          () -> verify(alice, signing.getKeyId(), signature),
          Status.Code.PERMISSION_DENIED,
          "AccessDeniedException");
      Rpc.assertFails(
          () -> sign(bob, signing.getKeyId()),
          Status.Code.PERMISSION_DENIED,
          "AccessDeniedException");

      // An RSA ciphertext names no key: Decrypt is checked on its KeyId, before the token.
      ByteString ciphertext = encryptRsa(admin, rsa.getKeyId());
      Rpc.assertFails(
          () -> decryptRsa(bob, rsa.getKeyId(), ciphertext),
          Status.Code.PERMISSION_DENIED,
          "AccessDeniedException");
      assertThat(decryptRsa(admin, rsa.getKeyId(), ciphertext)).isEqualTo(MESSAGE);

      // A grant of Sign lets Bob sign, and nothing more.
      admin.createGrant(
          CreateGrantRequest.newBuilder()
              .setKeyId(signing.getKeyId())
              .setGranteePrincipal(BOB)
              .addOperations("Sign")
              .build());
      ByteString bobs = sign(bob, signing.getKeyId());
      assertThat(verify(admin, signing.getKeyId(), bobs)).isTrue();
      Rpc.assertFails(
          () -> verify(bob, signing.getKeyId(), bobs),
          Status.Code.PERMISSION_DENIED,
          "AccessDeniedException");

      List<String> audited = new ArrayList<>();
      for (String line : Files.readString(server.auditFile()).split("\n")) {
        JsonNode r = JSON.readTree(line);
        String operation = r.path("operation").asText();
        if (r.path("type").asText().equals("request")
            && List.of("Sign", "Verify", "GetPublicKey", "Decrypt").contains(operation)) {
          String key = r.path("keyArn").asText();
          audited.add(
              r.path("principal").asText()
                  + " "
                  + operation
                  + " "
                  + r.path("outcome").asText()
                  + " "
                  + (key.equals(signing.getArn())
                      ? "signing"
                      : key.equals(rsa.getArn()) ? "rsa" : key));
        }
      }
      assertThat(audited)
          .containsExactly(
              ALICE + " Sign SUCCEEDED signing",
              ALICE + " GetPublicKey SUCCEEDED signing",
              ALICE + " Verify DENIED signing",
              BOB + " Sign DENIED signing",
              BOB + " Decrypt DENIED rsa",
              ADMIN + " Decrypt SUCCEEDED rsa",
              BOB + " Sign SUCCEEDED signing",
              ADMIN + " Verify SUCCEEDED signing",
              BOB + " Verify DENIED signing");
    }
  }

  @Test
  void reEncryptFromAnRsaCiphertext_isCheckedOnItsSourceKeyId() throws Exception {
    try (KmsSecureTestServer server = KmsSecureTestServer.start()) {
      KeyManagementServiceBlockingStub admin = server.client(ADMIN);
      KeyManagementServiceBlockingStub bob = server.client(BOB);
      String adminOnly =
          """
          {"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:*","Resource":"*"}]}
          """
              .formatted(ADMIN);
      String bobMayReEncryptTo =
          """
          {"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"kms:ReEncryptTo","Resource":"*"}]}
          """
              .formatted(ADMIN, BOB);
      KeyMetadata rsa = create(admin, adminOnly, KeySpec.RSA_2048, KeyUsage.ENCRYPT_DECRYPT);
      KeyMetadata destination =
          create(admin, bobMayReEncryptTo, KeySpec.SYMMETRIC_DEFAULT, KeyUsage.ENCRYPT_DECRYPT);
      ByteString ciphertext = encryptRsa(admin, rsa.getKeyId());
      ReEncryptRequest reEncrypt =
          ReEncryptRequest.newBuilder()
              .setCiphertextBlob(ciphertext)
              .setSourceKeyId(rsa.getKeyId())
              .setSourceEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
              .setDestinationKeyId(destination.getKeyId())
              .build();

      Rpc.assertFails(
          () -> bob.reEncrypt(reEncrypt), Status.Code.PERMISSION_DENIED, "AccessDeniedException");
      admin.createGrant(
          CreateGrantRequest.newBuilder()
              .setKeyId(rsa.getKeyId())
              .setGranteePrincipal(BOB)
              .addOperations("ReEncryptFrom")
              .build());
      ByteString moved = bob.reEncrypt(reEncrypt).getCiphertextBlob();
      assertThat(
              admin
                  .decrypt(DecryptRequest.newBuilder().setCiphertextBlob(moved).build())
                  .getPlaintext())
          .isEqualTo(MESSAGE);
    }
  }

  private static KeyMetadata create(
      KeyManagementServiceBlockingStub client, String policy, KeySpec spec, KeyUsage usage) {
    return client
        .createKey(
            CreateKeyRequest.newBuilder()
                .setPolicy(policy)
                .setKeySpec(spec)
                .setKeyUsage(usage)
                .build())
        .getKeyMetadata();
  }

  private static ByteString sign(KeyManagementServiceBlockingStub client, String keyId) {
    return client
        .sign(
            SignRequest.newBuilder()
                .setKeyId(keyId)
                .setMessage(MESSAGE)
                .setSigningAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)
                .build())
        .getSignature();
  }

  private static boolean verify(
      KeyManagementServiceBlockingStub client, String keyId, ByteString signature) {
    return client
        .verify(
            VerifyRequest.newBuilder()
                .setKeyId(keyId)
                .setMessage(MESSAGE)
                .setSignature(signature)
                .setSigningAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256)
                .build())
        .getSignatureValid();
  }

  private static ByteString encryptRsa(KeyManagementServiceBlockingStub client, String keyId) {
    return client
        .encrypt(
            EncryptRequest.newBuilder()
                .setKeyId(keyId)
                .setPlaintext(MESSAGE)
                .setEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
                .build())
        .getCiphertextBlob();
  }

  private static ByteString decryptRsa(
      KeyManagementServiceBlockingStub client, String keyId, ByteString ciphertext) {
    return client
        .decrypt(
            DecryptRequest.newBuilder()
                .setKeyId(keyId)
                .setCiphertextBlob(ciphertext)
                .setEncryptionAlgorithm(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256)
                .build())
        .getPlaintext();
  }
}
