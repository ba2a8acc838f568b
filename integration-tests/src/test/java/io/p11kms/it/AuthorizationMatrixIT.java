package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ADMIN;
import static io.p11kms.it.KmsSecureTestServer.ALICE;
import static io.p11kms.it.KmsSecureTestServer.BOB;
import static io.p11kms.it.KmsSecureTestServer.CAROL;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DataKeySpec;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DescribeKeyRequest;
import io.p11kms.proto.v1.DisableKeyRequest;
import io.p11kms.proto.v1.DisableKeyRotationRequest;
import io.p11kms.proto.v1.EnableKeyRequest;
import io.p11kms.proto.v1.EnableKeyRotationRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GenerateDataKeyWithoutPlaintextRequest;
import io.p11kms.proto.v1.GetKeyPolicyRequest;
import io.p11kms.proto.v1.GetKeyRotationStatusRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListGrantsRequest;
import io.p11kms.proto.v1.ListKeyPoliciesRequest;
import io.p11kms.proto.v1.ListKeyRotationsRequest;
import io.p11kms.proto.v1.ListResourceTagsRequest;
import io.p11kms.proto.v1.ReEncryptRequest;
import io.p11kms.proto.v1.Tag;
import io.p11kms.proto.v1.TagResourceRequest;
import io.p11kms.proto.v1.UntagResourceRequest;
import io.p11kms.proto.v1.UpdateKeyDescriptionRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Three principals x three keys x every key operation, over mutual TLS: each key's policy gives
 * each principal a different set of actions (one of them with an explicit Deny under a {@code
 * kms:*} Allow, one with nothing at all), and every call's outcome must be what the policy says.
 */
class AuthorizationMatrixIT {
  /** A key operation: the call, and the policy actions it needs. */
  record Op(String name, Set<String> needs, Call call) {}

  @FunctionalInterface
  interface Call {
    void run(KeyManagementServiceBlockingStub client, String keyId, ByteString ciphertext);
  }

