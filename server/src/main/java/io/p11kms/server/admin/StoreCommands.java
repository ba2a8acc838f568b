package io.p11kms.server.admin;

import io.p11kms.server.config.ConfigException;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.store.KeyStoreException;
import io.p11kms.server.store.StoreBackup;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code export-store} and {@code import-store}: backup and restore of the key store. */
public final class StoreCommands {
  private StoreCommands() {}

  /** Exit code of a failed export or import. */
  public static final int EXIT_FAILED = 1;

  @Command(
      name = "export-store",
      description =
          "Write the key store (metadata and EKTs, which are wrapped) to a backup file."
              + " The server may keep running.")
  public static final class Export implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "The server's properties file.")
    Path config;

    @Option(names = "--out", required = true, description = "The backup file; must not exist.")
    Path out;

    @Override
    public Integer call() {
      try {
        String url = ServerConfig.load(config).store().jdbcUrl();
        StoreBackup.Counts counts;
        try (BufferedWriter writer = create(out)) {
          counts = StoreBackup.export(url, writer);
        }
        System.out.println("exported " + summary(counts.rows()) + " to " + out);
        return 0;
      } catch (FileAlreadyExistsException e) {
        System.err.println("p11kms export-store: " + out + " exists; not overwritten");
      } catch (ConfigException | KeyStoreException | IllegalArgumentException | IOException e) {
        System.err.println("p11kms export-store: " + e.getMessage());
      }
      return EXIT_FAILED;
    }

    private static BufferedWriter create(Path file) throws IOException {
      try {
        Files.createFile(
            file,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException e) {
        Files.createFile(file);
      }
      return Files.newBufferedWriter(
          file, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
    }
  }

  @Command(
      name = "import-store",
      description =
          "Read a backup file into the configured key store, which must be empty."
              + " Stop the server first.")
  public static final class Import implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "The server's properties file.")
    Path config;

    @Option(names = "--in", required = true, description = "The backup file.")
    Path in;

    @Override
    public Integer call() {
      try {
        String url = ServerConfig.load(config).store().jdbcUrl();
        StoreBackup.Counts counts;
        try (BufferedReader reader = Files.newBufferedReader(in, StandardCharsets.UTF_8)) {
          counts = StoreBackup.importInto(url, reader);
        }
        System.out.println("imported " + summary(counts.rows()) + "; counts verified");
        return 0;
      } catch (ConfigException | KeyStoreException | IllegalArgumentException | IOException e) {
        System.err.println("p11kms import-store: " + e.getMessage());
        return EXIT_FAILED;
      }
    }
  }

  static String summary(Map<String, Long> rows) {
    StringBuilder s = new StringBuilder();
    rows.forEach(
        (table, count) ->
            s.append(s.length() == 0 ? "" : ", ").append(count).append(' ').append(table));
    return s.length() == 0 ? "nothing" : s.toString();
  }
}
