package io.p11kms.server.sigv4;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The verifier against requests signed by the AWS SDK for Java v2's own signer: what it accepts,
 * and every refusal by its AWS exception name.
 */
class SigV4VerifierTest {
  private static final String ID = "AKIAEXAMPLEKEY234567";
  private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY01";
  private static final String REGION = "eu-west-3";
  private static final Instant NOW = Instant.parse("2026-12-06T08:30:00Z");
  private static final String URL = "https://kms.eu-west-3.example.test:8443/";
  private static final String BODY = "{\"KeyId\":\"alias/demo\",\"Plaintext\":\"aGVsbG8=\"}";

  private final SdkSigner signer = new SdkSigner(ID, SECRET, REGION, "kms");
  private final SigV4Verifier verifier = verifier("kms", REGION, Set.of());

  private static SigV4Verifier verifier(String service, String region, Set<String> required) {
    return new SigV4Verifier(
        new SecretSigningKeys(service, Map.of(ID, SECRET)),
        Clock.fixed(NOW, ZoneOffset.UTC),
        service,
        region,
        required);
  }

  private SdkSigner.Signed encrypt() {
    return signer.kmsCall(URL, "Encrypt", BODY, NOW);
  }

  @Test
  void sdkSignedCall_verifies_andNamesTheCaller() {
    AccessKeyCaller caller = verifier.verify(encrypt().received());

    assertThat(caller.accessKeyId()).isEqualTo(ID);
    assertThat(caller.caller().principal()).isEqualTo("arn:aws:iam::111122223333:user/alice");
    assertThat(caller.caller().account()).isEqualTo("111122223333");
  }

  @Test
  void sdkSignedCall_withQueryAndEncodedPath_verifies() {
    SdkSigner.Signed signed =
        signer.sign(
            "GET",
            "https://kms.example.test/a%20b/./c//d/?z=1&a=x%2Fy&a=b&empty=&sp=a%20b",
            Map.of(),
            new byte[0],
            NOW);

    assertThat(verifier.verify(signed.received()).accessKeyId()).isEqualTo(ID);
  }

  @Test
  void sdkSignedCall_withContentSha256Header_verifies() {
    SdkSigner.Signed signed =
        signer.sign(
            "POST",
            URL,
            Map.of("x-amz-content-sha256", SignedRequest.sha256Hex(BODY)),
            BODY.getBytes(StandardCharsets.UTF_8),
            NOW);

    assertThat(verifier.verify(signed.received()).accessKeyId()).isEqualTo(ID);
  }

  @Test
  void dateWithinFiveMinutes_verifies() {
    assertThat(
            verifier.verify(signer.kmsCall(URL, "Encrypt", BODY, NOW.minusSeconds(290)).received()))
        .isNotNull();
    assertThat(
            verifier.verify(signer.kmsCall(URL, "Encrypt", BODY, NOW.plusSeconds(290)).received()))
        .isNotNull();
  }

  @Test
  void anyRegion_whenTheVerifierPinsNone() {
    SdkSigner other = new SdkSigner(ID, SECRET, "us-east-1", "kms");

    assertThat(
            verifier("kms", null, Set.of())
                .verify(other.kmsCall(URL, "Encrypt", BODY, NOW).received()))
        .isNotNull();
  }

  @Test
  void noAuthorization_isMissingAuthenticationToken() {
    SignedRequest request =
        SignedRequest.builder("POST", "/")
            .header("Host", "kms.example.test")
            .header("X-Amz-Date", "20261206T083000Z")
            .body(new byte[0])
            .build();

    assertFails(() -> verifier.verify(request), SigV4Failure.MISSING_AUTHENTICATION_TOKEN)
        .contains("Request is missing Authentication Token");
  }

  @Test
  void authorizationWithoutCredential_isIncomplete() {
    SignedRequest request =
        rewritten(encrypt(), "Authorization", "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00");

    assertFails(() -> verifier.verify(request), SigV4Failure.INCOMPLETE_SIGNATURE)
        .contains("Authorization header requires 'Credential' parameter.");
  }

  @Test
  void authorizationPartWithoutEquals_isIncomplete() {
    SignedRequest request =
        rewritten(encrypt(), "Authorization", "AWS4-HMAC-SHA256 Credential, Signature=00");

    assertFails(() -> verifier.verify(request), SigV4Failure.INCOMPLETE_SIGNATURE)
        .contains("not a valid key=value pair");
  }

  @Test
  void missingDate_isIncomplete() {
    SignedRequest request = rewritten(encrypt(), "X-Amz-Date", null);

    assertFails(() -> verifier.verify(request), SigV4Failure.INCOMPLETE_SIGNATURE)
        .contains("'X-Amz-Date' or a 'Date' header");
  }