  static final List<Op> OPS =
      List.of(
          op(
              "Encrypt",
              (c, k, ct) ->
                  c.encrypt(
                      EncryptRequest.newBuilder()
                          .setKeyId(k)
                          .setPlaintext(ByteString.copyFromUtf8("matrix"))
                          .build())),
          op(
              "Decrypt",
              (c, k, ct) -> c.decrypt(DecryptRequest.newBuilder().setCiphertextBlob(ct).build())),
          new Op(
              "ReEncrypt",
              Set.of("kms:ReEncryptFrom", "kms:ReEncryptTo"),
              (c, k, ct) ->
                  c.reEncrypt(
                      ReEncryptRequest.newBuilder()
                          .setCiphertextBlob(ct)
                          .setDestinationKeyId(k)
                          .build())),
          op(
              "GenerateDataKey",
              (c, k, ct) ->
                  c.generateDataKey(
                      GenerateDataKeyRequest.newBuilder()
                          .setKeyId(k)
                          .setKeySpec(DataKeySpec.AES_256)
                          .build())),
          op(
              "GenerateDataKeyWithoutPlaintext",
              (c, k, ct) ->
                  c.generateDataKeyWithoutPlaintext(
                      GenerateDataKeyWithoutPlaintextRequest.newBuilder()
                          .setKeyId(k)
                          .setKeySpec(DataKeySpec.AES_256)
                          .build())),
          op(
              "DescribeKey",
              (c, k, ct) -> c.describeKey(DescribeKeyRequest.newBuilder().setKeyId(k).build())),
          op(
              "UpdateKeyDescription",
              (c, k, ct) ->
                  c.updateKeyDescription(
                      UpdateKeyDescriptionRequest.newBuilder()
                          .setKeyId(k)
                          .setDescription("matrix")
                          .build())),
          op(
              "EnableKey",
              (c, k, ct) -> c.enableKey(EnableKeyRequest.newBuilder().setKeyId(k).build())),
          op(
              "TagResource",
              (c, k, ct) ->
                  c.tagResource(
                      TagResourceRequest.newBuilder()
                          .setKeyId(k)
                          .addTags(Tag.newBuilder().setTagKey("team").setTagValue("matrix"))
                          .build())),
          op(
              "ListResourceTags",
              (c, k, ct) ->
                  c.listResourceTags(ListResourceTagsRequest.newBuilder().setKeyId(k).build())),
          op(
              "GetKeyRotationStatus",
              (c, k, ct) ->
                  c.getKeyRotationStatus(
                      GetKeyRotationStatusRequest.newBuilder().setKeyId(k).build())),
          op(
              "GetKeyPolicy",
              (c, k, ct) ->
                  c.getKeyPolicy(
                      GetKeyPolicyRequest.newBuilder()
                          .setKeyId(k)
                          .setPolicyName("default")
                          .build())),
          op(
              "UntagResource",
              (c, k, ct) ->
                  c.untagResource(
                      UntagResourceRequest.newBuilder().setKeyId(k).addTagKeys("team").build())),
          op(
              "ListKeyPolicies",
              (c, k, ct) ->
                  c.listKeyPolicies(ListKeyPoliciesRequest.newBuilder().setKeyId(k).build())),
          op(
              "EnableKeyRotation",
              (c, k, ct) ->
                  c.enableKeyRotation(EnableKeyRotationRequest.newBuilder().setKeyId(k).build())),
          op(
              "DisableKeyRotation",
              (c, k, ct) ->
                  c.disableKeyRotation(DisableKeyRotationRequest.newBuilder().setKeyId(k).build())),
          op(
              "ListKeyRotations",
              (c, k, ct) ->
                  c.listKeyRotations(ListKeyRotationsRequest.newBuilder().setKeyId(k).build())),
          // The administrator enables the key again after each successful DisableKey.
          op(
              "DisableKey",
              (c, k, ct) -> c.disableKey(DisableKeyRequest.newBuilder().setKeyId(k).build())),
          op(
              "ListGrants",
              (c, k, ct) -> c.listGrants(ListGrantsRequest.newBuilder().setKeyId(k).build())));

  private static Op op(String name, Call call) {
    return new Op(name, Set.of("kms:" + name), call);
  }

  static final List<String> PRINCIPALS = List.of(ALICE, BOB, CAROL);

