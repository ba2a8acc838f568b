package io.p11kms.hsm.diagnostics;

import io.p11kms.hsm.Derivation;
import java.util.List;

/**
 * What {@link TokenDoctor} found on a token: a list of checks, each passed or failed with a short
 * detail, plus the facts worth showing (mechanisms, derivation). Holds no PIN and no key material.
 *
 * @param tokenLabel the label looked for
 * @param mechanismsFound names of every mechanism the token lists, empty if it was not reached
 * @param derivation the derivation new encryptions would use, or null when none can run
 * @param checks every check, in the order made
 */
public record TokenReport(
    String tokenLabel, List<String> mechanismsFound, Derivation derivation, List<Check> checks) {

  public TokenReport {
    mechanismsFound = List.copyOf(mechanismsFound);
    checks = List.copyOf(checks);
  }

  /** One check: what was checked, whether it passed, and a detail safe to print. */
  public record Check(String name, boolean ok, String detail) {}

  /** Whether every check passed. */
  public boolean ok() {
    return checks.stream().allMatch(Check::ok);
  }
}
