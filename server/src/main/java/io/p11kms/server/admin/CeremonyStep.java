package io.p11kms.server.admin;

import io.p11kms.hsm.HsmException;
import io.p11kms.hsm.PinSource;
import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.ServerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * One step of a token ceremony ({@code domain-join}, {@code region}) on the token a server's
 * configuration names (or a module and a label): a failure is printed as one line naming the
 * command, never a stack trace.
 *
 * <p>Exit codes: 0 done, 1 the step failed (the message says why), 2 bad options or files.
 */
abstract class CeremonyStep implements Callable<Integer> {
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  @Spec CommandSpec spec;

  @Option(names = "--config", description = "The server's properties file (module, label).")
  Path config;

  @Option(names = "--module", description = "The PKCS#11 library (instead of --config).")
  Path module;

  @Option(names = "--token-label", description = "The token's label (instead of --config).")
  String tokenLabel;

  /** The SO PIN: a file or an environment variable, exactly one. */
  static final class SoPin {
    @Option(names = "--so-pin-file", description = "File holding the SO PIN.")
    Path file;

    @Option(names = "--so-pin-env", description = "Environment variable holding the SO PIN.")
    String variable;

    char[] read() {
      if ((file == null) == (variable == null)) {
        throw new IllegalArgumentException("give exactly one of --so-pin-file and --so-pin-env");
      }
      return (file != null ? PinSource.fromFile(file) : PinSource.fromEnvironment(variable)).read();
    }
  }

  abstract int run(Path module, String tokenLabel) throws Exception;

  @Override
  public Integer call() {
    try {
      if (config != null && (module != null || tokenLabel != null)) {
        throw new IllegalArgumentException("give --config, or --module and --token-label");
      }
      if (config != null) {
        ServerConfig server = ServerConfig.load(config);
        return run(server.hsm().hsmConfig().modulePath(), server.hsm().hsmConfig().tokenLabel());
      }
      if (module == null || tokenLabel == null) {
        throw new IllegalArgumentException("give --config, or --module and --token-label");
      }
      return run(module, tokenLabel);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println(spec.qualifiedName() + ": " + e.getMessage());
      return EXIT_USAGE;
    } catch (HsmException e) {
      System.err.println(spec.qualifiedName() + " failed: " + e.getMessage());
      return EXIT_FAILED;
    } catch (Exception e) {
      System.err.println(spec.qualifiedName() + " failed: " + e.getClass().getSimpleName());
      return EXIT_FAILED;
    }
  }

  static void refuseExisting(Path out) {
    if (Files.exists(out)) {
      throw new IllegalArgumentException(out + " exists; choose another file");
    }
  }
}
