package io.p11kms.hsm.diagnostics;

import io.p11kms.hsm.Derivation;
import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.domain.DomainKeyRole;
import io.p11kms.hsm.keys.KeyTemplates;
import io.p11kms.hsm.keys.Templates;
import io.p11kms.hsm.session.Pkcs11Modules;
import io.p11kms.hsm.session.TokenFinder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.xipki.pkcs11.wrapper.AttributeVector;
import org.xipki.pkcs11.wrapper.PKCS11Constants;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Session;
import org.xipki.pkcs11.wrapper.Token;

/**
 * Inspects a token the way the server will use it, and says what is wrong: the library loads, the
 * token is found by label, it lists every mechanism needed, the user PIN logs in, and every domain
 * key of every role has the attributes and templates custody depends on; what the token does where
 * tokens differ ({@link TokenCapabilities}), custody first.
 *
 * <p>Read-only: it changes nothing on the token; the capability probe makes a few session keys and
 * destroys them at once. It never stops at the first failure, so that an operator sees everything
 * at once; a step that cannot run because an earlier one failed is not reported.
 */
public final class TokenDoctor {
  /** Mechanisms every p11kms token needs, with the derivation checked separately. */
  static final long[] REQUIRED = {
    PKCS11Constants.CKM_AES_KEY_GEN, PKCS11Constants.CKM_AES_KEY_WRAP, PKCS11Constants.CKM_AES_GCM
  };

  private TokenDoctor() {}

  /** Runs every check against the token that {@code config} names. */
  public static TokenReport inspect(HsmConfig config) {
    List<TokenReport.Check> checks = new ArrayList<>();
    List<String> mechanismNames = new ArrayList<>();
    Derivation derivation = null;
    PKCS11Module module;
    try {
      module = Pkcs11Modules.acquire(config);
    } catch (HsmException e) {
      checks.add(fail("PKCS#11 library", e.getMessage()));
      return new TokenReport(config.tokenLabel(), mechanismNames, null, checks);
    }
    try {
      checks.add(ok("PKCS#11 library", config.modulePath().toString()));
      Token token;
      try {
        token = TokenFinder.byLabel(module, config.tokenLabel());
        checks.add(ok("token", "found by label '" + config.tokenLabel() + "'"));
      } catch (HsmException | PKCS11Exception e) {
        checks.add(fail("token", message(e)));
        return new TokenReport(config.tokenLabel(), mechanismNames, null, checks);
      }
      long[] mechanisms = token.getMechanismList();
      TreeMap<String, Long> sorted = new TreeMap<>();
      for (long m : mechanisms) {
        sorted.put(PKCS11Constants.ckmCodeToName(m), m);
      }
      mechanismNames.addAll(sorted.keySet());
      for (long needed : REQUIRED) {
        boolean present = Arrays.stream(mechanisms).anyMatch(m -> m == needed);
        checks.add(
            new TokenReport.Check(
                "mechanism " + PKCS11Constants.ckmCodeToName(needed),
                present,
                present ? "offered" : "missing"));
      }
      boolean sp800Listed =
          Arrays.stream(mechanisms).anyMatch(m -> m == PKCS11Constants.CKM_SP800_108_COUNTER_KDF);
      String sp800Note =
          sp800Listed && !MechanismProbe.WRAPPER_SUPPORTS_SP800_108
              ? "; the token lists CKM_SP800_108_COUNTER_KDF, which this PKCS#11 wrapper cannot"
                  + " drive yet"
              : "";
      try {
        derivation = MechanismProbe.choose(mechanisms);
        checks.add(ok("derivation", derivation.name() + sp800Note));
      } catch (HsmException e) {
        checks.add(fail("derivation", e.getMessage() + sp800Note));
      }
      inspectWithLogin(config, token, checks);
    } finally {
      Pkcs11Modules.release(config.modulePath());
    }
    return new TokenReport(config.tokenLabel(), mechanismNames, derivation, checks);
  }

  private static void inspectWithLogin(
      HsmConfig config, Token token, List<TokenReport.Check> checks) {
    Session session;
    try {
      session = token.openSession(false);
    } catch (PKCS11Exception e) {
      checks.add(fail("session", message(e)));
      return;
    }
    try {
      char[] pin;
      try {
        pin = config.userPin().read();
      } catch (RuntimeException e) {
        checks.add(fail("login", "cannot read the PIN: " + e.getMessage()));
        return;
      }
      try {
        session.login(PKCS11Constants.CKU_USER, pin);
        checks.add(ok("login", "user PIN accepted"));
      } catch (PKCS11Exception e) {
        if (e.getErrorCode() != PKCS11Constants.CKR_USER_ALREADY_LOGGED_IN) {
          checks.add(fail("login", message(e)));
          return;
        }
        checks.add(ok("login", "already logged in by this process"));
      } finally {
        Arrays.fill(pin, '\0');
      }
      TokenCapabilities capabilities = inspectCapabilities(config, token, checks);
      inspectDomainKeys(session, checks, capabilities);
    } finally {
      try {
        session.closeSession();
      } catch (PKCS11Exception e) {
        // Read-only session; nothing to undo.
      }
    }
  }

