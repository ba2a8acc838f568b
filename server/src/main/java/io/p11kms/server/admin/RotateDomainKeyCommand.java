package io.p11kms.server.admin;

import io.p11kms.hsm.PinSource;
import io.p11kms.hsm.Pkcs11Hsm;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.service.DomainKeyRewrap;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code p11kms rotate-domain-key}: the operator's domain-key rotation, while the server keeps
 * serving. Step 1, as the security officer: creates domain key generation N+1 on the token (only
 * the SO can set CKA_TRUSTED). Step 2, as the user, like the server: re-wraps every EKT to the new
 * generation in batches, then records the old generations as retired.
 *
 * <p>Why a command of its own and not a server call: on SoftHSM2 an SO login and a user login
 * cannot coexist in one process (CKR_USER_ANOTHER_ALREADY_LOGGED_IN), and the SO PIN should not
 * live in the server. The server picks the new generation up for new keys at its next re-wrap pass
 * (or at once, if this command's re-wrap finished) and completes any re-wrap left unfinished.
 */
@Command(
    name = "rotate-domain-key",
    description =
        "As the token's SO, create domain key generation N+1; then re-wrap every EKT under it.")
public final class RotateDomainKeyCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, description = "The server's properties file.")
  Path config;

  @Option(names = "--so-pin-file", description = "File holding the SO PIN (step 1).")
  Path soPinFile;

  @Option(
      names = "--rewrap-only",
      description = "Skip step 1: re-wrap to the newest generation already on the token.")
  boolean rewrapOnly;

  @Option(
      names = "--create-only",
      description = "Only step 1; the server re-wraps (what the server's own schedule runs).")
  boolean createOnly;

  @Option(names = "--batch-size", defaultValue = "100")
  int batchSize;

  @Override
  public Integer call() {
    ServerConfig serverConfig = ServerConfig.load(config);
    if (!rewrapOnly) {
      if (soPinFile == null) {
        System.err.println(
            "p11kms rotate-domain-key: --so-pin-file is required (or --rewrap-only)");
        return 2;
      }
      char[] soPin = PinSource.fromFile(soPinFile).read();
      try {
        int generation =
            DomainKeyCeremony.createNextDomainKey(
                serverConfig.hsm().hsmConfig().modulePath(),
                serverConfig.hsm().hsmConfig().tokenLabel(),
                soPin);
        System.out.println("created domain-key/" + generation);
      } finally {
        Arrays.fill(soPin, '\0');
      }
    }
    if (createOnly) {
      return 0;
    }
    try (Pkcs11Hsm hsm = Pkcs11Hsm.open(serverConfig.hsm().hsmConfig());
        KeyStore store = KeyStores.open(serverConfig.store().settings())) {
      DomainKeyRewrap.Result result =
          new DomainKeyRewrap(hsm, store, Clock.systemUTC(), batchSize, n -> {}).run();
      System.out.println(
          "re-wrapped "
              + result.rewrapped()
              + " EKTs to domain-key/"
              + result.targetGeneration()
              + " in "
              + result.batches()
              + " batches; retired generations "
              + result.retiredGenerations());
    }
    return 0;
  }
}