  @Test
  void everyPrincipal_everyKey_everyOperation_asThePolicySays() throws Exception {
    try (KmsSecureTestServer server = KmsSecureTestServer.start()) {
      KeyManagementServiceBlockingStub admin = server.client(ADMIN);
      Map<String, KeyManagementServiceBlockingStub> clients = new LinkedHashMap<>();
      for (String p : PRINCIPALS) {
        clients.put(p, server.client(p));
      }
      List<String> allActions = new ArrayList<>();
      for (Op op : OPS) {
        allActions.addAll(op.needs());
      }
      // allowed.get(key).get(principal): the actions that principal has on that key.
      List<Map<String, Set<String>>> allowed = new ArrayList<>();
      List<String> keys = new ArrayList<>();
      List<ByteString> ciphertexts = new ArrayList<>();
      for (int k = 0; k < 3; k++) {
        Map<String, Set<String>> grantsOfKey = new LinkedHashMap<>();
        StringBuilder statements = new StringBuilder(statement("Allow", ADMIN, List.of("kms:*")));
        for (int p = 0; p < PRINCIPALS.size(); p++) {
          Set<String> actions = new LinkedHashSet<>();
          if (k == 1 && p == 2) {
            // carol: nothing on key 1
          } else if (k == 2 && p == 1) {
            // bob: kms:* on key 2, but an explicit Deny on Decrypt and ReEncryptTo
            actions.addAll(allActions);
            actions.removeAll(Set.of("kms:Decrypt", "kms:ReEncryptTo"));
            statements.append(',').append(statement("Allow", PRINCIPALS.get(p), List.of("kms:*")));
            statements
                .append(',')
                .append(
                    statement(
                        "Deny", PRINCIPALS.get(p), List.of("kms:Decrypt", "kms:ReEncryptTo")));
          } else {
            for (int a = 0; a < allActions.size(); a++) {
              if ((a + 2 * k + 3 * p) % 3 != 0) {
                actions.add(allActions.get(a));
              }
            }
            statements
                .append(',')
                .append(statement("Allow", PRINCIPALS.get(p), List.copyOf(actions)));
          }
          grantsOfKey.put(PRINCIPALS.get(p), actions);
        }
        String policy = "{\"Version\":\"2012-10-17\",\"Statement\":[" + statements + "]}";
        String keyId =
            admin
                .createKey(
                    CreateKeyRequest.newBuilder()
                        .setDescription("matrix " + k)
                        .setPolicy(policy)
                        .build())
                .getKeyMetadata()
                .getKeyId();
        keys.add(keyId);
        allowed.add(grantsOfKey);
        ciphertexts.add(
            admin
                .encrypt(
                    EncryptRequest.newBuilder()
                        .setKeyId(keyId)
                        .setPlaintext(ByteString.copyFromUtf8("matrix"))
                        .build())
                .getCiphertextBlob());
      }

      int calls = 0;
      int expectedAllowed = 0;
      int unauthorisedSuccesses = 0;
      int wrongfulDenials = 0;
      List<String> wrong = new ArrayList<>();
      for (int k = 0; k < 3; k++) {
        for (String p : PRINCIPALS) {
          for (Op op : OPS) {
            boolean expected = allowed.get(k).get(p).containsAll(op.needs());
            String outcome;
            try {
              op.call().run(clients.get(p), keys.get(k), ciphertexts.get(k));
              outcome = "OK";
              if (op.name().equals("DisableKey")) {
                admin.enableKey(EnableKeyRequest.newBuilder().setKeyId(keys.get(k)).build());
              }
            } catch (StatusRuntimeException e) {
              outcome =
                  Rpc.failure(
                          () -> {
                            throw e;
                          })
                      .reason();
            }
            calls++;
            if (expected) {
              expectedAllowed++;
            }
            if (outcome.equals("OK") && !expected) {
              unauthorisedSuccesses++;
              wrong.add("key " + k + " " + p + " " + op.name() + ": allowed");
            } else if (!outcome.equals("OK") && expected) {
              wrongfulDenials++;
              wrong.add("key " + k + " " + p + " " + op.name() + ": " + outcome);
            } else if (!outcome.equals("OK")) {
              assertThat(outcome)
                  .as("key %d %s %s", k, p, op.name())
                  .isEqualTo("AccessDeniedException");
            }
          }
        }
      }
      System.out.printf(
          "AuthorizationMatrixIT: %d principals x %d keys x %d operations = %d calls"
              + " (%d allowed by policy, %d not); unauthorised successes %d, wrongful denials %d%n",
          PRINCIPALS.size(),
          keys.size(),
          OPS.size(),
          calls,
          expectedAllowed,
          calls - expectedAllowed,
          unauthorisedSuccesses,
          wrongfulDenials);
      assertThat(wrong).isEmpty();
      assertThat(unauthorisedSuccesses).isZero();
      assertThat(wrongfulDenials).isZero();
      assertThat(calls).isEqualTo(3 * 3 * OPS.size());
      assertThat(expectedAllowed).isBetween(calls / 4, calls * 3 / 4);
    }
  }

  private static String statement(String effect, String principal, List<String> actions) {
    StringBuilder a = new StringBuilder();
    for (String action : actions) {
      a.append(a.length() == 0 ? "" : ",").append('"').append(action).append('"');
    }
    return "{\"Effect\":\""
        + effect
        + "\",\"Principal\":{\"AWS\":\""
        + principal
        + "\"},\"Action\":["
        + a
        + "],\"Resource\":\"*\"}";
  }
}
