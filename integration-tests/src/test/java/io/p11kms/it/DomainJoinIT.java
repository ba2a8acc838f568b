package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.p11kms.proto.v1.CreateKeyRequest;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The domain-join ceremony as operators run it: two SoftHSM2 tokens in separate token directories
 * (server A's, with two domain key generations, and a new server B's, made with {@code
 * P11KMS_JOIN=1}), each ceremony step a separate {@code p11kms domain-join} process with that
 * token's {@code SOFTHSM2_CONF}, run through OpenSC's PKCS#11 spy so that every token call is on
 * record. Then server B, on A's database, decrypts what server A encrypted.
 *
 * <p>The spy of OpenSC 0.23 crashes when the wrapper probes {@code C_GetInterfaceList} in front of
 * a PKCS#11 2.40 module, so the test puts a tiny library that exports only {@code
 * C_GetFunctionList} in front of it ({@code pkcs11-spy-shim.c}, compiled here with gcc). The spy
 * log holds the throwaway test token's SO PIN; it stays in the temporary folder.
 */
class DomainJoinIT {
  private static final String SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so";
  private static final String SPY = "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so";
  private static final String TOKEN = "p11kms-it";

  @TempDir Path temp;

  private Path shim;

  @Test
  void join_copiesTheDomainKeysOnlyWrapped_withTheSameAttributes_andBDecryptsWhatAEncrypted()
      throws Exception {
    shim = compileSpyShim();
    Path a = temp.resolve("a");
    Path b = temp.resolve("b");
    ServerProcess.initToken(a);
    ServerProcess.initToken(b, true);
    Result rotated =
        p11kms(
            a,
            null,
            "rotate-domain-key",
            "--config",
            a.resolve("p11kms.properties").toString(),
            "--so-pin-file",
            a.resolve("so.pin").toString(),
            "--create-only");
    assertThat(rotated.exit()).as(rotated.err()).isZero();

    ByteString plaintext = ByteString.copyFromUtf8("encrypted on server A");
    ByteString blob;
    try (ServerProcess serverA = ServerProcess.start(a)) {
      blob =
          call(
              serverA,
              kms -> {
                String keyId =
                    kms.createKey(CreateKeyRequest.getDefaultInstance())
                        .getKeyMetadata()
                        .getKeyId();
                return kms.encrypt(
                        EncryptRequest.newBuilder()
                            .setKeyId(keyId)
                            .setPlaintext(plaintext)
                            .putEncryptionContext("server", "a")
                            .build())
                    .getCiphertextBlob();
              });
    }

    // Export refuses to run without the fingerprint B's operator read out, and writes nothing.
    Result begun = step(b, "begin", "--out", temp.resolve("t1").toString());
    assertThat(begun.exit()).as(begun.err()).isZero();
    String firstFingerprint = fingerprintIn(begun.out());
    Path unchecked = temp.resolve("bundle0");
    Result noFingerprint = exportTo(a, temp.resolve("t1"), unchecked, null);
    assertThat(noFingerprint.exit()).isEqualTo(2);
    assertThat(noFingerprint.err()).contains("Missing required option: '--expect-fingerprint");
    assertThat(unchecked).doesNotExist();
    Path bundle1 = temp.resolve("bundle1");
    Result exported = exportTo(a, temp.resolve("t1"), bundle1, null, firstFingerprint);
    assertThat(exported.exit()).as(exported.err()).isZero();
    String bundle1Fingerprint = bundleFingerprintIn(exported.out());

    // Bundles altered on the way: finish refuses each with one line, before any token call (the
    // transport key is still there for abort to destroy), and leaves no key on B.
    Path emptiedUnwrapTemplate = temp.resolve("bundle1-unwrap-template");
    edit(bundle1, emptiedUnwrapTemplate, DomainJoinIT::emptyUnwrapTemplate);
    Path flippedWrapped = temp.resolve("bundle1-wrapped");
    edit(bundle1, flippedWrapped, DomainJoinIT::flipWrappedByte);
    for (Path tampered : List.of(emptiedUnwrapTemplate, flippedWrapped)) {
      Result refused =
          step(
              b, "finish", "--in", tampered.toString(), "--expect-fingerprint", bundle1Fingerprint);
      assertThat(refused.exit()).as(refused.err()).isEqualTo(1);
      assertThat(refused.err())
          .contains("the bundle's fingerprint is sha256:")
          .contains("not the one expected: it was altered or replaced on the way")
          .doesNotContain("Exception")
          .doesNotContain("\tat ");
      assertThat(list(b)).isEmpty();
    }
    Result unchecked1 = step(b, "finish", "--in", bundle1.toString());
    assertThat(unchecked1.exit()).isEqualTo(2);
    assertThat(unchecked1.err()).contains("Missing required option: '--expect-fingerprint");
    assertThat(list(b)).isEmpty();
    Result aborted = step(b, "abort");
    assertThat(aborted.out()).contains("transport key destroyed");

    // The real join, every step through the spy.
    Path spyBegin = temp.resolve("begin.spy");
    Path spyExport = temp.resolve("export.spy");
    Path spyFinish = temp.resolve("finish.spy");
    Result begin = spied(b, spyBegin, "begin", "--out", temp.resolve("t2").toString());
    assertThat(begin.exit()).as(begin.err()).isZero();
    String fingerprint = fingerprintIn(begin.out());
    Path bundle2 = temp.resolve("bundle2");
    Result export = exportTo(a, temp.resolve("t2"), bundle2, spyExport, fingerprint);
    assertThat(export.exit()).as(export.err()).isZero();
    assertThat(export.out()).contains("wrapped domain-key/1", "wrapped domain-key/2");
    Result finish =
        spied(
            b,
            spyFinish,
            "finish",
            "--in",
            bundle2.toString(),
            "--expect-fingerprint",
            bundleFingerprintIn(export.out()));
    assertThat(finish.exit()).as(finish.err()).isZero();
    assertThat(finish.out())
        .contains("joined and proved: domain-key/1", "joined and proved: domain-key/2")
        .contains("joined and proved: domain-key-asym/1", "joined and proved: domain-key-asym/2");

    // (a) The same attributes, each of them, on both tokens.
    List<String> onA = list(a);
    // Each kind of domain key, generation 1 then 2: domain-key/1, domain-key-asym/1, ...
    assertThat(onA).hasSizeGreaterThanOrEqualTo(4);
    assertThat(onA).anyMatch(l -> l.startsWith("domain-key/2 "));
    assertThat(list(b)).isEqualTo(onA);
    assertThat(onA.get(0))
        .startsWith("domain-key/1 ")
        .contains("CKA_TRUSTED=true", "CKA_SENSITIVE=true", "CKA_EXTRACTABLE=true")
        .contains("CKA_WRAP_WITH_TRUSTED=true", "CKA_ENCRYPT=false", "CKA_DECRYPT=false")
        .contains("CKA_MODIFIABLE=false", "CKA_WRAP_TEMPLATE={CKA_", "CKA_UNWRAP_TEMPLATE={CKA_");

    // (c) The key moved only by C_WrapKey and C_UnwrapKey; its value was never asked for.
    SpyTrace beginTrace = SpyTrace.read(spyBegin);
    SpyTrace exportTrace = SpyTrace.read(spyExport);
    SpyTrace finishTrace = SpyTrace.read(spyFinish);
    for (SpyTrace trace : List.of(beginTrace, exportTrace, finishTrace)) {
      assertThat(trace.functions()).isNotEmpty().doesNotContainAnyElementsOf(SpyTrace.FORBIDDEN);
      assertThat(trace.requestedValue()).as("CKA_VALUE requested").isFalse();
    }
    assertThat(exportTrace.functions()).contains("C_WrapKey").doesNotContain("C_UnwrapKey");
    assertThat(exportTrace.functionsMentioning("domain-key/"))
        .contains("C_GetAttributeValue")
        .isSubsetOf("C_GetAttributeValue", "C_FindObjectsInit");
    assertThat(exportTrace.wrapKeyCalls()).as("4 domain keys + 4 proof keys").isGreaterThan(7);
    assertThat(finishTrace.functions())
        .contains("C_UnwrapKey")
        .doesNotContain("C_WrapKey", "C_CreateObject", "C_GenerateKey");
    assertThat(finishTrace.functionsMentioning("domain-key/"))
        .contains("C_UnwrapKey")
        .isSubsetOf("C_GetAttributeValue", "C_FindObjectsInit", "C_UnwrapKey");
    assertThat(beginTrace.functions())
        .contains("C_GenerateKeyPair")
        .doesNotContain("C_WrapKey", "C_UnwrapKey");

    // (b) Same key material: server B, on A's database, decrypts what A encrypted.
    Path configB = b.resolve("p11kms.properties");
    String onAsDatabase =
        Files.readString(configB)
            .replaceAll(
                "(?m)^store\\.jdbc\\.url=.*$",
                Matcher.quoteReplacement(
                    "store.jdbc.url=jdbc:sqlite:" + a.resolve("p11kms.db").toAbsolutePath()));
    Files.writeString(configB, onAsDatabase);
    try (ServerProcess serverB = ServerProcess.start(b)) {
      ByteString decrypted =
          call(
              serverB,
              kms ->
                  kms.decrypt(
                          DecryptRequest.newBuilder()
                              .setCiphertextBlob(blob)
                              .putEncryptionContext("server", "a")
                              .build())
                      .getPlaintext());
      assertThat(decrypted).isEqualTo(plaintext);
    }
  }