  @Test
  void garbledDate_isIncomplete() {
    SignedRequest request = rewritten(encrypt(), "X-Amz-Date", "2026-12-06 08:30");

    assertFails(() -> verifier.verify(request), SigV4Failure.INCOMPLETE_SIGNATURE)
        .contains("ISO-8601 'basic format'");
  }

  @Test
  void aDateOfTheRightShapeButNoSuchDay_isIncomplete() {
    for (String date : new String[] {"20261306T083000Z", "20261232T083000Z", "20261206T246000Z"}) {
      SignedRequest request = rewritten(encrypt(), "X-Amz-Date", date);

      assertFails(() -> verifier.verify(request), SigV4Failure.INCOMPLETE_SIGNATURE)
          .contains("ISO-8601 'basic format'");
    }
  }

  @Test
  void wrongSecret_isInvalidSignature() {
    SdkSigner wrong = new SdkSigner(ID, SECRET.replace('K', 'L'), REGION, "kms");

    assertFails(
            () -> verifier.verify(wrong.kmsCall(URL, "Encrypt", BODY, NOW).received()),
            SigV4Failure.INVALID_SIGNATURE)
        .contains("The request signature we calculated does not match");
  }

  @Test
  void staleDate_isInvalidSignature() {
    SdkSigner.Signed old = signer.kmsCall(URL, "Encrypt", BODY, NOW.minus(Duration.ofSeconds(301)));

    assertFails(() -> verifier.verify(old.received()), SigV4Failure.INVALID_SIGNATURE)
        .startsWith("Signature expired: 20261206T082459Z is now earlier than 20261206T082500Z");
  }

  @Test
  void futureDate_isInvalidSignature() {
    SdkSigner.Signed early =
        signer.kmsCall(URL, "Encrypt", BODY, NOW.plus(Duration.ofSeconds(301)));

    assertFails(() -> verifier.verify(early.received()), SigV4Failure.INVALID_SIGNATURE)
        .startsWith("Signature not yet current: 20261206T083501Z is still later than");
  }

  @Test
  void wrongRegion_isInvalidSignature() {
    SdkSigner other = new SdkSigner(ID, SECRET, "us-east-1", "kms");

    assertFails(
            () -> verifier.verify(other.kmsCall(URL, "Encrypt", BODY, NOW).received()),
            SigV4Failure.INVALID_SIGNATURE)
        .contains("Credential should be scoped to a valid region, not 'us-east-1'.");
  }

  @Test
  void wrongService_isInvalidSignature() {
    SdkSigner other = new SdkSigner(ID, SECRET, REGION, "kms-xks-proxy");

    assertFails(
            () -> verifier.verify(other.kmsCall(URL, "Encrypt", BODY, NOW).received()),
            SigV4Failure.INVALID_SIGNATURE)
        .contains("Credential should be scoped to correct service: 'kms'.");
  }

  @Test
  void hostNotSigned_isInvalidSignature() {
    SdkSigner.Signed signed = encrypt();
    String authorization = signed.authorization().replace("host;", "");
    assertThat(authorization).doesNotContain("host");

    assertFails(
            () -> verifier.verify(rewritten(signed, "Authorization", authorization)),
            SigV4Failure.INVALID_SIGNATURE)
        .contains("'Host' or ':authority' must be a 'SignedHeader'");
  }

  @Test
  void requiredHeaderNotSigned_isInvalidSignature() {
    SdkSigner.Signed signed = signer.sign("POST", URL, Map.of(), new byte[0], NOW);

    assertFails(
            () -> verifier("kms", REGION, Set.of("x-amz-target")).verify(signed.received()),
            SigV4Failure.INVALID_SIGNATURE)
        .contains("'x-amz-target' must be a 'SignedHeader'");
  }

  @Test
  void tamperedBody_isInvalidSignature() {
    byte[] other = BODY.replace("demo", "dem0").getBytes(StandardCharsets.UTF_8);

    assertFails(() -> verifier.verify(encrypt().received(other)), SigV4Failure.INVALID_SIGNATURE)
        .contains("does not match");
  }

  @Test
  void tamperedQuery_isInvalidSignature() {
    SdkSigner.Signed signed = signer.sign("GET", URL + "?a=1&b=2", Map.of(), new byte[0], NOW);
    SignedRequest received = signed.received();
    SignedRequest tampered =
        copy(received, received.rawPath(), "a=1&b=3", null, null).body(new byte[0]).build();

    assertThat(verifier.verify(received)).isNotNull();
    assertFails(() -> verifier.verify(tampered), SigV4Failure.INVALID_SIGNATURE);
  }