  /**
   * How AES-GCM is called, and whether the token enforces custody: a token that does not fails the
   * check unless the configuration allows it (the server refuses it the same way).
   */
  private static TokenCapabilities inspectCapabilities(
      HsmConfig config, Token token, List<TokenReport.Check> checks) {
    TokenCapabilities capabilities;
    try {
      capabilities = TokenCapabilities.probe(token);
    } catch (HsmException | PKCS11Exception e) {
      checks.add(fail("AES-GCM", message(e)));
      return null;
    }
    checks.add(
        ok(
            "AES-GCM",
            capabilities.gcmEncryption() == GcmEncryption.MESSAGE
                ? "encrypts with the PKCS#11 3.0 message API (its C_Encrypt is wrong)"
                : "encrypts with C_Encrypt"));
    checks.add(ok("padded key wrap", capabilities.paddedKeyWrap().describe()));
    if (capabilities.custodyEnforced()) {
      checks.add(
          ok(
              "custody",
              "enforced: only the SO sets CKA_TRUSTED, and CKA_WRAP_WITH_TRUSTED keys wrap only"
                  + " under trusted keys"));
    } else {
      String gaps = String.join("; ", capabilities.custodyGaps());
      checks.add(
          config.allowUnenforcedCustody()
              ? ok(
                  "custody",
                  "NOT enforced ("
                      + gaps
                      + "): allowed by configuration, for development and tests only")
              : fail(
                  "custody",
                  "NOT enforced ("
                      + gaps
                      + "): anyone with the user PIN can take key material out; the server"
                      + " refuses this token unless the configuration allows it"));
    }
    return capabilities;
  }

  /**
   * Every domain key of every role: its attributes and its templates, and whether the current
   * generation has one of each role (without the private or HMAC key one the service runs, but
   * makes no key pair or HMAC key).
   */
  private static void inspectDomainKeys(
      Session session, List<TokenReport.Check> checks, TokenCapabilities capabilities) {
    boolean templatesKept = capabilities == null || capabilities.keepsKeyTemplates();
    Map<DomainKeyRole, TreeMap<Integer, Long>> keys = new EnumMap<>(DomainKeyRole.class);
    for (DomainKeyRole role : DomainKeyRole.values()) {
      keys.put(role, new TreeMap<>());
    }
    try {
      for (long object : session.findAllObjectsSingle(KeyTemplates.tokenSecretKeys())) {
        String label = session.getStringAttrValue(object, PKCS11Constants.CKA_LABEL);
        for (DomainKeyRole role : DomainKeyRole.values()) {
          int generation = role.generationOf(label);
          if (generation > 0 && keys.get(role).put(generation, object) != null) {
            checks.add(fail(role.label(generation), "more than one object"));
          }
        }
      }
    } catch (PKCS11Exception e) {
      checks.add(fail("domain keys", message(e)));
      return;
    }
    TreeMap<Integer, Long> backing = keys.get(DomainKeyRole.SYMMETRIC);
    if (backing.isEmpty()) {
      checks.add(fail("domain keys", "no domain-key/<n> on the token: run init-domain-key"));
      return;
    }
    int current = backing.lastKey();
    checks.add(ok("domain keys", "current generation " + current));
    for (DomainKeyRole role : DomainKeyRole.values()) {
      if (role != DomainKeyRole.SYMMETRIC && !keys.get(role).containsKey(current)) {
        checks.add(
            fail(
                role.label(current),
                "missing: no "
                    + (role == DomainKeyRole.HMAC ? "HMAC key" : "key pair")
                    + " can be made; the SO runs init-domain-key --generation "
                    + current));
      }
      for (var entry : keys.get(role).entrySet()) {
        inspectDomainKey(
            session,
            role,
            entry.getKey(),
            entry.getValue(),
            entry.getKey() == current,
            templatesKept,
            checks);
      }
    }
  }

