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
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway SoftHSM2 token for tests: its own token directory, a random label, random PINs, and
 * (for {@link #create()}) the domain keys {@code domain-key/1} and {@code domain-key-asym/1} made
 * by {@link DomainKeyCeremony}.
 *
 * <p>SoftHSM2 reads {@code SOFTHSM2_CONF} once, at {@code C_Initialize}. Surefire runs every test
 * class in its own JVM with {@code SOFTHSM2_CONF} pointing into {@code target/}; {@link #create()}
 * writes the configuration file at that path before anything loads the library. Create at most one
 * token per JVM with {@link #create()}.
 *
 * <p>PINs never reach the output: {@code softhsm2-util} is given them on its command line (fine for
 * a throwaway test token) and its output is read and dropped unless it fails.
 */
public final class SoftHsmTestToken implements TestToken {
  private static final String DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path confPath;
  private final Path rootDir;
  private final String label;
  private final Path userPinFile;
  private final char[] soPin;
  private final Path modulePath;
  private final boolean ownsRootDir;

  private SoftHsmTestToken(
      Path confPath,
      Path rootDir,
      String label,
      Path userPinFile,
      char[] soPin,
      Path modulePath,
      boolean ownsRootDir) {
    this.confPath = confPath;
    this.rootDir = rootDir;
    this.label = label;
    this.userPinFile = userPinFile;
    this.soPin = soPin;
    this.modulePath = modulePath;
    this.ownsRootDir = ownsRootDir;
  }

  /**
   * A token in a fresh temporary directory, configured at {@code $SOFTHSM2_CONF}, with {@code
   * domain-key/1} and {@code domain-key-asym/1} created in this JVM (which loads the PKCS#11 module
   * here).
   */
  public static SoftHsmTestToken create() {
    SoftHsmTestToken token = createWithoutDomainKey();
    try {
      DomainKeyCeremony.createDomainKey(token.modulePath, token.label, token.soPin, 1);
    } catch (RuntimeException e) {
      token.close();
      throw e;
    }
    return token;
  }

  /**
   * As {@link #create()}, but with no domain key at all: for tests of a token made before a kind of
   * domain key existed.
   */
  public static SoftHsmTestToken createWithoutDomainKey() {
    String conf = System.getenv("SOFTHSM2_CONF");
    if (conf == null || conf.isBlank()) {
      throw new IllegalStateException(
          "SOFTHSM2_CONF is not set; SoftHSM2 reads it at C_Initialize, so the test JVM must be"
              + " started with it (the parent pom's surefire configuration does this)");
    }
    try {
      Path root = Files.createTempDirectory("p11kms-softhsm-");
      return initialise(Paths.get(conf), root, true);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create the SoftHSM2 test token", e);
    }
  }

  /**
   * A token whose configuration is {@code dir/softhsm2.conf} and whose token files live under
   * {@code dir/tokens}, for a server started as a child process with {@code
   * SOFTHSM2_CONF=dir/softhsm2.conf}.
   *
   * <p>It has NO domain key: making one needs the PKCS#11 module loaded with that configuration,
   * which this JVM must not do (it may already have read another {@code SOFTHSM2_CONF}). The caller
   * runs the ceremony in the child process, e.g. the server's {@code init-domain-key} command, with
   * {@link #soPin()}. {@link #close()} deletes {@code dir/tokens} and the configuration and PIN
   * files, not {@code dir} itself.
   */
  public static SoftHsmTestToken createInDirectory(Path dir) {
    try {
      Files.createDirectories(dir);
      return initialise(dir.resolve("softhsm2.conf"), dir, false);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create the SoftHSM2 test token", e);
    }
  }

  /**
   * A second token, without a domain key, in the same token directory as {@code first} (so one JVM
   * sees both: SoftHSM2 reads one configuration per process). For tests that move keys between two
   * tokens, e.g. the domain join. {@code first}'s {@link #close()} deletes both tokens' files.
   */
  public static SoftHsmTestToken createBeside(SoftHsmTestToken first) {
    try {
      Path root = Files.createTempDirectory("p11kms-softhsm-beside-");
      String label = "p11kms-test-" + randomHex(4);
      char[] soPin = randomHex(16).toCharArray();
      char[] userPin = randomHex(16).toCharArray();
      runSoftHsmUtil(first.confPath, label, soPin, userPin);
      Path pinFile = root.resolve("user.pin");
      Files.createFile(
          pinFile,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.write(pinFile, new String(userPin).getBytes(StandardCharsets.UTF_8));
      Arrays.fill(userPin, '\0');
      return new SoftHsmTestToken(
          first.confPath, root, label, pinFile, soPin, first.modulePath, true);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create the second SoftHSM2 test token", e);
    }
  }

  private static SoftHsmTestToken initialise(Path confPath, Path root, boolean ownsRoot)
      throws IOException {
    Path tokenDir = root.resolve("tokens");
    Files.createDirectories(tokenDir);
    if (confPath.getParent() != null) {
      Files.createDirectories(confPath.getParent());
    }
    Files.writeString(
        confPath,
        "directories.tokendir = "
            + tokenDir.toAbsolutePath()
            + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
        StandardCharsets.UTF_8);
    String label = "p11kms-test-" + randomHex(4);
    char[] soPin = randomHex(16).toCharArray();
    char[] userPin = randomHex(16).toCharArray();
    runSoftHsmUtil(confPath, label, soPin, userPin);
    Path pinFile = root.resolve("user.pin");
    Files.deleteIfExists(pinFile);
    Files.createFile(
        pinFile,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(pinFile, new String(userPin).getBytes(StandardCharsets.UTF_8));
    Arrays.fill(userPin, '\0');
    return new SoftHsmTestToken(
        confPath.toAbsolutePath(), root, label, pinFile, soPin, defaultModulePath(), ownsRoot);
  }

  private static void runSoftHsmUtil(Path confPath, String label, char[] soPin, char[] userPin)
      throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(
            List.of(
                "softhsm2-util",
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                new String(soPin),
                "--pin",
                new String(userPin)));
    builder.environment().put("SOFTHSM2_CONF", confPath.toAbsolutePath().toString());
    builder.redirectErrorStream(true);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("softhsm2-util --init-token timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while initialising the test token");
    }
    if (process.exitValue() != 0) {
      // softhsm2-util does not echo PINs; its message says what went wrong.
      throw new IllegalStateException(
          "softhsm2-util --init-token failed (exit " + process.exitValue() + "): " + output.trim());
    }
  }

  /** {@code $P11KMS_PKCS11_MODULE}, else the Debian path of SoftHSM2. */
  public static Path defaultModulePath() {
    String module = System.getenv("P11KMS_PKCS11_MODULE");
    return Paths.get(module == null || module.isBlank() ? DEFAULT_MODULE : module);
  }

  private static String randomHex(int bytes) {
    byte[] random = new byte[bytes];
    RANDOM.nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  /** The SoftHSM2 configuration file that points at this token's directory. */
  public Path confPath() {
    return confPath;
  }

  /** The token label, {@code p11kms-test-<8 hex digits>}. */
  @Override
  public String label() {
    return label;
  }

  /** A file (mode 0600) holding the user PIN, without a newline. */
  @Override
  public Path userPinFile() {
    return userPinFile;
  }

  /** A copy of the SO PIN; the caller wipes it. */
  public char[] soPin() {
    return soPin.clone();
  }

  /** The PKCS#11 library. */
  @Override
  public Path modulePath() {
    return modulePath;
  }

  /** A configuration for {@code Pkcs11Hsm.open} with the default pool bounds. */
  @Override
  public HsmConfig hsmConfig() {
    return new HsmConfig(modulePath, label, PinSource.fromFile(userPinFile));
  }

  /** Deletes the token files, the PIN file and the configuration written for this token. */
  @Override
  public void close() {
    Arrays.fill(soPin, '\0');
    TempDirs.deleteTree(rootDir.resolve("tokens"));
    try {
      Files.deleteIfExists(userPinFile);
      if (confPath.startsWith(rootDir)) {
        Files.deleteIfExists(confPath);
      }
      if (ownsRootDir) {
        TempDirs.deleteTree(rootDir);
      }
    } catch (IOException e) {
      // Left-over files in a temp directory are harmless.
    }
  }
}
