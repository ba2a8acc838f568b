package io.p11kms.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RunScriptTest {
  @Test
  void theBenchmarkStartsTheServerWithRunShsDefaultJvmOptions() throws Exception {
    // Surefire runs in the module's folder; run.sh is at the repository's root.
    String script = Files.readString(Path.of("..", "run.sh"));
    Matcher defaults =
        Pattern.compile("export JAVA_OPTS=\"\\$\\{P11KMS_JAVA_OPTS:-([^}]*)}\"").matcher(script);
    assertEquals(true, defaults.find(), "run.sh sets JAVA_OPTS from P11KMS_JAVA_OPTS");
    assertEquals(defaults.group(1), String.join(" ", RunScript.SERVER_JVM_OPTIONS));
  }

  @Test
  void theBenchmarkGivesJemallocRunShsDefaultOptions() throws Exception {
    String script = Files.readString(Path.of("..", "run.sh"));
    Matcher defaults =
        Pattern.compile("export MALLOC_CONF=\"\\$\\{MALLOC_CONF:-([^}]*)}\"").matcher(script);
    assertEquals(true, defaults.find(), "run.sh sets MALLOC_CONF unless it is set");
    assertEquals(defaults.group(1), RunScript.JEMALLOC_OPTIONS);
  }

  @Test
  void aMallocConfOfTheEnvironmentIsKept() throws Exception {
    Map<String, String> environment = new HashMap<>(Map.of("MALLOC_CONF", "narenas:4"));
    String malloc = RunScript.preloadMalloc(environment);
    assumeTrue(malloc.startsWith("jemalloc"), "jemalloc installed, P11KMS_MALLOC not glibc");
    assertEquals("narenas:4", environment.get("MALLOC_CONF"));
    assertEquals("jemalloc (MALLOC_CONF=narenas:4)", malloc);
  }

  @Test
  void withoutMallocConfTheServerGetsRunShsDefault() throws Exception {
    Map<String, String> environment = new HashMap<>();
    String malloc = RunScript.preloadMalloc(environment);
    assumeTrue(malloc.startsWith("jemalloc"), "jemalloc installed, P11KMS_MALLOC not glibc");
    assertEquals(RunScript.JEMALLOC_OPTIONS, environment.get("MALLOC_CONF"));
    assertEquals(true, environment.get("LD_PRELOAD").endsWith("libjemalloc.so.2"));
  }
}
