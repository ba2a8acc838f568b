package io.p11kms.server.sigv4;

import java.util.List;
import java.util.Locale;

/**
 * The parts of an {@code Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
 * Signature=...} header. Parsing checks only that the parts are there; {@link SigV4Verifier} checks
 * what they say.
 *
 * @param algorithm the word before the first space
 * @param credential {@code <access key id>/<yyyyMMdd>/<region>/<service>/aws4_request}
 * @param signedHeaders the lower-cased names of the signed headers, in the order given
 * @param signedHeadersText the SignedHeaders value lower-cased, as it goes into the canonical
 *     request
 * @param signature the signature, hex
 */
record AuthorizationHeader(
    String algorithm,
    String credential,
    List<String> signedHeaders,
    String signedHeadersText,
    String signature) {

  static final String ALGORITHM = "AWS4-HMAC-SHA256";

  /**
   * Parses the header.
   *
   * @throws SigV4Exception MISSING_AUTHENTICATION_TOKEN when there is no SigV4 header at all;
   *     INCOMPLETE_SIGNATURE when a part is missing or not a key=value pair
   */
  static AuthorizationHeader parse(String header, boolean hasDate) {
    if (header == null || !header.strip().startsWith("AWS4-")) {
      throw new SigV4Exception(
          SigV4Failure.MISSING_AUTHENTICATION_TOKEN, "Request is missing Authentication Token");
    }
    String text = header.strip();
    int space = text.indexOf(' ');
    String algorithm = space < 0 ? text : text.substring(0, space);
    String credential = null;
    String signedHeaders = null;
    String signature = null;
    if (space >= 0) {
      for (String part : text.substring(space + 1).split(",")) {
        String pair = part.strip();
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        if (eq < 0) {
          throw new SigV4Exception(
              SigV4Failure.INCOMPLETE_SIGNATURE,
              "'"
                  + pair
                  + "' not a valid key=value pair (missing equal-sign) in Authorization header.");
        }
        String name = pair.substring(0, eq).strip();
        String value = pair.substring(eq + 1).strip();
        switch (name) {
          case "Credential" -> credential = credential == null ? value : credential;
          case "SignedHeaders" -> signedHeaders = signedHeaders == null ? value : signedHeaders;
          case "Signature" -> signature = signature == null ? value : signature;
          default -> {
            // Other parameters are not part of SigV4's header form; AWS ignores them too.
          }
        }
      }
    }
    StringBuilder missing = new StringBuilder();
    requirePart(missing, "Credential", credential);
    requirePart(missing, "Signature", signature);
    requirePart(missing, "SignedHeaders", signedHeaders);
    if (!hasDate) {
      missing.append(
          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
    }
    if (missing.length() > 0) {
      throw new SigV4Exception(SigV4Failure.INCOMPLETE_SIGNATURE, missing.toString().strip());
    }
    String lower = signedHeaders.toLowerCase(Locale.ROOT);
    return new AuthorizationHeader(
        algorithm, credential, List.of(lower.split(";", -1)), lower, signature);
  }

  private static void requirePart(StringBuilder missing, String name, String value) {
    if (value == null || value.isEmpty()) {
      missing.append("Authorization header requires '").append(name).append("' parameter. ");
    }
  }
}
