package io.p11kms.bench;

import java.util.List;

/** What run.sh starts the server with, so that the benchmark measures the same server. */
final class RunScript {
  /** Keep equal to the default of P11KMS_JAVA_OPTS in run.sh. */
  static final List<String> SERVER_JVM_OPTIONS = List.of("-Xms128m", "-Xmn64m", "-Xmx256m");

  private RunScript() {}
}
