package io.p11kms.server.sigv4;

import java.util.Optional;

/**
 * Where the verifier gets signing keys: by access key id, for the date, region and service of a
 * request's credential scope.
 */
@FunctionalInterface
public interface SigningKeys {

  /**
   * The signing key of {@code accessKeyId} for {@code date} (yyyyMMdd), {@code region} and {@code
   * service}; empty when the id is unknown, disabled, or not usable on {@code service}'s front end.
   * A failing store or token throws its own exception ({@code KeyStoreException}, {@code
   * HsmException}, {@code HsmUnavailableException}): an internal error, not a refusal.
   */
  Optional<SigningKey> find(String accessKeyId, String date, String region, String service);
}