  private static void inspectDomainKey(
      Session session,
      DomainKeyRole role,
      int generation,
      long handle,
      boolean current,
      boolean templatesKept,
      List<TokenReport.Check> checks) {
    String label = role.label(generation);
    try {
      AttributeVector a =
          session.getAttrValues(
              handle,
              PKCS11Constants.CKA_TRUSTED,
              PKCS11Constants.CKA_SENSITIVE,
              PKCS11Constants.CKA_EXTRACTABLE,
              PKCS11Constants.CKA_WRAP_WITH_TRUSTED,
              PKCS11Constants.CKA_WRAP,
              PKCS11Constants.CKA_UNWRAP,
              PKCS11Constants.CKA_ENCRYPT,
              PKCS11Constants.CKA_DECRYPT,
              PKCS11Constants.CKA_SIGN,
              PKCS11Constants.CKA_DERIVE,
              PKCS11Constants.CKA_MODIFIABLE,
              PKCS11Constants.CKA_WRAP_TEMPLATE,
              PKCS11Constants.CKA_UNWRAP_TEMPLATE);
      List<String> wrong = new ArrayList<>();
      expect(wrong, "CKA_TRUSTED", a.trusted(), true);
      expect(wrong, "CKA_SENSITIVE", a.sensitive(), true);
      // EXTRACTABLE only together with WRAP_WITH_TRUSTED (domain join); a key made before domain
      // join existed is not extractable: still good for the service, but no join source.
      boolean extractable = Boolean.TRUE.equals(a.extractable());
      if (extractable) {
        expect(wrong, "CKA_WRAP_WITH_TRUSTED", a.wrapWithTrusted(), true);
      }
      expect(wrong, "CKA_WRAP", a.wrap(), true);
      expect(wrong, "CKA_UNWRAP", a.unwrap(), true);
      expect(wrong, "CKA_ENCRYPT", a.encrypt(), false);
      expect(wrong, "CKA_DECRYPT", a.decrypt(), false);
      expect(wrong, "CKA_SIGN", a.sign(), false);
      expect(wrong, "CKA_DERIVE", a.derive(), false);
      expect(wrong, "CKA_MODIFIABLE", a.modifiable(), false);
      String templates =
          templatesKept
              ? templates(role, generation, a, current, wrong)
              : "the token keeps no CKA_WRAP_TEMPLATE or CKA_UNWRAP_TEMPLATE";
      String detail =
          extractable
              ? "attributes as required"
              : "attributes as required; not extractable, so this token cannot be the"
                  + " source of a domain join";
      checks.add(
          wrong.isEmpty()
              ? ok(label, templates.isEmpty() ? detail : detail + "; " + templates)
              : fail(label, "wrong attributes: " + String.join(", ", wrong)));
    } catch (PKCS11Exception e) {
      checks.add(fail(label, message(e)));
    }
  }

  /**
   * Compares the key's WRAP_TEMPLATE and UNWRAP_TEMPLATE with the ceremony's for its role. The
   * templates of the ceremony before (backing keys that derive) are accepted for an older
   * generation, with a note, and refused for the current one: new keys would be made under them.
   */
  private static String templates(
      DomainKeyRole role,
      int generation,
      AttributeVector actual,
      boolean current,
      List<String> wrong) {
    if (Templates.same(KeyTemplates.domainKey(role, generation), actual)) {
      return "";
    }
    if (role != DomainKeyRole.HMAC
        && Templates.same(KeyTemplates.previousDomainKey(role, generation), actual)) {
      String note =
          role == DomainKeyRole.SYMMETRIC
              ? "templates of an older ceremony: its backing keys derive, so whoever holds the"
                  + " user PIN and its EKTs can read per-request keys"
              : "templates of an older ceremony: they do not pin the class of what it wraps";
      if (current) {
        wrong.add(note + "; rotate the domain key (rotate-domain-key)");
      }
      return note;
    }
    wrong.add("CKA_WRAP_TEMPLATE or CKA_UNWRAP_TEMPLATE differ from the ceremony's");
    return "";
  }

  private static void expect(List<String> wrong, String name, Boolean actual, boolean wanted) {
    if (actual == null || actual != wanted) {
      wrong.add(name + "=" + actual + " (want " + wanted + ")");
    }
  }

  private static String message(Exception e) {
    if (e instanceof PKCS11Exception p) {
      return PKCS11Constants.ckrCodeToName(p.getErrorCode());
    }
    return e.getMessage();
  }

  private static TokenReport.Check ok(String name, String detail) {
    return new TokenReport.Check(name, true, detail);
  }

  private static TokenReport.Check fail(String name, String detail) {
    return new TokenReport.Check(name, false, detail);
  }
}
