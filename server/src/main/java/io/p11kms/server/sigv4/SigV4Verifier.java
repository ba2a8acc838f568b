package io.p11kms.server.sigv4;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies AWS Signature Version 4 on a request ({@code Authorization} header form) for one
 * service: {@code kms} for the AWS KMS JSON API, {@code kms-xks-proxy} for the XKS proxy API.
 * Thread-safe; one instance per front end.
 *
 * <p>The checks, in AWS's order, each with AWS's exception name and message: the header is there
 * and SigV4 ({@code MissingAuthenticationTokenException}); it has Credential, SignedHeaders,
 * Signature and the request a date ({@code IncompleteSignatureException}); the date parses ({@code
 * IncompleteSignatureException}) and is within five minutes of the clock ({@code
 * InvalidSignatureException}); the host is signed, and any header this front end requires ({@code
 * InvalidSignatureException}); the algorithm is AWS4-HMAC-SHA256 and the credential has five parts
 * ({@code IncompleteSignatureException}); the scope's region, service, terminator and date are
 * right ({@code InvalidSignatureException}); the access key is known, active and for this front
 * end, and no session token is sent ({@code UnrecognizedClientException}); an {@code
 * x-amz-content-sha256} header matches the body, and the signature matches, compared in constant
 * time ({@code InvalidSignatureException}).
 */
public final class SigV4Verifier {
  /** How far a request's date may be from the server's clock, either way. */
  public static final Duration MAX_SKEW = Duration.ofMinutes(5);

  static final String TERMINATOR = "aws4_request";
  private static final DateTimeFormatter BASIC =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final int BASIC_LENGTH = "yyyyMMddTHHmmssZ".length();
  private static final String MISMATCH =
      "The request signature we calculated does not match the signature you provided. Check your"
          + " AWS Secret Access Key and signing method. Consult the service documentation for"
          + " details.";
  private static final String INVALID_TOKEN =
      "The security token included in the request is invalid.";

  private final SigningKeys signingKeys;
  private final Clock clock;
  private final String service;
  private final String region;
  private final Set<String> requiredSignedHeaders;

  /**
   * @param signingKeys where the signing key of an access key id comes from
   * @param clock the server's clock
   * @param service the service every credential scope must name ({@code kms}, {@code
   *     kms-xks-proxy})
   * @param regionOrNull the region every credential scope must name; null to accept any region (the
   *     XKS proxy API: AWS KMS signs with the region it calls from)
   * @param requiredSignedHeaders headers besides {@code host} that must be signed (lower case), for
   *     example {@code x-amz-target}; may be empty
   */
  public SigV4Verifier(
      SigningKeys signingKeys,
      Clock clock,
      String service,
      String regionOrNull,
      Set<String> requiredSignedHeaders) {
    if (signingKeys == null || clock == null || service == null || service.isEmpty()) {
      throw new IllegalArgumentException("a verifier needs signing keys, a clock and a service");
    }
    this.signingKeys = signingKeys;
    this.clock = clock;
    this.service = service;
    this.region = regionOrNull;
    this.requiredSignedHeaders = Set.copyOf(requiredSignedHeaders);
  }

  /**
   * Who signed {@code request}: the access key id and its principal and account.
   *
   * @throws SigV4Exception when the request is not signed, or not signed right
   * @throws RuntimeException what {@link SigningKeys#find} throws when the store or the token fails
   *     (not a refusal: the front end's internal or unavailable error)
   */
  public AccessKeyCaller verify(SignedRequest request) {
    String amzDate = request.firstHeader("x-amz-date");
    String httpDate = request.firstHeader("date");
    AuthorizationHeader authorization =
        AuthorizationHeader.parse(
            request.firstHeader("authorization"), amzDate != null || httpDate != null);
    String[] scope = authorization.credential().split("/", -1);
    String accessKeyId = scope[0];
    try {
      return verify(request, authorization, scope, amzDate, httpDate);
    } catch (SigV4Exception e) {
      throw e.naming(accessKeyId.isEmpty() ? null : accessKeyId);
    }
  }

