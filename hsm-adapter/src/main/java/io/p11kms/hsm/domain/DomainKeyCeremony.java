package io.p11kms.hsm.domain;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.diagnostics.TokenCapabilities;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.keys.Templates;
import io.p11kms.hsm.session.AdapterStep;
import io.p11kms.hsm.session.Pkcs11Errors;
import io.p11kms.hsm.session.Pkcs11Function;
import io.p11kms.hsm.session.Pkcs11Modules;
import io.p11kms.hsm.session.SecurityOfficer;
import io.p11kms.hsm.session.Step;
import io.p11kms.hsm.session.TokenFinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.Mechanism;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;

/**
 * Creates a domain key in the token, as the security officer.
 *
 * <p>Why the SO: only the SO may set CKA_TRUSTED, and only a TRUSTED key may wrap the backing keys
 * (which are WRAP_WITH_TRUSTED). An SO session can create only public objects, so the domain key is
 * a public token object; it is SENSITIVE, and EXTRACTABLE only under a TRUSTED key
 * (WRAP_WITH_TRUSTED, for the domain-join ceremony), so public does not mean readable. Its
 * UNWRAP_TEMPLATE makes the token force SENSITIVE and WRAP_WITH_TRUSTED onto everything it unwraps,
 * whatever template the caller passes.
 */
public final class DomainKeyCeremony {
  private static final Logger LOG = LoggerFactory.getLogger(DomainKeyCeremony.class);

  /** The boolean attributes of a new domain key checked against its template, when it sets them. */
  private static final long[] CHECKED_FLAGS = {
    PKCS11Constants.CKA_TRUSTED,
    PKCS11Constants.CKA_SENSITIVE,
    PKCS11Constants.CKA_EXTRACTABLE,
    PKCS11Constants.CKA_WRAP_WITH_TRUSTED,
    PKCS11Constants.CKA_DECRYPT,
    PKCS11Constants.CKA_ENCRYPT,
    PKCS11Constants.CKA_MODIFIABLE
  };

  private DomainKeyCeremony() {}

  /**
   * Generates the AES-256 domain keys of {@code generation}, one per {@link DomainKeyRole} ({@code
   * domain-key/<n>} for backing keys, {@code domain-key-asym/<n>} for private keys, {@code
   * domain-key-hmac/<n>} for HMAC keys), in the token labelled {@code tokenLabel}, each unless it
   * exists: on a token made before a role existed, running the ceremony again for the current
   * generation adds the missing one. Logs in as SO, logs out and releases the module afterwards.
   * The caller owns {@code soPin} and wipes it.
   *
   * @return the labels created, in order
   * @throws HsmException when the token is absent, the SO PIN is refused, or every key exists
   * @throws IllegalArgumentException when {@code generation} is less than 1
   */
  public static List<String> createDomainKey(
      Path modulePath, String tokenLabel, char[] soPin, int generation) {
    return createDomainKey(
        modulePath,
        tokenLabel,
        soPin,
        generation,
        role -> KeyTemplates.domainKey(role, generation));
  }

