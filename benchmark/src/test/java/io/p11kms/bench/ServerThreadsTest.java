package io.p11kms.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.p11kms.bench.ServerThreads.Group;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServerThreadsTest {
  @Test
  void groupsTheServersThreadsByTheirNamesAsLinuxCutsThem() {
    assertEquals(Group.EVENT_LOOP, Group.of("grpc-default-wo"));
    assertEquals(Group.EVENT_LOOP, Group.of("grpc-nio-worker"));
    assertEquals(Group.HANDLERS, Group.of("p11kms-handler-"));
    // The HTTP front ends' threads, as /proc cuts their names (15 characters).
    assertEquals(Group.EVENT_LOOP, Group.of("p11kms-aws-loop"));
    assertEquals(Group.EVENT_LOOP, Group.of("p11kms-xks-loop"));
    assertEquals(Group.HANDLERS, Group.of("p11kms-aws-hand"));
    assertEquals(Group.HANDLERS, Group.of("p11kms-xks-hand"));
    assertEquals(Group.TOKEN_WORKERS, Group.of("p11kms-token-12"));
    assertEquals(Group.RECYCLE, Group.of("p11kms-health"));
    assertEquals(Group.GC, Group.of("GC Thread#1"));
    assertEquals(Group.GC, Group.of("G1 Refine#0"));
    assertEquals(Group.GC, Group.of("VM Thread"));
    assertEquals(Group.JIT, Group.of("C2 CompilerThre"));
    assertEquals(Group.JIT, Group.of("C1 CompilerThre"));
    assertEquals(Group.OTHER, Group.of("p11kms-audit-an"));
    assertEquals(Group.OTHER, Group.of("java"));
  }

  @Test
  void theGroupsAddUpToTheProcessAndTheCompilersShow() {
    // This JVM as the "server": its compilers have worked by now (JUnit, and the loop below).
    CpuMeter meter = new CpuMeter(ProcessHandle.current().pid());
    Map<Integer, Integer> work = new HashMap<>();
    for (int i = 0; i < 2_000_000; i++) {
      work.merge(i % 1000, i, Integer::sum);
    }
    CpuMeter.Snapshot snapshot = meter.snapshot();
    long[] groups = snapshot.serverThreads().groups();
    long sum = 0;
    for (long n : groups) {
      assertTrue(n >= 0, "no group below zero");
      sum += n;
    }
    assertTrue(groups[Group.JIT.ordinal()] > 0, "the compiler threads' CPU");
    // OTHER is the remainder; the threads read after the process's total may add a few ticks.
    assertTrue(
        Math.abs(sum - snapshot.server()) <= 50_000_000L, sum + " ns against " + snapshot.server());
    assertEquals(1000, work.size());
  }

  @Test
  void splitsPerCallBetweenTwoReadings() {
    ServerThreads.Reading from =
        reading(1_000_000, Map.of(1L, thread("p11kms-handler-", 1_000_000)));
    ServerThreads.Reading to =
        reading(
            10_500_000,
            Map.of(
                1L, thread("p11kms-handler-", 3_000_000),
                2L, thread("grpc-default-wo", 2_000_000),
                3L, thread("p11kms-token-1", 4_000_000),
                4L, thread("GC Thread#0", 1_000_000)));
    ServerThreads.Split split = ServerThreads.Split.between(from, to, 100);
    assertEquals(20, split.of(Group.EVENT_LOOP), 1e-9);
    assertEquals(20, split.of(Group.HANDLERS), 1e-9);
    assertEquals(40, split.of(Group.TOKEN_WORKERS), 1e-9);
    assertEquals(10, split.of(Group.GC), 1e-9);
    assertEquals(5, split.of(Group.OTHER), 1e-9);
    assertTrue(ServerThreads.Split.between(from, to, 0).isEmpty());
    assertEquals(
        "event loop 20, handlers 20, token workers 40, health/recycle 0, GC 10, JIT 0, other 5",
        split.toString());
  }

  /**
   * A handler that had used 9 ms before the window, worked 1 ms more in it and ended: its group
   * does not lose the 9 ms (summing each reading's live threads made handlers -7 ms here, as a full
   * run printed "handlers -88" once); its 1 ms, in the process's total, goes to other.
   */
  @Test
  void aThreadThatEndsBetweenTheReadings_takesNothingFromItsGroup() {
    ServerThreads.Reading from =
        reading(
            10_000_000,
            Map.of(
                1L, thread("p11kms-handler-", 9_000_000),
                2L, thread("p11kms-handler-", 1_000_000)));
    ServerThreads.Reading to =
        reading(13_000_000, Map.of(2L, thread("p11kms-handler-", 3_000_000)));
    ServerThreads.Split split = ServerThreads.Split.between(from, to, 1);
    assertEquals(2_000, split.of(Group.HANDLERS), 1e-9);
    assertEquals(1_000, split.of(Group.OTHER), 1e-9);
  }

  /** A thread id Linux gave to a new thread of another name counts from zero. */
  @Test
  void aThreadIdReusedByAnotherThread_countsFromItsStart() {
    ServerThreads.Reading from =
        reading(5_000_000, Map.of(7L, thread("p11kms-handler-", 5_000_000)));
    ServerThreads.Reading to = reading(6_000_000, Map.of(7L, thread("p11kms-token-3", 1_000_000)));
    ServerThreads.Split split = ServerThreads.Split.between(from, to, 1);
    assertEquals(1_000, split.of(Group.TOKEN_WORKERS), 1e-9);
    assertEquals(0, split.of(Group.HANDLERS), 1e-9);
  }

  @Test
  void noServerNoThreads() {
    assertEquals(ServerThreads.Reading.NONE, ServerThreads.read(0, 0));
    assertTrue(
        ServerThreads.Split.between(ServerThreads.Reading.NONE, ServerThreads.Reading.NONE, 10)
            .isEmpty());
  }

  private static ServerThreads.Reading reading(
      long processNanos, Map<Long, ServerThreads.Thread> threads) {
    return new ServerThreads.Reading(threads, processNanos);
  }

  private static ServerThreads.Thread thread(String name, long nanos) {
    return new ServerThreads.Thread(name, nanos);
  }
}