  private AccessKeyCaller verify(
      SignedRequest request,
      AuthorizationHeader authorization,
      String[] scope,
      String amzDate,
      String httpDate) {
    // The date every SDK sends is already in the form the string to sign takes.
    Instant basic = amzDate != null ? basic(amzDate) : null;
    Instant requestTime = basic != null ? basic : requestTime(amzDate, httpDate);
    String requestDateTime = basic != null ? amzDate : BASIC.format(requestTime);
    checkSkew(requestTime, requestDateTime);
    checkSigned(authorization);
    if (!AuthorizationHeader.ALGORITHM.equals(authorization.algorithm())) {
      throw incomplete(
          "Unsupported AWS 'algorithm': '"
              + authorization.algorithm()
              + "' (only AWS4-HMAC-SHA256 for now). ");
    }
    if (scope.length != 5) {
      throw incomplete(
          "Credential must have exactly 5 slash-delimited elements, e.g."
              + " keyid/date/region/service/term, got '"
              + authorization.credential()
              + "'");
    }
    checkScope(scope, requestDateTime);
    if (request.firstHeader("x-amz-security-token") != null) {
      throw new SigV4Exception(SigV4Failure.UNRECOGNIZED_CLIENT, INVALID_TOKEN);
    }
    SigningKey key =
        signingKeys
            .find(scope[0], scope[1], scope[2], scope[3])
            .orElseThrow(() -> new SigV4Exception(SigV4Failure.UNRECOGNIZED_CLIENT, INVALID_TOKEN));
    String contentSha256 = request.firstHeader("x-amz-content-sha256");
    if (contentSha256 != null && !contentSha256.strip().equalsIgnoreCase(request.payloadSha256())) {
      throw invalid("The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    String canonical = CanonicalRequest.of(request, authorization);
    if (canonical == null) {
      throw invalid(MISMATCH);
    }
    String credential = authorization.credential();
    // The scope is the credential after the access key id: scope[1] to scope[4], joined by '/'.
    String stringToSign =
        AuthorizationHeader.ALGORITHM
            + '\n'
            + requestDateTime
            + '\n'
            + credential.substring(credential.indexOf('/') + 1)
            + '\n'
            + SignedRequest.sha256Hex(canonical);
    if (!matches(signature(key, stringToSign), authorization.signature())) {
      throw invalid(MISMATCH);
    }
    return key.caller();
  }

  /**
   * Whether the signature of {@code request}, verified already, covers the header {@code name}
   * (lower case): a header outside SignedHeaders may have been added by anyone on the way.
   */
  public static boolean signs(SignedRequest request, String name) {
    String amzDate = request.firstHeader("x-amz-date");
    String httpDate = request.firstHeader("date");
    return AuthorizationHeader.parse(
            request.firstHeader("authorization"), amzDate != null || httpDate != null)
        .signedHeaders()
        .contains(name);
  }

  private static Instant requestTime(String amzDate, String httpDate) {
    if (amzDate != null) {
      try {
        return LocalDateTime.parse(amzDate.strip(), BASIC).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException e) {
        throw incomplete(
            "Date must be in ISO-8601 'basic format'. Got '"
                + amzDate
                + "'. See http://en.wikipedia.org/wiki/ISO_8601");
      }
    }
    try {
      return ZonedDateTime.parse(httpDate.strip(), DateTimeFormatter.RFC_1123_DATE_TIME)
          .toInstant();
    } catch (DateTimeParseException e) {
      throw incomplete("Date must be in RFC 1123 format. Got '" + httpDate + "'.");
    }
  }

  /**
   * {@code yyyyMMdd'T'HHmmss'Z'} read field by field, without {@link #BASIC}'s general parser (up
   * to a third of the verification's samples in a profile); null when it is not exactly that form
   * of a valid time, for {@link #BASIC} to read or refuse with its message.
   */
  private static Instant basic(String s) {
    if (s.length() != BASIC_LENGTH || s.charAt(8) != 'T' || s.charAt(15) != 'Z') {
      return null;
    }
    for (int i = 0; i < 15; i++) {
      if (i != 8 && (s.charAt(i) < '0' || s.charAt(i) > '9')) {
        return null;
      }
    }
    try {
      return LocalDateTime.of(
              number(s, 0, 4),
              number(s, 4, 6),
              number(s, 6, 8),
              number(s, 9, 11),
              number(s, 11, 13),
              number(s, 13, 15))
          .toInstant(ZoneOffset.UTC);
    } catch (DateTimeException e) {
      return null;
    }
  }

  private static int number(String s, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      n = n * 10 + (s.charAt(i) - '0');
    }
    return n;
  }

  private void checkSkew(Instant requestTime, String requestDateTime) {
    Instant now = clock.instant();
    if (requestTime.isBefore(now.minus(MAX_SKEW))) {
      throw invalid(
          "Signature expired: "
              + requestDateTime
              + " is now earlier than "
              + BASIC.format(now.minus(MAX_SKEW))
              + " ("
              + BASIC.format(now)
              + " - 5 min.)");
    }
    if (requestTime.isAfter(now.plus(MAX_SKEW))) {
      throw invalid(
          "Signature not yet current: "
              + requestDateTime
              + " is still later than "
              + BASIC.format(now.plus(MAX_SKEW))
              + " ("
              + BASIC.format(now)
              + " + 5 min.)");
    }
  }

  private void checkSigned(AuthorizationHeader authorization) {
    if (!authorization.signedHeaders().contains("host")
        && !authorization.signedHeaders().contains(":authority")) {
      throw invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }
    for (String name : requiredSignedHeaders) {
      if (!authorization.signedHeaders().contains(name)) {
        throw invalid("'" + name + "' must be a 'SignedHeader' in the AWS Authorization.");
      }
    }
  }

  private void checkScope(String[] scope, String requestDateTime) {
    StringBuilder wrong = new StringBuilder();
    if (region != null && !region.equals(scope[2])) {
      wrong.append("Credential should be scoped to a valid region, not '" + scope[2] + "'. ");
    }
    if (!service.equals(scope[3])) {
      wrong.append("Credential should be scoped to correct service: '" + service + "'. ");
    }
    if (!TERMINATOR.equals(scope[4])) {
      wrong.append(
          "Credential should be scoped with a valid terminator: 'aws4_request', not '"
              + scope[4]
              + "'. ");
    }
    String day = requestDateTime.substring(0, 8);
    if (!day.equals(scope[1])) {
      wrong.append(
          "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from"
              + " HTTP: '"
              + scope[1]
              + "' != '"
              + day
              + "', from '"
              + requestDateTime
              + "'.");
    }
    if (wrong.length() > 0) {
      throw invalid(wrong.toString().strip());
    }
  }

  /**
   * The SigV4 key derivation after kDate: kRegion, kService, kSigning. {@code kDate} is
   * HMAC-SHA256("AWS4" + secret, date), which the token computes.
   */
  public static byte[] signingKeyFromDateKey(byte[] kDate, String region, String service) {
    byte[] kRegion = hmacSha256(kDate, region);
    byte[] kService = hmacSha256(kRegion, service);
    try {
      return hmacSha256(kService, TERMINATOR);
    } finally {
      java.util.Arrays.fill(kRegion, (byte) 0);
      java.util.Arrays.fill(kService, (byte) 0);
    }
  }

  /**
   * Whether {@code given}, hex in either case, is the signature {@code expected}, compared in
   * constant time (a given signature of the wrong length or not hex matches nothing).
   */
  static boolean matches(byte[] expected, String given) {
    byte[] bytes = new byte[expected.length];
    boolean hex = given.length() == 2 * expected.length;
    for (int i = 0; hex && i < bytes.length; i++) {
      int hi = hexDigit(given.charAt(2 * i));
      int lo = hexDigit(given.charAt(2 * i + 1));
      hex = hi >= 0 && lo >= 0;
      bytes[i] = (byte) ((hi << 4) | lo);
    }
    return MessageDigest.isEqual(expected, bytes) && hex;
  }

  /** The value of an ASCII hex digit, or -1. */
  private static int hexDigit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /**
   * One HMAC-SHA256 per thread for the request's signature ({@code getInstance} looks the provider
   * up on every call), and the signing key it was last given: a request signed with the same
   * signing key as the thread's last one (each access key's for the day, held by the signing key
   * cache anyway) reuses the HMAC as it is, which {@code doFinal} leaves ready for that key,
   * instead of {@code init} deriving the key's pads again. The steps of the key derivation use
   * {@link #hmacSha256}'s own instances.
   */
  private static final class SignatureMac {
    private final Mac mac;
    private SigningKey key;

    SignatureMac() {
      try {
        mac = Mac.getInstance("HmacSHA256");
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("the JDK has no HmacSHA256", e);
      }
    }

    byte[] sign(SigningKey signingKey, String stringToSign) {
      if (signingKey != key) {
        key = null;
        try {
          mac.init(new SecretKeySpec(signingKey.key(), "HmacSHA256"));
        } catch (GeneralSecurityException e) {
          throw new IllegalStateException("a signing key is not an HMAC key", e);
        }
        key = signingKey;
      }
      return mac.doFinal(stringToSign.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static final ThreadLocal<SignatureMac> SIGNATURE_MAC =
      ThreadLocal.withInitial(SignatureMac::new);

  private static byte[] signature(SigningKey key, String stringToSign) {
    return SIGNATURE_MAC.get().sign(key, stringToSign);
  }

  static byte[] hmacSha256(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no HmacSHA256", e);
    }
  }

  private static SigV4Exception incomplete(String message) {
    return new SigV4Exception(SigV4Failure.INCOMPLETE_SIGNATURE, message);
  }

  private static SigV4Exception invalid(String message) {
    return new SigV4Exception(SigV4Failure.INVALID_SIGNATURE, message);
  }
}
