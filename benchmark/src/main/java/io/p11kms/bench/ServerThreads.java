package io.p11kms.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.StringJoiner;
import java.util.function.ObjLongConsumer;
import java.util.function.Predicate;

/**
 * The server's CPU by group of threads, read from {@code /proc/PID/task/TID/stat} (utime + stime)
 * and grouped by the thread's name as Linux keeps it (the first 15 characters): to tell where a
 * call's CPU goes beside the token's own work, e.g. what a backing key cache miss costs the event
 * loop, the handlers, the token's workers, the thread that recycles the library, the collectors and
 * the JIT compilers.
 */
final class ServerThreads {
  private static final double NANOS_PER_TICK = 1e9 / 100;

  /** A group of the server's threads, by name. */
  enum Group {
    /**
     * Netty's event loops: gRPC's ({@code grpc-default-worker-ELG-*}, {@code grpc-nio-*}, the boss)
     * and the HTTP front ends' ({@code p11kms-aws-loop-*}, {@code p11kms-xks-loop-*}).
     */
    EVENT_LOOP("event loop"),
    /**
     * The call handlers: gRPC's ({@code p11kms-handler-N}) and the HTTP front ends' ({@code
     * p11kms-aws-handler-*}, {@code p11kms-xks-handler-*}).
     */
    HANDLERS("handlers"),
    /**
     * The token's workers ({@code p11kms-token-N}): every token call of a request, and the refill
     * of the backing key cache after a library recycle, which runs its batches as requests do.
     */
    TOKEN_WORKERS("token workers"),
    /**
     * The health probe's thread ({@code p11kms-health}): the library recycle, the warm-up of the
     * standby instance, the finalize of the instance left.
     */
    RECYCLE("health/recycle"),
    /**
     * The collector's threads ({@code GC Thread#<n>} under the parallel collector and G1, and G1's
     * own) and the VM thread (which runs the collections' safepoint operations).
     */
    GC("GC"),
    /** The JIT compilers ({@code C1 CompilerThread<n>}, {@code C2 CompilerThread<n>}). */
    JIT("JIT"),
    /**
     * The rest: the other threads, and the threads that ended between two readings (from the
     * process's total).
     */
    OTHER("other");

    final String label;

    Group(String label) {
      this.label = label;
    }

    /** The group of a thread named {@code name} (as /proc has it). */
    static Group of(String name) {
      if (name.startsWith("grpc-default-")
          || name.startsWith("grpc-nio-")
          || name.startsWith("grpc-epoll-")
          || name.startsWith("p11kms-aws-loop")
          || name.startsWith("p11kms-xks-loop")) {
        return EVENT_LOOP;
      }
      if (name.startsWith("p11kms-handler")
          || name.startsWith("p11kms-aws-hand")
          || name.startsWith("p11kms-xks-hand")) {
        return HANDLERS;
      }
      if (name.startsWith("p11kms-token")) {
        return TOKEN_WORKERS;
      }
      if (name.startsWith("p11kms-health")) {
        return RECYCLE;
      }
      if (name.startsWith("GC Thread") || name.startsWith("G1 ") || name.equals("VM Thread")) {
        return GC;
      }
      if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
        return JIT;
      }
      return OTHER;
    }
  }

  /**
   * Nanoseconds of CPU by {@link Group} (indexed by ordinal) of the process {@code pid}; {@link
   * Group#OTHER} holds {@code processNanos} (the process's total) less the named groups. Zeros when
   * there is no process.
   */
  static long[] nanos(long pid, long processNanos) {
    long[] nanos = new long[Group.values().length];
    forEachThread(pid, (name, n) -> nanos[Group.of(name).ordinal()] += n);
    nanos[Group.OTHER.ordinal()] = 0;
    long named = 0;
    for (long n : nanos) {
      named += n;
    }
    nanos[Group.OTHER.ordinal()] = Math.max(0, processNanos - named);
    return nanos;
  }

  /** Nanoseconds of CPU the threads of {@code pid} whose name {@code named} accepts have used. */
  static long nanos(long pid, Predicate<String> named) {
    long[] sum = new long[1];
    forEachThread(
        pid,
        (name, n) -> {
          if (named.test(name)) {
            sum[0] += n;
          }
        });
    return sum[0];
  }

  /**
   * Each live thread of {@code pid}: its name and the CPU nanoseconds it used; a thread that ends
   * between the listing and its read is left out.
   */
  private static void forEachThread(long pid, ObjLongConsumer<String> thread) {
    if (pid <= 0) {
      return;
    }
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException e) {
          continue;
        }
        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        thread.accept(name, (long) (ticks * NANOS_PER_TICK));
      }
    } catch (IOException | RuntimeException e) {
      // The process ended: what was read so far.
    }
  }

  /**
   * Microseconds of server CPU per call by group, between two readings of {@link #nanos}; empty
   * when there was no server or no call.
   */
  record Split(double[] microsPerCall) {
    static final Split NONE = new Split(new double[0]);

    static Split between(long[] from, long[] to, long calls) {
      if (from == null || to == null || from.length == 0 || calls == 0) {
        return NONE;
      }
      double[] micros = new double[from.length];
      for (int i = 0; i < micros.length; i++) {
        micros[i] = (to[i] - from[i]) / 1000.0 / calls;
      }
      return new Split(micros);
    }

    boolean isEmpty() {
      return microsPerCall.length == 0;
    }

    double of(Group g) {
      return isEmpty() ? Double.NaN : microsPerCall[g.ordinal()];
    }

    /** "event loop 41, handlers 37, ..." in microseconds per call. */
    @Override
    public String toString() {
      if (isEmpty()) {
        return "none";
      }
      StringJoiner out = new StringJoiner(", ");
      for (Group g : Group.values()) {
        out.add(String.format(Locale.ROOT, "%s %.0f", g.label, of(g)));
      }
      return out.toString();
    }
  }
}
