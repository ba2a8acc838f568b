package io.p11kms.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
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

  /** A thread of the server as one reading saw it: its name and the CPU it had used. */
  record Thread(String name, long nanos) {}

  /**
   * One reading of the server: each live thread by its id, and the process's total CPU (which
   * counts the threads that ended too).
   */
  record Reading(Map<Long, Thread> threads, long processNanos) {
    static final Reading NONE = new Reading(Map.of(), 0);

    /**
     * Nanoseconds of CPU by {@link Group} (indexed by ordinal) of the live threads; {@link
     * Group#OTHER} holds the process's total less the named groups.
     */
    long[] groups() {
      long[] nanos = new long[Group.values().length];
      threads.values().forEach(t -> nanos[Group.of(t.name()).ordinal()] += t.nanos());
      return withOther(nanos, processNanos);
    }
  }

  /**
   * Sets {@link Group#OTHER} of {@code nanos} (by group) to {@code processNanos} less the named
   * groups (never below zero), and returns {@code nanos}.
   */
  private static long[] withOther(long[] nanos, long processNanos) {
    nanos[Group.OTHER.ordinal()] = 0;
    long named = 0;
    for (long n : nanos) {
      named += n;
    }
    nanos[Group.OTHER.ordinal()] = Math.max(0, processNanos - named);
    return nanos;
  }

  /**
   * Each live thread of the process {@code pid} with the CPU it used, and {@code processNanos}, the
   * process's total read just before; {@link Reading#NONE} when there is no process.
   */
  static Reading read(long pid, long processNanos) {
    if (pid <= 0) {
      return Reading.NONE;
    }
    Map<Long, Thread> threads = new HashMap<>();
    forEachThread(pid, (id, thread) -> threads.put(id, thread));
    return new Reading(threads, processNanos);
  }

  /** Nanoseconds of CPU the threads of {@code pid} whose name {@code named} accepts have used. */
  static long nanos(long pid, Predicate<String> named) {
    long[] sum = new long[1];
    forEachThread(
        pid,
        (id, thread) -> {
          if (named.test(thread.name())) {
            sum[0] += thread.nanos();
          }
        });
    return sum[0];
  }

  /** What {@link #forEachThread} hands each thread to. */
  private interface ThreadVisitor {
    void visit(long id, Thread thread);
  }

  /**
   * Each live thread of {@code pid}: its id, its name and the CPU nanoseconds it used; a thread
   * that ends between the listing and its read is left out.
   */
  private static void forEachThread(long pid, ThreadVisitor visitor) {
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
        long id = Long.parseLong(task.getFileName().toString());
        visitor.visit(id, new Thread(name, (long) (ticks * NANOS_PER_TICK)));
      }
    } catch (IOException | RuntimeException e) {
      // The process ended: what was read so far.
    }
  }

  /**
   * Microseconds of server CPU per call by group, between two {@link Reading}s; empty when there
   * was no server or no call.
   */
  record Split(double[] microsPerCall) {
    static final Split NONE = new Split(new double[0]);

    /**
     * Each thread's CPU between the readings goes to its group: what it used since {@code from}
     * when {@code from} saw it (the same id and name), all it used when it started since. A thread
     * that ended between the readings is in neither; its CPU since {@code from} is in the process's
     * total and so in {@link Group#OTHER}, the process's CPU less the named groups'. So no group
     * goes below zero when a thread it had ends (a pool's idle thread, say).
     */
    static Split between(Reading from, Reading to, long calls) {
      if (from == null || to == null || to.threads().isEmpty() || calls == 0) {
        return NONE;
      }
      long[] nanos = new long[Group.values().length];
      to.threads()
          .forEach(
              (id, now) -> {
                Thread before = from.threads().get(id);
                long since =
                    before != null && before.name().equals(now.name())
                        ? now.nanos() - before.nanos()
                        : now.nanos();
                nanos[Group.of(now.name()).ordinal()] += since;
              });
      withOther(nanos, to.processNanos() - from.processNanos());
      double[] micros = new double[nanos.length];
      for (int i = 0; i < micros.length; i++) {
        micros[i] = nanos[i] / 1000.0 / calls;
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