  @Test
  void tamperedPath_isInvalidSignature() {
    SignedRequest received = encrypt().received();
    SignedRequest tampered =
        copy(received, "/other", "", null, null)
            .body(BODY.getBytes(StandardCharsets.UTF_8))
            .build();

    assertFails(() -> verifier.verify(tampered), SigV4Failure.INVALID_SIGNATURE);
  }

  @Test
  void tamperedSignedHeader_isInvalidSignature() {
    SignedRequest request = rewritten(encrypt(), "X-Amz-Target", "TrentService.Decrypt");

    assertFails(() -> verifier.verify(request), SigV4Failure.INVALID_SIGNATURE);
  }

  @Test
  void otherHost_isInvalidSignature() {
    SignedRequest request = rewritten(encrypt(), "Host", "kms.eu-west-3.example.test:9443");

    assertFails(() -> verifier.verify(request), SigV4Failure.INVALID_SIGNATURE);
  }

  @Test
  void signedHeaderMissingFromTheRequest_isInvalidSignature() {
    SignedRequest request = rewritten(encrypt(), "X-Amz-Target", null);

    assertFails(() -> verifier.verify(request), SigV4Failure.INVALID_SIGNATURE);
  }

  @Test
  void contentSha256NotOfTheBody_isInvalidSignature() {
    SdkSigner.Signed signed =
        signer.sign(
            "POST",
            URL,
            Map.of("x-amz-content-sha256", SignedRequest.sha256Hex(BODY)),
            BODY.getBytes(StandardCharsets.UTF_8),
            NOW);
    byte[] other = BODY.replace("demo", "dem0").getBytes(StandardCharsets.UTF_8);

    assertFails(() -> verifier.verify(signed.received(other)), SigV4Failure.INVALID_SIGNATURE)
        .contains("x-amz-content-sha256");
  }

  @Test
  void unknownAccessKey_isUnrecognizedClient_andNamedForTheAudit() {
    SdkSigner stranger = new SdkSigner("AKIAUNKNOWN234567ABC", SECRET, REGION, "kms");

    SigV4Exception e =
        catchSigV4(() -> verifier.verify(stranger.kmsCall(URL, "Encrypt", BODY, NOW).received()));

    assertThat(e.failure()).isEqualTo(SigV4Failure.UNRECOGNIZED_CLIENT);
    assertThat(e.awsName()).isEqualTo("UnrecognizedClientException");
    assertThat(e.getMessage()).isEqualTo("The security token included in the request is invalid.");
    assertThat(e.accessKeyId()).contains("AKIAUNKNOWN234567ABC");
  }

  @Test
  void sessionToken_isUnrecognizedClient() {
    SdkSigner.Signed signed =
        signer.sign(
            "POST",
            URL,
            Map.of("X-Amz-Security-Token", "token"),
            BODY.getBytes(StandardCharsets.UTF_8),
            NOW);

    assertFails(() -> verifier.verify(signed.received()), SigV4Failure.UNRECOGNIZED_CLIENT);
  }

  @Test
  void otherAlgorithm_isIncomplete() {
    SdkSigner.Signed signed = encrypt();
    String authorization = signed.authorization().replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1");

    assertFails(
            () -> verifier.verify(rewritten(signed, "Authorization", authorization)),
            SigV4Failure.INCOMPLETE_SIGNATURE)
        .contains("Unsupported AWS 'algorithm'");
  }

  @Test
  void refusalMessages_neverCarryTheSecretOrTheExpectedSignature() {
    SdkSigner wrong = new SdkSigner(ID, "another-secret", REGION, "kms");
    SdkSigner.Signed signed = wrong.kmsCall(URL, "Encrypt", BODY, NOW);
    String expected = encrypt().authorization();
    String expectedSignature = expected.substring(expected.indexOf("Signature=") + 10);

    SigV4Exception e = catchSigV4(() -> verifier.verify(signed.received()));

    assertThat(e.getMessage()).doesNotContain(SECRET).doesNotContain(expectedSignature);
    assertThat(e.getStackTrace()).isEmpty();
  }

  @Test
  void signatureInUpperCaseHex_verifies() {
    SdkSigner.Signed signed = encrypt();
    String authorization = signed.authorization();
    int at = authorization.indexOf("Signature=") + 10;
    String upper =
        authorization.substring(0, at) + authorization.substring(at).toUpperCase(Locale.ROOT);

    assertThat(verifier.verify(rewritten(signed, "Authorization", upper)).accessKeyId())
        .isEqualTo(ID);
  }

