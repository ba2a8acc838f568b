package io.p11kms.server.admin;

import io.p11kms.hsm.diagnostics.TokenDoctor;
import io.p11kms.hsm.diagnostics.TokenReport;
import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.ServerConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code p11kms doctor}: checks the configured token the way the server will use it and prints one
 * line per check. Exit code 0 when every check passed, 1 when one failed, 2 when the configuration
 * cannot be read. Prints no PIN and no key material.
 */
@Command(
    name = "doctor",
    description =
        "Check the configured token: mechanisms, derivation, login, domain key attributes.")
public final class DoctorCommand implements Callable<Integer> {
  /** Exit code when a check failed. */
  public static final int EXIT_PROBLEM = 1;

  /** Exit code when the configuration cannot be used. */
  public static final int EXIT_CONFIG = 2;

  @Option(names = "--config", required = true, description = "The server's properties file.")
  Path config;

  @Option(names = "--verbose", description = "Also list every mechanism the token offers.")
  boolean verbose;

  @Override
  public Integer call() {
    ServerConfig serverConfig;
    try {
      serverConfig = ServerConfig.load(config);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println("p11kms doctor: " + e.getMessage());
      return EXIT_CONFIG;
    }
    TokenReport report = TokenDoctor.inspect(serverConfig.hsm().hsmConfig());
    print(report, verbose, System.out);
    return report.ok() ? 0 : EXIT_PROBLEM;
  }

  /** Writes the report: one line per check, then a summary line. */
  public static void print(TokenReport report, boolean verbose, PrintStream out) {
    out.println("token '" + report.tokenLabel() + "'");
    for (TokenReport.Check check : report.checks()) {
      out.printf("  %-4s %s: %s%n", check.ok() ? "OK" : "FAIL", check.name(), check.detail());
    }
    out.println("  mechanisms offered: " + report.mechanismsFound().size());
    if (verbose) {
      for (String name : report.mechanismsFound()) {
        out.println("    " + name);
      }
    }
    long failed = report.checks().stream().filter(c -> !c.ok()).count();
    out.println(failed == 0 ? "result: OK" : "result: " + failed + " problem(s)");
  }
}
