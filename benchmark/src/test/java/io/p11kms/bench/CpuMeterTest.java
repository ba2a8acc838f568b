package io.p11kms.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuMeterTest {
  @Test
  void findsTheJitCompilersOfAProcessAmongItsThreads() {
    // This JVM as the "server": its compilers have worked by now (JUnit, and the loop below).
    CpuMeter meter = new CpuMeter(ProcessHandle.current().pid());
    Map<Integer, Integer> work = new HashMap<>();
    for (int i = 0; i < 2_000_000; i++) {
      work.merge(i % 1000, i, Integer::sum);
    }
    long compilers = meter.serverCompilerNanos();
    long all = meter.serverNanos();
    assertTrue(compilers > 0, "the compiler threads' CPU");
    assertTrue(compilers <= all, compilers + " ns of " + all);
    assertEquals(1000, work.size());
  }

  @Test
  void noServerNoCpu() {
    CpuMeter meter = new CpuMeter(0);
    assertEquals(0, meter.serverNanos());
    assertEquals(0, meter.serverCompilerNanos());
  }
}
