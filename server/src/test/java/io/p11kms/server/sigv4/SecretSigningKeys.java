package io.p11kms.server.sigv4;

import io.p11kms.server.access.Caller;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/** Signing keys from secrets held in the test, derived in the JVM: the verifier's tests only. */
final class SecretSigningKeys implements SigningKeys {
  private final Map<String, String> secrets;
  private final String service;

  /** Keys for {@code service} only, from access key id to secret. */
  SecretSigningKeys(String service, Map<String, String> secrets) {
    this.service = service;
    this.secrets = Map.copyOf(secrets);
  }

  @Override
  public Optional<SigningKey> find(String accessKeyId, String date, String region, String svc) {
    String secret = secrets.get(accessKeyId);
    if (secret == null || !service.equals(svc)) {
      return Optional.empty();
    }
    byte[] kDate =
        SigV4Verifier.hmacSha256(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), date);
    return Optional.of(
        new SigningKey(
            new AccessKeyCaller(
                accessKeyId, new Caller("arn:aws:iam::111122223333:user/alice", "111122223333")),
            SigV4Verifier.signingKeyFromDateKey(kDate, region, svc)));
  }
}
