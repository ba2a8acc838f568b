package io.p11kms.server.awsjson;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.KmsServices;
import io.p11kms.server.service.Operation;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON API's table and codec, without a server. */
class RoutesTest {
  private static final ObjectMapper JSON = AwsJson.mapper();

  private static Routes routes() {
    KeyArns arns = new KeyArns("aws", "local-1", "111122223333");
    return Routes.of(KmsServices.of(null, null, arns, Clock.systemUTC()), null);
  }

  @Test
  void everyAwsKmsOperationOfTheCatalogue_hasItsRoute_foundByItsAwsName() {
    Routes routes = routes();
    assertThat(routes.missing()).isEmpty();
    for (Operation op : Operation.values()) {
      Route<?, ?> route = routes.find(op.awsName());
      if (Routes.NOT_AWS_KMS.contains(op.group())) {
        assertThat(route).as(op.awsName()).isNull();
      } else {
        assertThat(route.operation()).isEqualTo(op);
      }
    }
    assertThat(routes.find("NoSuchOperation")).isNull();
  }

  @Test
  void twoRoutesForOneOperation_refused() {
    Route<?, ?> one =
        Route.of(Operation.LIST_KEYS, KeyRoutes.ListKeysRequest.class, (c, r) -> null);
    assertThatThrownBy(() -> Routes.of(List.of(one, one)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ListKeys");
  }

  @Test
  void members_upperCamelCase_blobsBase64_timestampsEpochSeconds_absentLeftOut() throws Exception {
    String json =
        JSON.writeValueAsString(
            new CryptoRoutes.EncryptResponse(new byte[] {1, 2, 3}, "arn:k", "SYMMETRIC_DEFAULT"));
    assertThat(json)
        .isEqualTo(
            "{\"CiphertextBlob\":\"AQID\",\"KeyId\":\"arn:k\","
                + "\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}");
    String dates =
        JSON.writeValueAsString(
            new LifecycleRoutes.ScheduleKeyDeletionResponse(
                "arn:k", Instant.ofEpochMilli(1_700_000_000_250L), "PendingDeletion", null));
    assertThat(dates)
        .isEqualTo(
            "{\"KeyId\":\"arn:k\",\"DeletionDate\":1700000000.25,"
                + "\"KeyState\":\"PendingDeletion\"}");
  }

  @Test
  void requests_absentMembersEmpty_wrongTypesRefused_notCoerced() throws Exception {
    CryptoRoutes.EncryptRequest r =
        JSON.readValue(
            "{\"KeyId\":\"k\",\"Plaintext\":\"AQID\"}", CryptoRoutes.EncryptRequest.class);
    assertThat(r.plaintext()).containsExactly(1, 2, 3);
    assertThat(r.encryptionContext()).isEmpty();
    assertThat(r.grantTokens()).isEmpty();
    for (String wrong :
        List.of(
            "{\"KeyId\":5}",
            "{\"KeyId\":true}",
            "{\"KeyId\":\"k\",\"EncryptionContext\":{\"a\":1}}",
            "{\"KeyId\":\"k\",\"GrantTokens\":\"t\"}",
            "{\"KeyId\":\"k\",\"Plaintext\":\"**\"}")) {
      assertThatThrownBy(() -> JSON.readValue(wrong, CryptoRoutes.EncryptRequest.class))
          .as(wrong)
          .isInstanceOf(MismatchedInputException.class);
    }
    assertThatThrownBy(() -> JSON.readValue("{\"Limit\":\"2\"}", KeyRoutes.ListKeysRequest.class))
        .isInstanceOf(MismatchedInputException.class);
  }
}
