package io.p11kms.server.sigv4;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The canonical URI: a path that is already canonical (an API's own paths) is taken as it is,
 * without normalizing and encoding it again, and that shortcut gives what the full way gives.
 */
class CanonicalRequestTest {
  private static final List<String> PATHS =
      List.of(
          "/",
          "/kms/xks/v1/keys/bench-key/encrypt",
          "/prefix_1/kms/xks/v1/health",
          "/a.b/c~d/e-f_g",
          "/a/",
          "/a//b",
          "//",
          "/./a",
          "/a/../b",
          "/a/.",
          "/a/..",
          "/.hidden",
          "/a%20b",
          "/a b",
          "/caf\u00e9",
          "/a:b",
          "/a+b",
          "relative",
          "");

  @Test
  void apiPaths_arePlain() {
    assertThat(CanonicalRequest.plain("/")).isTrue();
    assertThat(CanonicalRequest.plain("/kms/xks/v1/keys/bench-key.v2/encrypt")).isTrue();
  }

  @Test
  void dotSegments_doubleSlashes_escapesAndOtherCharacters_areNotPlain() {
    for (String path :
        List.of(
            "/./a", "/a/../b", "/a/.", "/.hidden", "/a//b", "/a%20b", "/a b", "/a:b", "", "x")) {
      assertThat(CanonicalRequest.plain(path)).as(path).isFalse();
    }
  }

  @Test
  void theShortcut_givesWhatNormalizingGives() {
    for (String path : PATHS) {
      assertThat(CanonicalRequest.uri(path)).as(path).isEqualTo(CanonicalRequest.normalized(path));
      if (CanonicalRequest.plain(path)) {
        assertThat(CanonicalRequest.normalized(path)).as(path).isEqualTo(path);
      }
    }
  }

  @Test
  void headerValues_areTrimmedAndInnerSpaceRunsMadeOne_withOrWithoutTheShortcut() {
    assertThat(CanonicalRequest.trimmed("TrentService.Encrypt")).isTrue();
    assertThat(CanonicalRequest.trimmed("aws-sdk-java/2.0 ua/2.1 os/Linux")).isTrue();
    assertThat(CanonicalRequest.trimmed("")).isTrue();
    for (String value : List.of(" a", "a ", "a  b", "a\tb", "a\u00a0", "\u00e9t\u00e9")) {
      assertThat(CanonicalRequest.trimmed(value)).as(value).isFalse();
    }
    SignedRequest request =
        SignedRequest.builder("POST", "/")
            .header("Host", "h")
            .header("X-A", "  one  two   three ")
            .header("X-B", "tab\there ")
            .header("X-B", "plain value")
            .header("X-C", "\u00e9t\u00e9  x")
            .body(new byte[0])
            .build();
    AuthorizationHeader authorization =
        AuthorizationHeader.parse(
            "AWS4-HMAC-SHA256 Credential=K/20260101/r/kms/aws4_request,"
                + " SignedHeaders=host;x-a;x-b;x-c, Signature=00",
            true);
    assertThat(CanonicalRequest.of(request, authorization))
        .isEqualTo(
            "POST\n/\n\nhost:h\nx-a:one two three\nx-b:tab\there,plain value\n"
                + "x-c:\u00e9t\u00e9 x\n\nhost;x-a;x-b;x-c\n"
                + request.payloadSha256());
  }
}
