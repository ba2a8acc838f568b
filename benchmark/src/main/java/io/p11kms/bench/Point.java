package io.p11kms.bench;

/**
 * One measured point.
 *
 * @param phase {@code direct}, {@code service}, {@code half-peak} or {@code keys}
 * @param operation what was called
 * @param concurrency threads (direct) or calls in flight (service); 0 for a fixed-rate run
 * @param keys how many keys exist; requests pick one at random
 * @param opsPerSecond completed calls per second in the measured window
 * @param calls completed calls in the measured window
 * @param errors calls that failed during the whole point, warm-up included
 * @param clientCpuMicrosPerCall CPU this JVM spent per completed call in the measured window
 * @param serverCpuMicrosPerCall CPU the server process spent per completed call (NaN: none)
 * @param otherCores cores other processes of the machine kept busy on average in the window
 * @param serverThreads the server's CPU per call by group of threads ({@link ServerThreads})
 * @param serverBytesPerCall heap bytes the server allocated per completed call (NaN: none)
 */
record Point(
    String phase,
    String operation,
    int concurrency,
    int keys,
    double opsPerSecond,
    double p50Millis,
    double p99Millis,
    double p999Millis,
    long calls,
    long errors,
    double clientCpuMicrosPerCall,
    double serverCpuMicrosPerCall,
    double otherCores,
    ServerThreads.Split serverThreads,
    double serverBytesPerCall) {

  static Point of(
      String phase,
      String operation,
      int concurrency,
      int keys,
      long calls,
      double seconds,
      Latencies.Sorted latencies,
      long errors,
      CpuMeter.Usage cpu) {
    return new Point(
        phase,
        operation,
        concurrency,
        keys,
        calls / seconds,
        latencies.millis(0.50),
        latencies.millis(0.99),
        latencies.millis(0.999),
        calls,
        errors,
        cpu.clientMicrosPerCall(),
        cpu.serverMicrosPerCall(),
        cpu.otherCores(),
        cpu.serverThreads(),
        cpu.serverBytesPerCall());
  }
}
