package io.p11kms.it;

import io.p11kms.server.access.Caller;
import io.p11kms.server.sigv4.AccessKeyCaller;
import io.p11kms.server.sigv4.SigV4Verifier;
import io.p11kms.server.sigv4.SigningKey;
import io.p11kms.server.sigv4.SigningKeys;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Access keys whose secrets the test holds, for one SigV4 service ({@code kms} or {@code
 * kms-xks-proxy}), their signing keys derived in this JVM: a stand-in for the server's own access
 * keys where a test needs signed requests for principals of its choosing, as many active at once as
 * the test adds (rotation).
 */
final class TestAccessKeys implements SigningKeys {
  private record Key(String secret, Caller caller) {}

  private final String service;
  private final Map<String, Key> keys = new ConcurrentHashMap<>();

  TestAccessKeys(String service) {
    this.service = service;
  }

  /** Adds the access key {@code id} with {@code secret}, for {@code caller}. */
  TestAccessKeys add(String id, String secret, Caller caller) {
    keys.put(id, new Key(secret, caller));
    return this;
  }

  void remove(String id) {
    keys.remove(id);
  }

  @Override
  public Optional<SigningKey> find(String id, String date, String region, String service) {
    Key key = keys.get(id);
    if (key == null || !service.equals(this.service)) {
      return Optional.empty();
    }
    byte[] kDate = hmac(("AWS4" + key.secret()).getBytes(StandardCharsets.UTF_8), date);
    return Optional.of(
        new SigningKey(
            new AccessKeyCaller(id, key.caller()),
            SigV4Verifier.signingKeyFromDateKey(kDate, region, service)));
  }

  private static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