  @Test
  void signatureWithNonAsciiDigits_isInvalidSignature() {
    SdkSigner.Signed signed = encrypt();
    String authorization = signed.authorization();
    int at = authorization.indexOf("Signature=") + 10;
    int digit = at;
    while (!Character.isDigit(authorization.charAt(digit))) {
      digit++;
    }
    // The same digit value in Arabic-Indic digits: a number to Character.digit, not hex on the
    // wire.
    char arabicIndic = (char) ('\u0660' + (authorization.charAt(digit) - '0'));
    String garbled =
        authorization.substring(0, digit) + arabicIndic + authorization.substring(digit + 1);

    assertFails(
            () -> verifier.verify(rewritten(signed, "Authorization", garbled)),
            SigV4Failure.INVALID_SIGNATURE)
        .contains("The request signature we calculated does not match");
  }

  @Test
  void signatureOfTheWrongLength_isInvalidSignature() {
    SdkSigner.Signed signed = encrypt();
    String authorization = signed.authorization();

    assertFails(
            () ->
                verifier.verify(
                    rewritten(
                        signed,
                        "Authorization",
                        authorization.substring(0, authorization.length() - 2))),
            SigV4Failure.INVALID_SIGNATURE)
        .contains("The request signature we calculated does not match");
    assertFails(
            () -> verifier.verify(rewritten(signed, "Authorization", authorization + "00")),
            SigV4Failure.INVALID_SIGNATURE)
        .contains("The request signature we calculated does not match");
  }

  @Test
  void eachRequest_isVerifiedWithItsOwnKey_whenOneThreadVerifiesSeveralKeys() {
    String otherId = "AKIAOTHERKEY23456777";
    String otherSecret = "another-secret-of-forty-characters-000000";
    SigningKeys derive = new SecretSigningKeys("kms", Map.of(ID, SECRET, otherId, otherSecret));
    // Kept as the server keeps them: the same SigningKey for each access key and day.
    Map<String, Optional<SigningKey>> kept = new ConcurrentHashMap<>();
    SigV4Verifier keeping =
        new SigV4Verifier(
            (id, date, region, service) ->
                kept.computeIfAbsent(id, k -> derive.find(id, date, region, service)),
            Clock.fixed(NOW, ZoneOffset.UTC),
            "kms",
            REGION,
            Set.of());
    SdkSigner other = new SdkSigner(otherId, otherSecret, REGION, "kms");
    SdkSigner otherIdWithThisSecret = new SdkSigner(otherId, SECRET, REGION, "kms");

    assertThat(keeping.verify(encrypt().received()).accessKeyId()).isEqualTo(ID);
    assertThat(keeping.verify(encrypt().received()).accessKeyId()).isEqualTo(ID);
    assertThat(keeping.verify(other.kmsCall(URL, "Encrypt", BODY, NOW).received()).accessKeyId())
        .isEqualTo(otherId);
    assertThat(keeping.verify(encrypt().received()).accessKeyId()).isEqualTo(ID);
    assertFails(
        () -> keeping.verify(otherIdWithThisSecret.kmsCall(URL, "Encrypt", BODY, NOW).received()),
        SigV4Failure.INVALID_SIGNATURE);
    assertThat(keeping.verify(other.kmsCall(URL, "Encrypt", BODY, NOW).received()).accessKeyId())
        .isEqualTo(otherId);
  }

  private static org.assertj.core.api.AbstractStringAssert<?> assertFails(
      ThrowingCallable call, SigV4Failure failure) {
    SigV4Exception e = catchSigV4(call);
    assertThat(e.failure()).as(e.getMessage()).isEqualTo(failure);
    return assertThat(e.getMessage());
  }

  private static SigV4Exception catchSigV4(ThrowingCallable call) {
    Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(call);
    assertThat(thrown).isInstanceOf(SigV4Exception.class);
    return (SigV4Exception) thrown;
  }

  /** The received request with header {@code name} replaced by {@code value} (null: removed). */
  private static SignedRequest rewritten(SdkSigner.Signed signed, String name, String value) {
    SignedRequest received = signed.received();
    return copy(received, received.rawPath(), received.rawQuery(), name, value)
        .body(signed.body())
        .build();
  }

  private static SignedRequest.Builder copy(
      SignedRequest received, String path, String query, String name, String value) {
    SignedRequest.Builder b = SignedRequest.builder(received.method(), path).rawQuery(query);
    for (String header :
        new String[] {
          "host",
          "authorization",
          "x-amz-date",
          "x-amz-target",
          "content-type",
          "x-amz-content-sha256"
        }) {
      if (name != null && header.equalsIgnoreCase(name)) {
        if (value != null) {
          b.header(header, value);
        }
        continue;
      }
      received.header(header).forEach(v -> b.header(header, v));
    }
    return b;
  }
}
