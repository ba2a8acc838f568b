package io.p11kms.hsm.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removes what a test wrote under a temporary directory, so that runs leave nothing behind. */
public final class TempDirs {
  private TempDirs() {}

  /** Deletes {@code dir} and everything under it; a missing directory is fine. */
  public static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A file left in a temporary directory is untidy, not a test failure.
    }
  }
}
