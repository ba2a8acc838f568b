package io.p11kms.server;

import io.p11kms.hsm.PinSource;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import io.p11kms.server.admin.AccessKeyCommands;
import io.p11kms.server.admin.AccountCommands;
import io.p11kms.server.admin.DoctorCommand;
import io.p11kms.server.admin.DomainJoinCommand;
import io.p11kms.server.admin.RegionCommand;
import io.p11kms.server.admin.RotateDomainKeyCommand;
import io.p11kms.server.admin.ServiceCommands;
import io.p11kms.server.admin.StoreCommands;
import io.p11kms.server.admin.VerifyAuditCommand;
import io.p11kms.server.admin.XksCommands;
import io.p11kms.server.cli.KmsCli;
import io.p11kms.server.config.ServerConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code p11kms} command: serve, and the token ceremony. PINs never come from arguments. */
@Command(
    name = "p11kms",
    mixinStandardHelpOptions = true,
    subcommands = {
      Main.Serve.class,
      Main.InitDomainKey.class,
      RotateDomainKeyCommand.class,
      DomainJoinCommand.class,
      RegionCommand.class,
      DoctorCommand.class,
      VerifyAuditCommand.class,
      StoreCommands.Export.class,
      StoreCommands.Import.class,
      AccountCommands.class,
      ServiceCommands.class,
      XksCommands.class,
      AccessKeyCommands.class,
      KmsCli.class,
    },
    description = Main.DESCRIPTION)
public final class Main {
  private static final Logger log = LoggerFactory.getLogger(Main.class);

  static final String DESCRIPTION = "A key management service whose keys live in a PKCS#11 token.";

  public static void main(String[] args) {
    NettyLeakDetection.offUnlessSet();
    System.exit(commandLine(args).execute(args));
  }

  /** The whole command tree, as {@link #main} runs it: a failed command prints one line, exit 1. */
  static CommandLine commandLine() {
    return new CommandLine(new Main()).setExecutionExceptionHandler(Main::oneLine);
  }

  /**
   * The command line {@link #main} runs {@code args} on: for {@code serve}, a {@code p11kms}
   * command with {@code serve} alone under it, which parses and runs {@code serve} as the whole
   * tree does; the models of the other commands (the {@code kms} client's, one subcommand per RPC,
   * above all) took a third of the server's start to SERVING. Anything else gets the whole tree.
   */
  static CommandLine commandLine(String... args) {
    if (args.length > 0 && args[0].equals("serve")) {
      return new CommandLine(new ServeAlone()).setExecutionExceptionHandler(Main::oneLine);
    }
    return commandLine();
  }

  /** {@code p11kms} with only {@code serve} under it: what {@link #main} builds to serve. */
  @Command(
      name = "p11kms",
      mixinStandardHelpOptions = true,
      subcommands = Main.Serve.class,
      description = DESCRIPTION)
  static final class ServeAlone {}

  /**
   * Prints what failed in one line instead of picocli's stack trace: operators read it, scripts
   * grep it, and a trace would show internals. Messages here never carry a PIN or key byte; the
   * trace goes to the log at DEBUG for whoever needs it.
   */
  private static int oneLine(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
    log.debug("{} failed", command.getCommandName(), e);
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    command.getErr().println("p11kms " + command.getCommandName() + ": " + message);
    return 1;
  }

  @Command(name = "serve", description = "Run the server: gRPC and the AWS KMS JSON API.")
  static final class Serve implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "The properties file.")
    Path config;

    @Option(
        names = "--dev",
        description =
            "Development mode (as dev.mode=true): without TLS files, a plaintext listener on"
                + " loopback where every caller is an administrator of every key.")
    boolean dev;

    @Override
    public Integer call() throws InterruptedException {
      RunningServer running = RunningServer.start(config, dev, System.out);
      Runtime.getRuntime().addShutdownHook(new Thread(running::stop, "p11kms-shutdown"));
      running.blockUntilShutdown();
      return 0;
    }
  }

  @Command(
      name = "init-domain-key",
      description =
          "As the token's security officer, create domain key generation N (the ceremony):"
              + " domain-key/N, domain-key-asym/N and domain-key-hmac/N, each unless present."
              + " With --config instead, on a token that does not enforce custody (NSS softoken)"
              + " and whose configuration allows that: the same keys, made by the user.")
  static final class InitDomainKey implements Callable<Integer> {
    @Option(names = "--module", description = "The PKCS#11 library.")
    Path module;

    @Option(names = "--token-label")
    String tokenLabel;

    @Option(names = "--so-pin-file", description = "File holding the SO PIN.")
    Path soPinFile;

    @Option(
        names = "--config",
        description =
            "The server's properties file, for a token without a security officer: the keys are"
                + " made with the user PIN; refused unless hsm.custody.unenforced.allowed=true and"
                + " the token does not enforce custody.")
    Path config;

    @Option(names = "--generation", defaultValue = "1")
    int generation;

    @Override
    public Integer call() {
      java.util.List<String> created;
      String label;
      if (config != null) {
        if (module != null || tokenLabel != null || soPinFile != null) {
          throw new CommandLine.ParameterException(
              new CommandLine(this), "--config takes no --module, --token-label or --so-pin-file");
        }
        io.p11kms.hsm.HsmConfig hsm = ServerConfig.load(config).hsm().hsmConfig();
        created = UserDomainKeyCeremony.run(hsm, generation);
        label = hsm.tokenLabel();
      } else {
        if (module == null || tokenLabel == null || soPinFile == null) {
          throw new CommandLine.ParameterException(
              new CommandLine(this),
              "--module, --token-label and --so-pin-file are required (or --config)");
        }
        char[] soPin = PinSource.fromFile(soPinFile).read();
        try {
          // Each role's domain key unless present: run again on an older token, it adds those
          // missing.
          created = DomainKeyCeremony.createDomainKey(module, tokenLabel, soPin, generation);
        } finally {
          Arrays.fill(soPin, '\0');
        }
        label = tokenLabel;
      }
      for (String made : created) {
        System.out.println("created " + made + " on token " + label);
      }
      return 0;
    }
  }
}
