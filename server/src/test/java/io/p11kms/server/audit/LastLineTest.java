package io.p11kms.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LastLineTest {
  @TempDir Path dir;

  @Test
  void findsTheLastNonBlankLine_whateverTheChunkSize() throws Exception {
    String last = "{\"seq\":3,\"caller\":\"arn:…/é\",\"x\":\"" + "y".repeat(300) + "\"}";
    Path file = write("{\"seq\":1}\n{\"seq\":2}\n" + last + "\n\n  \n");
    for (int chunk : new int[] {1, 2, 3, 7, 64, 1024, 1 << 16}) {
      assertThat(LastLine.of(file, chunk)).as("chunk %d", chunk).contains(last);
    }
  }

  @Test
  void aFileOfOneLineWithoutNewline() throws Exception {
    assertThat(LastLine.of(write("{\"seq\":1}"), 4)).contains("{\"seq\":1}");
  }

  @Test
  void emptyOrBlankFiles_haveNone() throws Exception {
    assertThat(LastLine.of(write(""), 4)).isEmpty();
    assertThat(LastLine.of(write("\n \n\r\n"), 2)).isEmpty();
  }

  @Test
  void aLargeLog_givesItsLastLine() throws Exception {
    StringBuilder log = new StringBuilder();
    for (int i = 1; i <= 200_000; i++) {
      log.append("{\"seq\":").append(i).append("}\n");
    }
    Path file = write(log.toString());
    assertThat(LastLine.of(file)).contains("{\"seq\":200000}");
  }

  private Path write(String text) throws Exception {
    Path file = Files.createTempFile(dir, "audit", ".log");
    Files.writeString(file, text, StandardCharsets.UTF_8);
    return file;
  }
}
