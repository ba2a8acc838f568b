package io.p11kms.bench;

/** What run.sh starts the server with, so that the benchmark measures the same server. */
final class RunScript {
  /** Keep equal to the default of P11KMS_JAVA_OPTS in run.sh. */
  static final String SERVER_HEAP = "-Xmx256m";

  private RunScript() {}
}
