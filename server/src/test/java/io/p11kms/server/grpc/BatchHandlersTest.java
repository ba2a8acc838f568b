package io.p11kms.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.p11kms.proto.v1.BatchEncryptRequest;
import io.p11kms.proto.v1.BatchEncryptResponse;
import io.p11kms.proto.v1.DecryptResponse;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptResponse;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The batch loop itself, with the single-call operation stubbed: counts, errors, a dead token. */
class BatchHandlersTest {
  private final KeyService keys =
      new KeyService(null, null, new KeyArns("aws", "local-1", "111122223333"), Clock.systemUTC());
  private final List<String> called = new ArrayList<>();

  private BatchHandlers handlers(KmsError failFor) {
    return new BatchHandlers(
        keys,
        (lookup, item) -> {
          called.add(item.getKeyId());
          if (failFor != null && item.getKeyId().equals("fails")) {
            throw new KmsException(failFor, "stubbed");
          }
          return EncryptResponse.newBuilder().setKeyId(item.getKeyId()).build();
        },
        (lookup, item) -> DecryptResponse.getDefaultInstance());
  }

  private static BatchEncryptRequest items(String... keyIds) {
    BatchEncryptRequest.Builder b = BatchEncryptRequest.newBuilder();
    for (String k : keyIds) {
      b.addItems(
          EncryptRequest.newBuilder().setKeyId(k).setPlaintext(ByteString.copyFromUtf8("x")));
    }
    return b.build();
  }

  @Test
  void aFailedItem_isReportedInItsPlace_andTheOthersRun() {
    BatchEncryptResponse r = handlers(KmsError.NOT_FOUND).encrypt(items("a", "fails", "b"));

    assertThat(r.getResultsList())
        .extracting(x -> x.hasError() ? x.getError().getErrorCode() : x.getResponse().getKeyId())
        .containsExactly("a", "NotFoundException", "b");
    assertThat(r.getResults(1).getError().getMessage()).isEqualTo("stubbed");
    assertThat(called).containsExactly("a", "fails", "b");
  }

  @Test
  void afterATokenTimeout_theRemainingItemsFailAtOnce_withoutATokenCall() {
    BatchEncryptResponse r =
        handlers(KmsError.DEPENDENCY_TIMEOUT).encrypt(items("a", "fails", "b", "c"));

    assertThat(r.getResultsList())
        .extracting(x -> x.hasError() ? x.getError().getErrorCode() : x.getResponse().getKeyId())
        .containsExactly(
            "a",
            "DependencyTimeoutException",
            "DependencyTimeoutException",
            "DependencyTimeoutException");
    assertThat(called).containsExactly("a", "fails");
  }

  @Test
  void noItemOrMoreThan100_isAValidationErrorBeforeAnyItemRuns() {
    String[] many = new String[101];
    java.util.Arrays.fill(many, "a");
    for (BatchEncryptRequest bad : List.of(items(), items(many))) {
      assertThatThrownBy(() -> handlers(null).encrypt(bad))
          .isInstanceOfSatisfying(
              KmsException.class, e -> assertThat(e.error()).isEqualTo(KmsError.VALIDATION));
    }
    assertThat(called).isEmpty();
    assertThat(handlers(null).encrypt(items(java.util.Arrays.copyOf(many, 100))).getResultsCount())
        .isEqualTo(100);
  }
}