  private record Result(int exit, String out, String err) {}

  private Result step(Path dataDir, String step, String... args) throws Exception {
    return ceremony(dataDir, null, step, args);
  }

  private Result spied(Path dataDir, Path spyOutput, String step, String... args) throws Exception {
    return ceremony(dataDir, spyOutput, step, args);
  }

  private Result exportTo(Path a, Path transportKey, Path out, Path spy, String... fingerprint)
      throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of("--transport-key", transportKey.toString(), "--out", out.toString()));
    if (fingerprint.length > 0) {
      args.addAll(List.of("--expect-fingerprint", fingerprint[0]));
    }
    return ceremony(a, spy, "export", args.toArray(String[]::new));
  }

  /** One {@code p11kms domain-join STEP} as the SO of the token in {@code dataDir}. */
  private Result ceremony(Path dataDir, Path spyOutput, String step, String... args)
      throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "domain-join",
                step,
                "--module",
                spyOutput != null ? shim.toString() : SOFTHSM,
                "--token-label",
                TOKEN,
                "--so-pin-file",
                dataDir.resolve("so.pin").toString()));
    command.addAll(List.of(args));
    return p11kms(dataDir, spyOutput, command.toArray(String[]::new));
  }

  private List<String> list(Path dataDir) throws Exception {
    Result listed =
        p11kms(dataDir, null, "domain-join", "list", "--module", SOFTHSM, "--token-label", TOKEN);
    assertThat(listed.exit()).as(listed.err()).isZero();
    return listed.out().lines().filter(l -> l.startsWith("domain-key")).toList();
  }

  /** {@code java -cp <test classpath> io.p11kms.server.Main ARGS} with the token of dataDir. */
  private Result p11kms(Path dataDir, Path spyOutput, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                // Short-lived commands: the quick compiler only makes them start sooner.
                "-XX:TieredStopAtLevel=1",
                "io.p11kms.server.Main"));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(temp, "out", ".txt");
    Path err = Files.createTempFile(temp, "err", ".txt");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    builder.environment().put("SOFTHSM2_CONF", dataDir.resolve("softhsm2.conf").toString());
    if (spyOutput != null) {
      builder.environment().put("PKCS11SPY_SHIM_TARGET", SPY);
      builder.environment().put("PKCS11SPY", SOFTHSM);
      builder.environment().put("PKCS11SPY_OUTPUT", spyOutput.toString());
    }
    Process process = builder.start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("p11kms " + String.join(" ", args) + " timed out");
    }
    return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
  }

  private Path compileSpyShim() throws Exception {
    assertThat(Path.of(SPY)).as("OpenSC's pkcs11-spy (Debian package opensc)").exists();
    Path source = temp.resolve("pkcs11-spy-shim.c");
    try (var in = DomainJoinIT.class.getResourceAsStream("/pkcs11-spy-shim.c")) {
      Files.copy(in, source);
    }
    Path library = temp.resolve("pkcs11-spy-shim.so");
    Process gcc =
        new ProcessBuilder(
                "gcc", "-shared", "-fPIC", "-o", library.toString(), source.toString(), "-ldl")
            .redirectErrorStream(true)
            .start();
    String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(gcc.waitFor(60, TimeUnit.SECONDS) && gcc.exitValue() == 0).as(output).isTrue();
    return library;
  }

  private static String fingerprintIn(String beginOutput) {
    return fingerprintAfter("transport key ", beginOutput);
  }

  private static String bundleFingerprintIn(String exportOutput) {
    return fingerprintAfter("bundle ", exportOutput);
  }

  private static String fingerprintAfter(String prefix, String output) {
    Matcher m = Pattern.compile("(?m)^" + prefix + "(sha256:[0-9a-f]{64})").matcher(output);
    assertThat(m.find()).as(output).isTrue();
    return m.group(1);
  }

  /** Writes {@code bundle} to {@code tampered} with {@code change} made to its properties. */
  private static void edit(
      Path bundle, Path tampered, java.util.function.Consumer<Properties> change) throws Exception {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(bundle, StandardCharsets.UTF_8)) {
      p.load(in);
    }
    change.accept(p);
    try (Writer out = Files.newBufferedWriter(tampered, StandardCharsets.UTF_8)) {
      p.store(out, null);
    }
  }

  private static void flipWrappedByte(Properties p) {
    byte[] wrapped = Base64.getDecoder().decode(p.getProperty("key.1.wrapped"));
    wrapped[wrapped.length / 2] ^= 1;
    p.setProperty("key.1.wrapped", Base64.getEncoder().encodeToString(wrapped));
  }

  /** What unwraps under key 1 is no longer pinned: the weakness the fingerprint must catch. */
  private static void emptyUnwrapTemplate(Properties p) {
    String attributes = p.getProperty("key.1.attributes");
    String emptied =
        attributes.replaceAll("CKA_UNWRAP_TEMPLATE=\\{[^}]*\\}", "CKA_UNWRAP_TEMPLATE={}");
    assertThat(emptied).isNotEqualTo(attributes);
    p.setProperty("key.1.attributes", emptied);
  }

  private static <T> T call(ServerProcess server, Function<KeyManagementServiceBlockingStub, T> f)
      throws InterruptedException {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    try {
      return f.apply(
          KeyManagementServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(30, TimeUnit.SECONDS));
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** An OpenSC pkcs11-spy log, cut into one block per PKCS#11 call. */
  private record SpyTrace(List<String> names, List<String> blocks) {
    /** Calls that would use or show a key's value: none may appear in a ceremony. */
    static final Set<String> FORBIDDEN =
        Set.of(
            "C_Encrypt",
            "C_EncryptInit",
            "C_Decrypt",
            "C_DecryptInit",
            "C_Sign",
            "C_SignInit",
            "C_DigestKey",
            "C_DeriveKey",
            "C_CopyObject",
            "C_SetAttributeValue");

    private static final Pattern CALL = Pattern.compile("(?m)^\\d+: (C_\\w+)\\s*$");

    static SpyTrace read(Path file) throws Exception {
      String log = Files.readString(file);
      List<String> names = new ArrayList<>();
      List<String> blocks = new ArrayList<>();
      Matcher m = CALL.matcher(log);
      int start = -1;
      String name = null;
      while (m.find()) {
        if (name != null) {
          names.add(name);
          blocks.add(log.substring(start, m.start()));
        }
        name = m.group(1);
        start = m.start();
      }
      if (name != null) {
        names.add(name);
        blocks.add(log.substring(start));
      }
      return new SpyTrace(names, blocks);
    }

    Set<String> functions() {
      return Set.copyOf(names);
    }

    long wrapKeyCalls() {
      return names.stream().filter("C_WrapKey"::equals).count();
    }

    /** Whether any C_GetAttributeValue asked for CKA_VALUE (not CKA_VALUE_LEN). */
    boolean requestedValue() {
      Pattern value = Pattern.compile("(?m)^\\s+CKA_VALUE\\s");
      for (int i = 0; i < names.size(); i++) {
        if (names.get(i).equals("C_GetAttributeValue") && value.matcher(blocks.get(i)).find()) {
          return true;
        }
      }
      return false;
    }

    /**
     * The calls whose logged arguments or results hold {@code text} (e.g. a label; the spy logs
     * attribute values as hex words).
     */
    Set<String> functionsMentioning(String text) {
      String hex =
          java.util.HexFormat.of().withUpperCase().formatHex(text.getBytes(StandardCharsets.UTF_8));
      Set<String> found = new java.util.TreeSet<>();
      for (int i = 0; i < names.size(); i++) {
        if (blocks.get(i).replaceAll("\\s", "").contains(hex)) {
          found.add(names.get(i));
        }
      }
      return found;
    }
  }
}
