package io.p11kms.server;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.server.config.ServerConfig;
import java.util.List;

/**
 * {@code init-domain-key --config}: the domain keys made by the user, for a token with no security
 * officer who can make them (NSS softoken), which is also a token that does not enforce key
 * custody. Refused unless the configuration allows such a token, so that nobody makes domain keys a
 * server on that configuration would then refuse to use; the adapter refuses a token that does
 * enforce custody (its SO runs the ceremony).
 */
final class UserDomainKeyCeremony {
  private UserDomainKeyCeremony() {}

  static List<String> run(HsmConfig config, int generation) {
    if (!config.allowUnenforcedCustody()) {
      throw new HsmException(
          "init-domain-key --config makes the domain keys as the user, only on a token that does"
              + " not enforce key custody and only with "
              + ServerConfig.HSM_CUSTODY_UNENFORCED_ALLOWED
              + "=true in the configuration; on any other token the security officer runs"
              + " init-domain-key --module LIB --token-label LABEL --so-pin-file FILE");
    }
    return DomainKeyCeremony.createDomainKeyAsUser(config, generation);
  }
}
