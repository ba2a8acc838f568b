package io.p11kms.server.service;

import io.p11kms.hsm.AsymmetricDomainKeyMissingException;
import io.p11kms.hsm.HsmDecryptionFailedException;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.HsmUnavailableException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a token call and turns the adapter's failures into the errors callers see. */
final class TokenCalls {
  private static final Logger log = LoggerFactory.getLogger(TokenCalls.class);

  private TokenCalls() {}

  static <T> T call(String operation, Supplier<T> tokenCall) {
    try {
      return tokenCall.get();
    } catch (HsmDecryptionFailedException e) {
      throw KmsException.invalidCiphertext();
    } catch (AsymmetricDomainKeyMissingException e) {
      log.error("{}: the token has no asymmetric domain key: run the ceremony", operation);
      throw new KmsException(
          KmsError.INTERNAL, "The key store's token is not set up for asymmetric and HMAC keys");
    } catch (HsmUnavailableException e) {
      log.warn("{}: token unavailable: {}", operation, e.getMessage());
      throw new KmsException(
          KmsError.DEPENDENCY_TIMEOUT, "The key store's token did not answer in time");
    } catch (HsmException e) {
      log.error("{}: token call failed: {}", operation, e.getMessage());
      throw new KmsException(KmsError.INTERNAL, "Internal error");
    }
  }
}
