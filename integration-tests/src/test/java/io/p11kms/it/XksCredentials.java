package io.p11kms.it;

import io.p11kms.server.access.Caller;
import io.p11kms.server.sigv4.AccessKeyCaller;
import io.p11kms.server.sigv4.SigV4Verifier;
import io.p11kms.server.sigv4.SigningKey;
import io.p11kms.server.sigv4.SigningKeys;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * XKS credentials for a test: access key ids with their secrets and callers, as many active at once
 * as the test adds (rotation), each usable on the XKS proxy API only.
 */
final class XksCredentials implements SigningKeys {
  private record Credential(String secret, Caller caller) {}

  private final Map<String, Credential> byId = new ConcurrentHashMap<>();

  void add(String accessKeyId, String secret, Caller caller) {
    byId.put(accessKeyId, new Credential(secret, caller));
  }

  void remove(String accessKeyId) {
    byId.remove(accessKeyId);
  }

  @Override
  public Optional<SigningKey> find(String accessKeyId, String date, String region, String service) {
    Credential c = byId.get(accessKeyId);
    if (c == null || !service.equals("kms-xks-proxy")) {
      return Optional.empty();
    }
    byte[] kDate = hmac(("AWS4" + c.secret()).getBytes(StandardCharsets.UTF_8), date);
    return Optional.of(
        new SigningKey(
            new AccessKeyCaller(accessKeyId, c.caller()),
            SigV4Verifier.signingKeyFromDateKey(kDate, region, service)));
  }

  private static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
