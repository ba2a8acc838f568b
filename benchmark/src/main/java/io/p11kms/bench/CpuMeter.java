package io.p11kms.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * CPU time of this JVM (the client), of the server process, and of the whole machine, so that a
 * point can say how much CPU each call cost on each side and how busy other processes kept the
 * shared cores. From {@code /proc}; clock ticks are 1/100 s on Linux. With the server's heap
 * allocation counter (its metrics endpoint), also the bytes the server allocated per call.
 */
final class CpuMeter {
  private static final double NANOS_PER_TICK = 1e9 / 100;

  /**
   * Reads the server's allocation counter off the calling thread: a scrape of the metrics endpoint
   * takes milliseconds, which a fixed-rate sender must not wait for.
   */
  private static final ExecutorService SCRAPES =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "bench-alloc-scrape");
            t.setDaemon(true);
            return t;
          });

  /**
   * Nanoseconds of CPU: client, server, machine (all processes, non-idle); the server's by group of
   * threads ({@link ServerThreads#nanos}); the server's heap bytes allocated so far, read as the
   * snapshot is taken (negative: unknown).
   */
  record Snapshot(
      long client,
      long server,
      long machine,
      long wall,
      ServerThreads.Reading serverThreads,
      CompletableFuture<Long> allocated) {}

  /**
   * The CPU each side spent per completed call, in microseconds, and what others used; the server's
   * by group of threads; the heap bytes the server allocated per call (NaN: not measured).
   */
  record Usage(
      double clientMicrosPerCall,
      double serverMicrosPerCall,
      double otherCores,
      ServerThreads.Split serverThreads,
      double serverBytesPerCall) {
    static final Usage NONE =
        new Usage(Double.NaN, Double.NaN, Double.NaN, ServerThreads.Split.NONE, Double.NaN);

    Usage withServerBytesPerCall(double bytesPerCall) {
      return new Usage(
          clientMicrosPerCall, serverMicrosPerCall, otherCores, serverThreads, bytesPerCall);
    }
  }

  private final long serverPid;
  private final LongSupplier serverAllocatedBytes;

  CpuMeter(long serverPid) {
    this(serverPid, () -> -1);
  }

  /**
   * @param serverAllocatedBytes the heap bytes the server allocated so far, negative when unknown
   */
  CpuMeter(long serverPid, LongSupplier serverAllocatedBytes) {
    this.serverPid = serverPid;
    this.serverAllocatedBytes = serverAllocatedBytes;
  }

  Snapshot snapshot() {
    return snapshot(serverAllocated());
  }

  /**
   * A snapshot from {@code /proc} alone, without the server's allocation counter: the counter's
   * scrape costs the server milliseconds of CPU, tens while its metrics endpoint is not yet
   * compiled, which a latency window must not contain. {@link Usage#serverBytesPerCall} is NaN
   * between two of these; {@link Usage#withServerBytesPerCall} sets it from readings taken outside.
   */
  Snapshot cpuSnapshot() {
    return snapshot(CompletableFuture.completedFuture(-1L));
  }

  /** The heap bytes the server allocated so far, read off the calling thread (-1: unknown). */
  CompletableFuture<Long> serverAllocated() {
    return serverPid > 0
        ? CompletableFuture.supplyAsync(serverAllocatedBytes::getAsLong, SCRAPES)
        : CompletableFuture.completedFuture(-1L);
  }

  /** The heap bytes per call between two {@link #serverAllocated} readings (NaN: unknown). */
  static double bytesPerCallBetween(
      CompletableFuture<Long> from, CompletableFuture<Long> to, long calls) {
    return calls == 0 ? Double.NaN : bytesPerCall(from, to, calls);
  }

  private Snapshot snapshot(CompletableFuture<Long> allocated) {
    long client =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    long server = serverPid > 0 ? (long) (processTicks(serverPid) * NANOS_PER_TICK) : 0;
    return new Snapshot(
        client,
        server,
        machineNanos(),
        System.nanoTime(),
        ServerThreads.read(serverPid, server),
        allocated);
  }

  /** Sleeps until {@code from}, snapshots, sleeps until {@code to}, snapshots (System.nanoTime). */
  Snapshot[] window(long from, long to) throws InterruptedException {
    sleepUntil(from);
    Snapshot first = snapshot();
    sleepUntil(to);
    return new Snapshot[] {first, snapshot()};
  }

  /** As {@link #window}, with {@link #cpuSnapshot}s. */
  Snapshot[] cpuWindow(long from, long to) throws InterruptedException {
    sleepUntil(from);
    Snapshot first = cpuSnapshot();
    sleepUntil(to);
    return new Snapshot[] {first, cpuSnapshot()};
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long wait;
    while ((wait = nanoTime - System.nanoTime()) > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }

  /** CPU nanoseconds the server process has used, all its threads. */
  long serverNanos() {
    return serverPid > 0 ? (long) (processTicks(serverPid) * NANOS_PER_TICK) : 0;
  }

  /**
   * CPU nanoseconds the server's JIT compiler threads have used (HotSpot names them {@code C1
   * CompilerThread<n>} and {@code C2 CompilerThread<n>}, cut to 15 characters by Linux); threads
   * that ended no longer count, so compare two readings close together.
   */
  long serverCompilerNanos() {
    return serverThreadNanos(
        name -> name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler"));
  }

  /**
   * CPU nanoseconds the server's {@code main} thread has used: the one the Java launcher starts
   * {@code main} on keeps the process's name ({@code java}), as does the launcher's own first
   * thread, which waits.
   */
  long serverMainThreadNanos() {
    return serverThreadNanos(name -> name.equals("java"));
  }

  private long serverThreadNanos(Predicate<String> named) {
    return ServerThreads.nanos(serverPid, named);
  }

  static Usage between(Snapshot from, Snapshot to, long calls) {
    if (from == null || to == null || calls == 0) {
      return Usage.NONE;
    }
    double client = to.client() - from.client();
    double server = to.server() - from.server();
    double machine = to.machine() - from.machine();
    double wall = to.wall() - from.wall();
    return new Usage(
        client / calls / 1000,
        server / calls / 1000,
        Math.max(0, machine - client - server) / wall,
        ServerThreads.Split.between(from.serverThreads(), to.serverThreads(), calls),
        bytesPerCall(from.allocated(), to.allocated(), calls));
  }

  private static double bytesPerCall(
      CompletableFuture<Long> from, CompletableFuture<Long> to, long calls) {
    long first;
    long last;
    try {
      first = from.join();
      last = to.join();
    } catch (RuntimeException e) {
      return Double.NaN;
    }
    return first < 0 || last < 0 ? Double.NaN : (double) (last - first) / calls;
  }

  /** utime + stime of a process, fields 14 and 15 of /proc/PID/stat. */
  private static long processTicks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** Non-idle CPU of the whole machine from the first line of /proc/stat. */
  private static long machineNanos() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i <= 8 && i < f.length; i++) {
        if (i != 4 && i != 5) { // idle, iowait
          total += Long.parseLong(f[i]);
        }
      }
      return (long) (total * NANOS_PER_TICK);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }
}