  /**
   * As {@link #createDomainKey(Path, String, char[], int)} with the template of each role's key
   * from {@code templates} (null: that role is not made). Tests use it to build a token as an older
   * ceremony did, or a deliberately weak one.
   */
  public static List<String> createDomainKey(
      Path modulePath,
      String tokenLabel,
      char[] soPin,
      int generation,
      Function<DomainKeyRole, AttributeVector> templates) {
    if (modulePath == null || tokenLabel == null || soPin == null) {
      throw new IllegalArgumentException("module path, token label and SO PIN are required");
    }
    if (generation < 1) {
      throw new IllegalArgumentException(
          "domain key generation must be at least 1, was " + generation);
    }
    List<String> created = new ArrayList<>();
    List<String> present = new ArrayList<>();
    PKCS11Module module = Pkcs11Modules.acquire(modulePath);
    Step step = new Step("find token");
    try {
      Token token = TokenFinder.byLabel(module, tokenLabel);
      step.enter(Pkcs11Function.C_OPEN_SESSION);
      Session session = token.openSession(true);
      try {
        step.enter(AdapterStep.SO_LOGIN);
        session.login(PKCS11Constants.CKU_SO, soPin);
        try {
          for (DomainKeyRole role : DomainKeyRole.values()) {
            AttributeVector template = templates.apply(role);
            if (template == null) {
              continue;
            }
            step.enter(Pkcs11Function.C_FIND_OBJECTS);
            // Trusted only: an untrusted key a user planted under the label must not block the SO.
            // Any domain-key/<n> counts, as it always did: the generation is taken.
            AttributeVector byLabel = KeyTemplates.trustedDomainKeyByLabel(role, generation);
            if (role == DomainKeyRole.SYMMETRIC) {
              byLabel = KeyTemplates.domainKeyByLabel(generation);
            }
            if (session.findObjectsSingle(byLabel, 1).length > 0) {
              present.add(role.label(generation));
              continue;
            }
            step.enter(Pkcs11Function.C_GENERATE_KEY);
            generate(session, template);
            created.add(role.label(generation));
          }
          if (created.isEmpty()) {
            throw new HsmException(
                present.get(0)
                    + " already exists on token "
                    + tokenLabel
                    + (present.size() > 1
                        ? ", and " + String.join(", ", present.subList(1, present.size()))
                        : ""));
          }
          LOG.info("created {} on token {}", String.join(" and ", created), tokenLabel);
        } finally {
          try {
            session.logout();
          } catch (PKCS11Exception e) {
            // The session is closed next; the login goes with it.
          }
        }
      } finally {
        try {
          session.closeSession();
        } catch (PKCS11Exception e) {
          // Nothing to undo.
        }
      }
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("domain key ceremony: " + step.label(), e);
    } finally {
      Pkcs11Modules.release(modulePath);
    }
    return created;
  }

  /**
   * The ceremony on a token that does not enforce custody ({@link
   * TokenCapabilities#custodyEnforced()} false): a user session generates the domain keys of {@code
   * generation}, each unless present, from {@link KeyTemplates#domainKeyWithoutCustody}.
   *
   * <p>Why not the SO: on such a token TRUSTED is no privilege of the SO, and NSS softoken's SO
   * exists only until the user PIN is set and cannot make a secret key even then (its token secret
   * keys are private objects, which an SO session cannot create: CKR_USER_NOT_LOGGED_IN). The keys
   * get the same labels, TRUSTED, usages and MODIFIABLE false as on any token, so the adapter finds
   * and uses them the same way; the custody they would give on another token is not there.
   *
   * @return the labels created, in order
   * @throws HsmException when the token enforces custody (its SO runs {@link #createDomainKey}),
   *     refuses the PIN, or holds every key already
   */
  public static List<String> createDomainKeyAsUser(HsmConfig config, int generation) {
    if (generation < 1) {
      throw new IllegalArgumentException(
          "domain key generation must be at least 1, was " + generation);
    }
    List<String> created = new ArrayList<>();
    PKCS11Module module = Pkcs11Modules.acquire(config);
    Step step = new Step("find token");
    try {
      Token token = TokenFinder.byLabel(module, config.tokenLabel());
      step.enter(Pkcs11Function.C_OPEN_SESSION);
      Session session = token.openSession(true);
      try {
        step.enter(Pkcs11Function.C_LOGIN);
        char[] pin = config.userPin().read();
        try {
          session.login(PKCS11Constants.CKU_USER, pin);
        } finally {
          java.util.Arrays.fill(pin, '\0');
        }
        try {
          step.enter(AdapterStep.PROBE_TOKEN);
          if (TokenCapabilities.probe(token).custodyEnforced()) {
            throw new HsmException(
                "token "
                    + config.tokenLabel()
                    + " enforces custody: its security officer makes the domain keys"
                    + " (init-domain-key)");
          }
          for (DomainKeyRole role : DomainKeyRole.values()) {
            step.enter(Pkcs11Function.C_FIND_OBJECTS);
            if (session.findObjectsSingle(KeyTemplates.domainKeyByLabel(role, generation), 1).length
                > 0) {
              continue;
            }
            step.enter(Pkcs11Function.C_GENERATE_KEY);
            generate(session, KeyTemplates.domainKeyWithoutCustody(role, generation));
            created.add(role.label(generation));
          }
          if (created.isEmpty()) {
            throw new HsmException(
                "the domain keys of generation "
                    + generation
                    + " already exist on token "
                    + config.tokenLabel());
          }
          LOG.warn(
              "created {} on token {}, which does not enforce custody",
              String.join(" and ", created),
              config.tokenLabel());
        } finally {
          try {
            session.logout();
          } catch (PKCS11Exception e) {
            // The session is closed next; the login goes with it.
          }
        }
      } finally {
        SecurityOfficer.closeQuietly(session);
      }
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("domain key ceremony: " + step.label(), e);
    } finally {
      Pkcs11Modules.release(config.modulePath());
    }
    return created;
  }

