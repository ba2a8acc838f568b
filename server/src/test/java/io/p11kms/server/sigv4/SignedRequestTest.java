package io.p11kms.server.sigv4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The verifier's view of a request: headers by any case, in order, and fixed once built. */
class SignedRequestTest {

  @Test
  void headers_areFoundInAnyCase_withEveryValueInOrder() {
    SignedRequest request =
        SignedRequest.builder("POST", "/")
            .header("X-Amz-Date", "20261206T083000Z")
            .header("x-multi", "a")
            .header("X-Multi", "b")
            .body(new byte[0])
            .build();

    assertThat(request.firstHeader("x-amz-date")).isEqualTo("20261206T083000Z");
    assertThat(request.header("X-MULTI")).containsExactly("a", "b");
    assertThat(request.header("absent")).isEmpty();
    assertThat(request.firstHeader("absent")).isNull();
  }

  @Test
  void aBuiltRequest_cannotChange() {
    SignedRequest.Builder builder =
        SignedRequest.builder("POST", "/").header("Host", "kms.example.test").body(new byte[0]);
    SignedRequest request = builder.build();

    assertThatThrownBy(() -> builder.header("Host", "other.example.test"))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class);
    List<String> hosts = request.header("host");
    assertThatThrownBy(() -> hosts.add("other.example.test"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(request.header("host")).containsExactly("kms.example.test");
  }
}
