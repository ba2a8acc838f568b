package io.p11kms.hsm;

import io.p11kms.hsm.diagnostics.TokenCapabilities;
import io.p11kms.hsm.domain.DomainKeys;
import io.p11kms.hsm.keys.BackingKeyUse;
import io.p11kms.hsm.keys.BackingKeys;
import io.p11kms.hsm.keys.PrivateData;
import io.p11kms.hsm.keys.PrivateDataWrites;
import io.p11kms.hsm.keys.PrivateKeyTemplates;
import io.p11kms.hsm.keys.Rewrap;
import io.p11kms.hsm.session.AdapterStep;
import io.p11kms.hsm.session.Calls;
import io.p11kms.hsm.session.Pkcs11Errors;
import io.p11kms.hsm.session.Pkcs11Function;
import io.p11kms.hsm.session.Step;
import io.p11kms.hsm.session.TokenConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;

/**
 * {@link TokenAdministration} over a PKCS#11 token: the health probe, the service's signing keys
 * (HMAC-SHA256 token objects found by label) and private data objects, and moving backing keys to
 * another domain key generation inside the token.
 */
final class Pkcs11Administration implements TokenAdministration {
  private static final Logger LOG = LoggerFactory.getLogger(Pkcs11Hsm.class);

  private final TokenConnection connection;
  private final Calls calls;
  private final DomainKeys domainKeys;
  private final BackingKeys backingKeys;
  private final TokenCapabilities capabilities;
  private final TokenIdentity identity;
  private final SigningKeyHandles signingKeys;
  private final PrivateDataWrites privateDataWrites;

  Pkcs11Administration(
      TokenConnection connection, TokenCapabilities capabilities, TokenIdentity identity) {
    this.connection = connection;
    this.calls = connection.calls();
    this.domainKeys = connection.domainKeys();
    this.backingKeys = connection.backingKeys();
    this.capabilities = capabilities;
    this.identity = identity;
    this.signingKeys = new SigningKeyHandles(calls, capabilities.marksGeneratedKeysLocal());
    this.privateDataWrites = new PrivateDataWrites(calls);
  }

  @Override
  public TokenIdentity identity() {
    return identity;
  }

  @Override
  public void createSigningKeyIfAbsent(String label) {
    try {
      connection.call(
          "create signing key",
          session -> {
            connection.checkOpen();
            if (session.findObjectsSingle(
                        PrivateKeyTemplates.signingKeyByLabel(
                            label, capabilities.marksGeneratedKeysLocal()),
                        1)
                    .length
                == 0) {
              calls.before(Pkcs11Function.C_GENERATE_KEY);
              session.generateKey(
                  new Mechanism(PKCS11Constants.CKM_GENERIC_SECRET_KEY_GEN),
                  PrivateKeyTemplates.signingKey(label));
              LOG.info("created signing key {}", label);
            }
            return null;
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(Pkcs11Function.C_GENERATE_KEY, e);
    }
  }

  @Override
  public byte[] sign(String label, byte[] data) {
    try {
      return connection.call(
          "sign",
          session -> {
            connection.checkOpen();
            long key = signingKeys.handle(session, label, connection.epoch());
            calls.before(Pkcs11Function.C_SIGN);
            return session.signSingle(new Mechanism(PKCS11Constants.CKM_SHA256_HMAC), key, data);
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(Pkcs11Function.C_SIGN, e);
    }
  }

  @Override
  public java.util.List<byte[]> readPrivateData(String label) {
    try {
      return connection.call(
          "read private data",
          session -> {
            connection.checkOpen();
            return PrivateData.read(session, calls, label);
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(Pkcs11Function.C_GET_ATTRIBUTE_VALUE, e);
    }
  }

  @Override
  public void replacePrivateData(String label, byte[] value) {
    try {
      connection.call(
          "replace private data",
          session -> {
            connection.checkOpen();
            privateDataWrites.replace(session, label, value, connection.epoch());
            return null;
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(Pkcs11Function.C_CREATE_OBJECT, e);
    }
  }

  /**
   * Whether the token can be used now: one cheap token call (is the session still logged in?),
   * recovering first if it fails. Also evicts the cached backing keys past their age, and recycles
   * the library when due. Takes at most about twice the call deadline.
   */
  @Override
  public boolean isHealthy() {
    if (connection.isClosed()) {
      return false;
    }
    boolean healthy;
    try {
      healthy =
          connection.call(
              "health check",
              session -> {
                calls.before(Pkcs11Function.C_GET_SESSION_INFO);
                if (session.getSessionInfo().getState() != PKCS11Constants.CKS_RW_USER_FUNCTIONS) {
                  throw new PKCS11Exception(PKCS11Constants.CKR_USER_NOT_LOGGED_IN);
                }
                backingKeys.sweep(session);
                return true;
              },
              true);
    } catch (PKCS11Exception | HsmException e) {
      return false;
    }
    // Here, between the probe's calls, because the recycle briefly holds every call back.
    connection.recycleLibraryIfDue();
    return healthy;
  }

  @Override
  public int currentDomainKeyGeneration() {
    connection.checkOpen();
    try {
      return connection.call(
          "scan domain keys",
          session -> {
            domainKeys.scan(session);
            return domainKeys.currentGeneration();
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("scan domain keys", e);
    }
  }

  @Override
  public WrappedKey rewrap(WrappedKey ekt, int toGeneration) {
    connection.checkOpen();
    if (ekt == null || toGeneration < 1) {
      throw new IllegalArgumentException("an EKT and a generation of at least 1 are required");
    }
    Step step = new Step("rewrap");
    try {
      return connection.call(
          "rewrap",
          session -> {
            step.enter(AdapterStep.FIND_DOMAIN_KEY);
            long from = domainKeys.handle(session, ekt.domainKeyGeneration());
            long to = domainKeys.handle(session, toGeneration);
            BackingKeyUse use = domainKeys.backingKeyUse(session, ekt.domainKeyGeneration());
            if (use != domainKeys.backingKeyUse(session, toGeneration)) {
              throw new EktCannotMoveException(
                  "a backing key of domain key generation "
                      + ekt.domainKeyGeneration()
                      + " ("
                      + use
                      + ") cannot move to generation "
                      + toGeneration
                      + ", whose backing keys are "
                      + domainKeys.backingKeyUse(session, toGeneration));
            }
            return Rewrap.rewrap(
                session, calls, backingKeys, from, to, use, ekt, toGeneration, step);
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map(step.label(), e);
    }
  }

  /**
   * Token objects plus this application's session objects (see {@link
   * Pkcs11Hsm#visibleObjectCount}).
   */
  int visibleObjectCount() {
    connection.checkOpen();
    try {
      return connection.call(
          "count objects",
          session -> {
            session.findObjectsInit(new AttributeVector());
            try {
              int count = 0;
              long[] batch;
              while ((batch = session.findObjects(256)).length > 0) {
                count += batch.length;
              }
              return count;
            } finally {
              session.findObjectsFinal();
            }
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("count objects", e);
    }
  }

  /** Destroys every cached unwrapped backing key (see {@link Pkcs11Hsm#evictCachedBackingKeys}). */
  void evictCachedBackingKeys() {
    connection.checkOpen();
    try {
      connection.call(
          "evict backing keys",
          session -> {
            backingKeys.evictAll(session);
            return null;
          },
          true);
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("evict backing keys", e);
    }
  }
}
