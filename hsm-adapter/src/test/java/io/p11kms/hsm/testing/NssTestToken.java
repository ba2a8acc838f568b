package io.p11kms.hsm.testing;

import io.p11kms.hsm.HsmConfig;
import io.p11kms.hsm.PinSource;
import io.p11kms.hsm.domain.DomainKeyCeremony;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway NSS softoken token for tests: a fresh NSS database in a temporary directory (made by
 * {@code certutil -N}, with a random user PIN read from a file, never from the command line), a
 * random label, and (for {@link #create()}) the domain keys of generation 1 made by {@link
 * DomainKeyCeremony#createDomainKeyAsUser}.
 *
 * <p>NSS softoken reads its database directory and token label from the string in {@code
 * C_Initialize}'s {@code pReserved} ({@link #initString()}), not from the environment, so one JVM
 * can hold an NSS token beside a SoftHSM2 one; it initializes a library with one such string per
 * process, so at most one NSS token is open at a time in a JVM. NSS softoken does not enforce key
 * custody ({@code TokenCapabilities}), so {@link #hsmConfig()} allows that.
 */
public final class NssTestToken implements TestToken {
  private static final List<String> MODULE_CANDIDATES =
      List.of(
          "/usr/lib/x86_64-linux-gnu/libsoftokn3.so",
          "/usr/lib/aarch64-linux-gnu/libsoftokn3.so",
          "/usr/lib64/libsoftokn3.so",
          "/usr/lib/libsoftokn3.so");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path rootDir;
  private final String label;
  private final Path userPinFile;

  private NssTestToken(Path rootDir, String label, Path userPinFile) {
    this.rootDir = rootDir;
    this.label = label;
    this.userPinFile = userPinFile;
  }

  /** A token with the domain keys of generation 1, made in this JVM. */
  public static NssTestToken create() {
    NssTestToken token = createWithoutDomainKey();
    try {
      DomainKeyCeremony.createDomainKeyAsUser(token.hsmConfig(), 1);
    } catch (RuntimeException e) {
      token.close();
      throw e;
    }
    return token;
  }

  /** A token in a fresh temporary directory with no domain key; nothing is loaded in this JVM. */
  public static NssTestToken createWithoutDomainKey() {
    try {
      return createIn(Files.createTempDirectory("p11kms-nss-"));
    } catch (IOException e) {
      throw new IllegalStateException("cannot create the NSS test token", e);
    }
  }

  /**
   * A token whose database lives in {@code dir/nssdb}, with no domain key and nothing loaded in
   * this JVM. {@link #close()} deletes {@code dir}.
   */
  public static NssTestToken createIn(Path dir) {
    try {
      Files.createDirectories(dir);
      Path db = dir.resolve("nssdb");
      Files.createDirectories(db);
      String label = "p11kms-nss-" + randomHex(4);
      Path pinFile = dir.resolve("user.pin");
      Files.deleteIfExists(pinFile);
      Files.createFile(
          pinFile,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.write(pinFile, randomHex(16).getBytes(StandardCharsets.UTF_8));
      runCertutil(db, pinFile);
      return new NssTestToken(dir, label, pinFile);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create the NSS test token", e);
    }
  }

  /** {@code certutil -N}: a new database whose password (the user PIN) is read from the file. */
  private static void runCertutil(Path db, Path pinFile) throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(
                List.of(
                    "certutil", "-N", "-d", "sql:" + db.toAbsolutePath(), "-f", pinFile.toString()))
            .redirectErrorStream(true);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("certutil -N timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating the NSS database");
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(
          "certutil -N failed (exit " + process.exitValue() + "): " + output.trim());
    }
  }

  /** NSS softoken: {@code $P11KMS_NSS_MODULE}, else the first of the usual Linux paths present. */
  public static Path defaultModulePath() {
    String module = System.getenv("P11KMS_NSS_MODULE");
    if (module != null && !module.isBlank()) {
      return Paths.get(module);
    }
    for (String candidate : MODULE_CANDIDATES) {
      if (Files.exists(Paths.get(candidate))) {
        return Paths.get(candidate);
      }
    }
    throw new IllegalStateException(
        "NSS softoken (libsoftokn3.so) not found; install libnss3 or set P11KMS_NSS_MODULE");
  }

  private static String randomHex(int bytes) {
    byte[] random = new byte[bytes];
    RANDOM.nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  /**
   * The string NSS softoken reads in {@code C_Initialize}: the database directory and the label of
   * its database token.
   */
  public String initString() {
    return "configdir='sql:"
        + rootDir.resolve("nssdb").toAbsolutePath()
        + "' certPrefix='' keyPrefix='' secmod='secmod.db' flags=optimizeSpace"
        + " dbTokenDescription='"
        + label
        + "'";
  }

  /** The directory holding the NSS database and the PIN file. */
  public Path directory() {
    return rootDir;
  }

  @Override
  public String label() {
    return label;
  }

  @Override
  public Path userPinFile() {
    return userPinFile;
  }

  @Override
  public Path modulePath() {
    return defaultModulePath();
  }

  @Override
  public HsmConfig hsmConfig() {
    return new HsmConfig(defaultModulePath(), label, PinSource.fromFile(userPinFile))
        .withModuleInitString(initString())
        .withUnenforcedCustody(true);
  }

  @Override
  public void close() {
    TempDirs.deleteTree(rootDir);
  }
}