  private static void generate(Session session, AttributeVector template) throws PKCS11Exception {
    long handle = session.generateKey(new Mechanism(PKCS11Constants.CKM_AES_KEY_GEN), template);
    verifyAttributes(session, handle, template);
  }

  /**
   * Creates the next domain key generation: one above the highest {@code domain-key/<n>} on the
   * token (1 on a token without one). The first half of a domain-key rotation; the server then
   * re-wraps every EKT under the new generation. Creates the domain key of every role, with the
   * current templates. As {@link #createDomainKey}: SO login, logout, module released; the caller
   * owns and wipes {@code soPin}.
   *
   * @return the generation created
   */
  public static int createNextDomainKey(Path modulePath, String tokenLabel, char[] soPin) {
    if (modulePath == null || tokenLabel == null || soPin == null) {
      throw new IllegalArgumentException("module path, token label and SO PIN are required");
    }
    int highest = 0;
    PKCS11Module module = Pkcs11Modules.acquire(modulePath);
    try {
      Token token = TokenFinder.byLabel(module, tokenLabel);
      // Domain keys are public objects: a public session (no login) finds them.
      Session session = token.openSession(false);
      try {
        for (long object : session.findAllObjectsSingle(KeyTemplates.tokenSecretKeys())) {
          String label = session.getStringAttrValue(object, PKCS11Constants.CKA_LABEL);
          highest = Math.max(highest, DomainKeys.generationOf(label));
        }
      } finally {
        try {
          session.closeSession();
        } catch (PKCS11Exception e) {
          // Nothing to undo.
        }
      }
    } catch (PKCS11Exception e) {
      throw Pkcs11Errors.map("domain key ceremony: find domain keys", e);
    } finally {
      Pkcs11Modules.release(modulePath);
    }
    createDomainKey(modulePath, tokenLabel, soPin, highest + 1);
    return highest + 1;
  }

  /**
   * Checks that the token kept the attributes custody depends on. SoftHSM2 2.6.1 accepts
   * CKA_TRUSTED in the SO's generate template, so no C_SetAttributeValue is needed (and the key is
   * not modifiable afterwards). A token that dropped any of them leaves a key that must not be
   * used: the ceremony fails, naming the attribute, and the operator deletes the key with the
   * token's own tools.
   */
  private static void verifyAttributes(Session session, long handle, AttributeVector template)
      throws PKCS11Exception {
    long[] read = Arrays.copyOf(CHECKED_FLAGS, CHECKED_FLAGS.length + 2);
    read[CHECKED_FLAGS.length] = PKCS11Constants.CKA_WRAP_TEMPLATE;
    read[CHECKED_FLAGS.length + 1] = PKCS11Constants.CKA_UNWRAP_TEMPLATE;
    AttributeVector actual = session.getAttrValues(handle, read);
    require(Templates.same(template, actual), "CKA_WRAP_TEMPLATE and CKA_UNWRAP_TEMPLATE");
    for (long type : CHECKED_FLAGS) {
      Boolean wanted = template.getBooleanAttrValue(type);
      if (wanted != null) {
        require(
            wanted.equals(actual.getBooleanAttrValue(type)), PKCS11Constants.ckaCodeToName(type));
      }
    }
  }

  private static void require(boolean ok, String attribute) {
    if (!ok) {
      throw new HsmException("the token did not keep " + attribute + " of the new domain key");
    }
  }
}
