package io.p11kms.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
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
}
