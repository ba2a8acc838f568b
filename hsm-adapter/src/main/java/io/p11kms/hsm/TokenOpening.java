package io.p11kms.hsm;

import io.p11kms.hsm.diagnostics.MechanismProbe;
import io.p11kms.hsm.diagnostics.TokenCapabilities;
import io.p11kms.hsm.domain.RegionTransfers;
import io.p11kms.hsm.keys.KeyImports;
import io.p11kms.hsm.keys.PrivateKeys;
import io.p11kms.hsm.session.Pkcs11Errors;
import io.p11kms.hsm.session.Pkcs11Modules;
import io.p11kms.hsm.session.StandbyLibrary;
import io.p11kms.hsm.session.StepCalls;
import io.p11kms.hsm.session.TokenConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;

/**
 * Opens a token for {@link Pkcs11Hsm}: loads the module, connects (token by label, user login,
 * domain keys), probes the mechanisms and the token's capabilities, refuses a token without custody
 * unless the configuration allows it, and reads the token's identity. On any failure it releases
 * what it took.
 */
final class TokenOpening {
  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Hsm.class);

  /** An open connection, what was probed on it, and the parts of {@link Hsm} over it. */
  record Opened(
      TokenConnection connection,
      TokenCapabilities capabilities,
      Pkcs11EnvelopeKeys envelope,
      Pkcs11AsymmetricKeys asymmetric,
      Pkcs11KeyImport imports,
      Pkcs11RegionTransport regions,
      Pkcs11Administration administration) {}

  private TokenOpening() {}

  /**
   * @throws HsmException when the token is absent, lacks a required mechanism, refuses the PIN or
   *     does not enforce custody (and the configuration does not allow that)
   */
  static Opened open(
      HsmConfig config, TokenCallInterceptor interceptor, StandbyLibrary.Loader standbyLoader) {
    PKCS11Module module = Pkcs11Modules.acquire(config);
    TokenConnection connection = null;
    try {
      connection = TokenConnection.open(config, interceptor, module, standbyLoader);
      long[] mechanisms = connection.token().getMechanismList();
      Derivation preferred = MechanismProbe.choose(mechanisms);
      TokenCapabilities capabilities = TokenCapabilities.probe(connection.token());
      capabilities.requireCustody(config);
      int generation = connection.domainKeys().currentGeneration();
      if (generation == 0) {
        LOG.warn(
            "token {} holds no domain key yet; run the domain key ceremony before creating keys",
            config.tokenLabel());
      }
      LOG.info(
          "opened token {} (domain key generation {}, derivation {}, AES-GCM encryption {}, {}"
              + " sessions, call deadline {} ms, backing key cache {} keys / {} s)",
          config.tokenLabel(),
          generation,
          preferred,
          capabilities.gcmEncryption(),
          config.sessionPoolSize(),
          config.callTimeout().toMillis(),
          config.cacheMaxKeys(),
          config.cacheMaxAge().toSeconds());
      return assemble(
          config,
          connection,
          preferred,
          capabilities,
          mechanisms,
          TokenIdentity.of(connection.token().getTokenInfo()));
    } catch (PKCS11Exception | RuntimeException e) {
      if (connection != null) {
        connection.close();
      }
      Pkcs11Modules.release(config.modulePath());
      throw e instanceof PKCS11Exception p
          ? Pkcs11Errors.map("open token", p)
          : (RuntimeException) e;
    }
  }

  /** The parts of {@link Hsm}, one per interface, over one connection. */
  private static Opened assemble(
      HsmConfig config,
      TokenConnection connection,
      Derivation preferred,
      TokenCapabilities capabilities,
      long[] mechanisms,
      TokenIdentity identity) {
    Pkcs11EnvelopeKeys envelope =
        new Pkcs11EnvelopeKeys(config, connection, preferred, capabilities, mechanisms);
    StepCalls calls = new StepCalls(connection);
    Pkcs11AsymmetricKeys asymmetric =
        new Pkcs11AsymmetricKeys(
            calls,
            new PrivateKeys(
                connection.calls(),
                connection.domainKeys(),
                connection.backingKeys(),
                envelope::currentGeneration,
                mechanisms,
                capabilities.paddedKeyWrap()));
    KeyImports keyImports =
        new KeyImports(
            connection.calls(),
            connection.domainKeys(),
            connection.backingKeys(),
            envelope::currentGeneration,
            mechanisms,
            capabilities.paddedKeyWrap());
    Pkcs11KeyImport imports = new Pkcs11KeyImport(calls, keyImports);
    Pkcs11RegionTransport regions =
        new Pkcs11RegionTransport(
            calls,
            new RegionTransfers(
                connection.calls(), connection.domainKeys(), connection.backingKeys(), keyImports));
    Pkcs11Administration administration =
        new Pkcs11Administration(connection, capabilities, identity);
    return new Opened(
        connection, capabilities, envelope, asymmetric, imports, regions, administration);
  }
}
