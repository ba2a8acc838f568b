package io.p11kms.server.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL cluster for tests, from the {@code postgresql} Debian package: {@code
 * initdb} into a fresh temporary directory, started on 127.0.0.1 on a free port with its socket in
 * that directory, stopped ({@code pg_ctl stop -m immediate}) and deleted by {@link #close()}. One
 * per test class; {@link #createDatabase()} gives each test a database of its own.
 *
 * <p>Loopback connections are trusted (no password) as the superuser {@value #SUPERUSER}, except
 * for roles made by {@link #createPasswordRole}, which must give their password (SCRAM): that is
 * how tests prove a password reaches the server. Durability is off (fsync, synchronous commit): the
 * cluster dies with the test.
 *
 * <p>PostgreSQL refuses to run as root: as root, {@code initdb} and {@code pg_ctl} run as the
 * {@code postgres} user ({@code runuser}), which owns the directory.
 */
public final class PostgresTestServer implements AutoCloseable {
  public static final String SUPERUSER = "postgres";
  private static final Path INSTALL_ROOT = Path.of("/usr/lib/postgresql");
  private static final String PASSWORD_GROUP = "password_users";
  private static final long COMMAND_TIMEOUT_SECONDS = 60;
  private static final AtomicInteger DATABASES = new AtomicInteger();

  private final Path bin;
  private final Path dir;
  private final Path data;
  private final boolean asRoot;
  private final int port;
  private boolean running;

  private PostgresTestServer(Path bin, Path dir, boolean asRoot, int port) {
    this.bin = bin;
    this.dir = dir;
    this.data = dir.resolve("data");
    this.asRoot = asRoot;
    this.port = port;
  }

  /** Initialises and starts a new cluster; fails with a clear message if PostgreSQL is missing. */
  public static PostgresTestServer start() {
    Path bin = findBin();
    Path dir;
    try {
      dir = Files.createTempDirectory("p11kms-pg-");
    } catch (IOException e) {
      throw new IllegalStateException("cannot create a temporary directory", e);
    }
    boolean asRoot = isRoot();
    PostgresTestServer server = new PostgresTestServer(bin, dir, asRoot, freePort());
    try {
      server.initialise();
      server.startCluster();
      server.execute("CREATE ROLE " + PASSWORD_GROUP + " NOLOGIN");
      return server;
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
  }

  private static Path findBin() {
    try (Stream<Path> versions = Files.list(INSTALL_ROOT)) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")))
          .filter(b -> Files.isExecutable(b.resolve("pg_ctl")))
          .max(Comparator.comparing(PostgresTestServer::majorVersion))
          .orElseThrow(PostgresTestServer::notInstalled);
    } catch (IOException e) {
      throw notInstalled();
    }
  }

  private static int majorVersion(Path bin) {
    try {
      return Integer.parseInt(bin.getParent().getFileName().toString());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static IllegalStateException notInstalled() {
    return new IllegalStateException(
        "PostgreSQL is not installed: no "
            + INSTALL_ROOT
            + "/*/bin/{initdb,pg_ctl}; install it with `apt-get install postgresql` (the tests"
            + " start their own cluster; the system one need not run)");
  }

  private static boolean isRoot() {
    try {
      Process p = new ProcessBuilder("id", "-u").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(10, TimeUnit.SECONDS);
      return out.equals("0");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException("no free port", e);
    }
  }

  private void initialise() {
    if (asRoot) {
      run(List.of("chown", SUPERUSER + ":", dir.toString()), false);
    }
    run(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            data.toString(),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync"),
        true);
    // First match wins: members of the password group must authenticate, everyone else is
    // trusted on loopback.
    Path hba = data.resolve("pg_hba.conf");
    try {
      String rest = Files.readString(hba, StandardCharsets.UTF_8);
      Files.writeString(
          hba,
          "host all +"
              + PASSWORD_GROUP
              + " 127.0.0.1/32 scram-sha-256\n"
              + "host all all 127.0.0.1/32 trust\n"
              + rest,
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write pg_hba.conf", e);
    }
  }

  private void startCluster() {
    String options =
        "-p "
            + port
            + " -h 127.0.0.1 -k "
            + dir
            + " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            + " -c max_connections=200 -c shared_buffers=32MB";
    run(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            data.toString(),
            "-l",
            dir.resolve("server.log").toString(),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start"),
        true);
    running = true;
  }

  /** The TCP port the cluster listens on (127.0.0.1). */
  public int port() {
    return port;
  }

  /** A JDBC URL for {@code database}, without a user or password. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** A JDBC URL for {@code database} that connects as the trusted superuser. */
  public String superuserUrl(String database) {
    return jdbcUrl(database) + "?user=" + SUPERUSER;
  }

  /** Creates an empty database with a fresh name and returns its name. */
  public String createDatabase() {
    String name = "db" + DATABASES.incrementAndGet() + "_" + ProcessHandle.current().pid();
    execute("CREATE DATABASE " + name);
    return name;
  }

  /**
   * Creates a login role that must authenticate with {@code password}, owner of a new database of
   * the same name, and returns that name.
   */
  public String createPasswordRole(String role, String password) {
    if (!role.matches("[a-z_][a-z0-9_]{0,40}") || password.contains("'")) {
      throw new IllegalArgumentException("role must be a plain identifier, password quote-free");
    }
    execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "' IN ROLE " + PASSWORD_GROUP);
    execute("CREATE DATABASE " + role + " OWNER " + role);
    return role;
  }

  /** Runs one statement as the superuser in the {@code postgres} database. */
  public void execute(String sql) {
    try (Connection c = connect("postgres");
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("statement failed: " + e.getMessage(), e);
    }
  }

  /** A connection to {@code database} as the superuser; the caller closes it. */
  public Connection connect(String database) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", SUPERUSER);
    return DriverManager.getConnection(jdbcUrl(database), p);
  }

  /** Stops the cluster at once and deletes its directory. */
  @Override
  public void close() {
    try {
      if (running) {
        running = false;
        run(
            List.of(
                bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "stop"),
            true);
      }
    } finally {
      deleteTree(dir);
    }
  }

  private void run(List<String> command, boolean asPostgres) {
    List<String> full = new ArrayList<>();
    if (asPostgres && asRoot) {
      full.addAll(List.of("runuser", "-u", SUPERUSER, "--"));
    }
    full.addAll(command);
    Path output = dir.resolve("command.out");
    try {
      Process p =
          new ProcessBuilder(full)
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(command.get(0) + " did not finish in time");
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            Path.of(command.get(0)).getFileName()
                + " failed with exit code "
                + p.exitValue()
                + ": "
                + tail(output)
                + tail(dir.resolve("server.log")));
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + command.get(0), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + command.get(0), e);
    }
  }

  private static String tail(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      return text.length() > 2000 ? text.substring(text.length() - 2000) : text;
    } catch (IOException e) {
      return "";
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a temporary directory left behind is not worth failing a test for.
    }
  }
}
