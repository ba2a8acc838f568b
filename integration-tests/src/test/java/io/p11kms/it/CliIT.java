package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.p11kms.server.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code p11kms kms} client against a real server on a real socket. */
class CliIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static KmsTestServer server;
  private static String endpoint;

  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    server = KmsTestServer.start();
    endpoint = server.channel().authority();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  record Run(int exitCode, String out, String err) {
    JsonNode json() throws Exception {
      return JSON.readTree(out);
    }
  }

  private static synchronized Run kms(String... args) {
    List<String> all = new ArrayList<>(List.of("kms"));
    all.addAll(List.of(args));
    all.add("--endpoint");
    all.add(endpoint);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream savedOut = System.out;
    PrintStream savedErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = new CommandLine(new Main()).execute(all.toArray(String[]::new));
      return new Run(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(savedOut);
      System.setErr(savedErr);
    }
  }

  private static String createKey() throws Exception {
    Run run = kms("create-key", "--description", "cli");
    assertThat(run.exitCode()).as(run.err()).isZero();
    return run.json().path("keyMetadata").path("keyId").asText();
  }

  @Test
  void everyRpcOfTheService_isASubcommand() {
    CommandLine kms = new CommandLine(new Main()).getSubcommands().get("kms");
    for (var method :
        io.p11kms.proto.v1.KeyManagementServiceGrpc.getServiceDescriptor().getMethods()) {
      String name =
          method.getBareMethodName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
      assertThat(kms.getSubcommands()).containsKey(name);
    }
    assertThat(kms.getSubcommands()).containsKeys("encrypt-file", "decrypt-file");
  }

  @Test
  void signGetPublicKeyVerify_withFiles_andTheJdkAgrees() throws Exception {
    Run created = kms("create-key", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY");
    assertThat(created.exitCode()).as(created.err()).isZero();
    String keyId = created.json().path("keyMetadata").path("keyId").asText();
    Path message = dir.resolve("message.txt");
    Files.writeString(message, "signed on the command line");
    Path signature = dir.resolve("message.sig");
    Path publicKey = dir.resolve("public.der");

    Run sign =
        kms(
            "sign",
            "--key-id",
            keyId,
            "--message",
            "fileb://" + message,
            "--signing-algorithm",
            "ECDSA_SHA_256",
            "--signature-out",
            signature.toString());
    assertThat(sign.exitCode()).as(sign.err()).isZero();
    Run getPublicKey =
        kms("get-public-key", "--key-id", keyId, "--public-key-out", publicKey.toString());
    assertThat(getPublicKey.exitCode()).as(getPublicKey.err()).isZero();
    Run verify =
        kms(
            "verify",
            "--key-id",
            keyId,
            "--message",
            "fileb://" + message,
            "--signature-file",
            signature.toString(),
            "--signing-algorithm",
            "ECDSA_SHA_256");
    assertThat(verify.exitCode()).as(verify.err()).isZero();
    assertThat(verify.json().path("signatureValid").asBoolean()).isTrue();

    java.security.Signature jdk = java.security.Signature.getInstance("SHA256withECDSA");
    jdk.initVerify(
        java.security.KeyFactory.getInstance("EC")
            .generatePublic(
                new java.security.spec.X509EncodedKeySpec(Files.readAllBytes(publicKey))));
    jdk.update(Files.readAllBytes(message));
    assertThat(jdk.verify(Files.readAllBytes(signature))).isTrue();
  }

  @Test
  void encryptThenDecrypt_withFilesAndContext_roundTrips() throws Exception {
    String keyId = createKey();
    kms("create-alias", "--alias-name", "alias/cli-test", "--target-key-id", keyId);
    Path plaintext = dir.resolve("secret.bin");
    byte[] secret = "a small secret \u00e9".getBytes(StandardCharsets.UTF_8);
    Files.write(plaintext, secret);
    Path blob = dir.resolve("secret.enc");

    Run encrypt =
        kms(
            "encrypt",
            "--key-id",
            "alias/cli-test",
            "--plaintext",
            "fileb://" + plaintext,
            "--encryption-context",
            "purpose=test",
            "--ciphertext-blob-out",
            blob.toString());
    assertThat(encrypt.exitCode()).as(encrypt.err()).isZero();
    assertThat(encrypt.json().path("keyId").asText()).endsWith(keyId);
    assertThat(encrypt.json().has("ciphertextBlob")).isFalse();

    Run decrypt =
        kms(
            "decrypt",
            "--ciphertext-blob-file",
            blob.toString(),
            "--encryption-context",
            "{\"purpose\":\"test\"}");
    assertThat(decrypt.exitCode()).as(decrypt.err()).isZero();
    assertThat(Base64.getDecoder().decode(decrypt.json().path("plaintext").asText()))
        .isEqualTo(secret);

    Run wrongContext =
        kms(
            "decrypt",
            "--ciphertext-blob",
            Base64.getEncoder().encodeToString(Files.readAllBytes(blob)));
    assertThat(wrongContext.exitCode()).isEqualTo(254);
    assertThat(wrongContext.err())
        .startsWith("An error occurred (InvalidCiphertextException) when calling the Decrypt");
  }

  @Test
  void describeUnknownKey_printsAwsExceptionAndExits254() {
    Run run = kms("describe-key", "--key-id", "11111111-2222-3333-4444-555555555555");

    assertThat(run.exitCode()).isEqualTo(254);
    assertThat(run.err())
        .startsWith(
            "An error occurred (NotFoundException) when calling the DescribeKey operation: Key '")
        .doesNotContain("operation: NotFoundException");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void generateDataKey_enumByName_andTagsAsJson() throws Exception {
    String keyId = createKey();
    Run run = kms("generate-data-key", "--key-id", keyId, "--key-spec", "AES_256");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(Base64.getDecoder().decode(run.json().path("plaintext").asText())).hasSize(32);

    Run tag =
        kms(
            "tag-resource",
            "--key-id",
            keyId,
            "--tags",
            "[{\"tagKey\":\"team\",\"tagValue\":\"payments\"}]");
    assertThat(tag.exitCode()).as(tag.err()).isZero();
    Run tags = kms("list-resource-tags", "--key-id", keyId);
    assertThat(tags.json().path("tags").get(0).path("tagValue").asText()).isEqualTo("payments");
  }

  @Test
  void badInput_isALocalErrorBeforeAnyCall() {
    Run run = kms("encrypt", "--key-id", "x", "--plaintext", "not base64!");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("base64 or fileb://");
  }

  @Test
  void unreachableServer_exits255() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream saved = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int code;
    try {
      code =
          new CommandLine(new Main())
              .execute("kms", "list-keys", "--endpoint", "127.0.0.1:" + port, "--timeout", "5");
    } finally {
      System.setErr(saved);
    }
    assertThat(code).isEqualTo(255);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("UNAVAILABLE");
  }

  @Test
  void tlsOptions_certWithoutKey_isRefused() {
    Run run = kms("list-keys", "--cert", dir.resolve("client.pem").toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("--cert and --key go together");
  }

  @Test
  void encryptFileThenDecryptFile_largeFileInChunks_roundTrips() throws Exception {
    String keyId = createKey();
    Path original = dir.resolve("big.bin");
    byte[] content = new byte[3 * 1024 * 1024 + 123];
    new Random(7).nextBytes(content);
    Files.write(original, content);
    Path sealed = dir.resolve("big.p11kms");
    Path opened = dir.resolve("big.out");

    Run enc =
        kms(
            "encrypt-file",
            "--key-id",
            keyId,
            "--in",
            original.toString(),
            "--out",
            sealed.toString(),
            "--chunk-size",
            "65536",
            "--encryption-context",
            "file=big.bin");
    assertThat(enc.exitCode()).as(enc.err()).isZero();
    assertThat(Files.size(sealed)).isGreaterThan(content.length);
    Run dec =
        kms(
            "decrypt-file",
            "--key-id",
            keyId,
            "--in",
            sealed.toString(),
            "--out",
            opened.toString());
    assertThat(dec.exitCode()).as(dec.err()).isZero();
    assertThat(Files.readAllBytes(opened)).isEqualTo(content);
    assertThat(enc.err() + dec.err()).doesNotContain("[#");
  }

  @Test
  void decryptFile_tamperedOrTruncated_failsAndWritesNothing() throws Exception {
    String keyId = createKey();
    Path original = dir.resolve("doc.bin");
    byte[] content = new byte[200_000];
    new Random(9).nextBytes(content);
    Files.write(original, content);
    Path sealed = dir.resolve("doc.p11kms");
    assertThat(
            kms(
                    "encrypt-file",
                    "--key-id",
                    keyId,
                    "--in",
                    original.toString(),
                    "--out",
                    sealed.toString(),
                    "--chunk-size",
                    "65536")
                .exitCode())
        .isZero();

    Path flipped = dir.resolve("flipped.p11kms");
    Files.copy(sealed, flipped);
    try (RandomAccessFile f = new RandomAccessFile(flipped.toFile(), "rw")) {
      f.seek(f.length() - 70_000);
      int b = f.read();
      f.seek(f.length() - 70_000);
      f.write(b ^ 1);
    }
    Run tampered =
        kms("decrypt-file", "--in", flipped.toString(), "--out", dir.resolve("a.out").toString());
    assertThat(tampered.exitCode()).isEqualTo(1);
    assertThat(tampered.err()).contains("decryption failed");
    assertThat(dir.resolve("a.out")).doesNotExist();

    Path truncated = dir.resolve("truncated.p11kms");
    byte[] all = Files.readAllBytes(sealed);
    // Cut at a chunk boundary: every remaining chunk is intact, but the last-chunk flag is gone.
    Files.write(truncated, java.util.Arrays.copyOf(all, all.length - (200_000 - 3 * 65536) - 16));
    Run cut =
        kms("decrypt-file", "--in", truncated.toString(), "--out", dir.resolve("b.out").toString());
    assertThat(cut.exitCode()).isEqualTo(1);
    assertThat(cut.err()).contains("decryption failed");
    assertThat(dir.resolve("b.out")).doesNotExist();
  }

  @Test
  void awsNamesOfEnumValues_areTakenAndPrinted() throws Exception {
    String keyId = createKey();

    Run encrypt =
        kms(
            "encrypt",
            "--key-id",
            keyId,
            "--plaintext",
            "AAEC",
            "--encryption-algorithm",
            "SYMMETRIC_DEFAULT");
    assertThat(encrypt.exitCode()).as(encrypt.err()).isZero();
    assertThat(encrypt.json().path("encryptionAlgorithm").asText()).isEqualTo("SYMMETRIC_DEFAULT");

    JsonNode metadata = kms("describe-key", "--key-id", keyId).json().path("keyMetadata");
    assertThat(metadata.path("keyState").asText()).isEqualTo("Enabled");
    assertThat(metadata.path("encryptionAlgorithms").get(0).asText())
        .isEqualTo("SYMMETRIC_DEFAULT");
  }

  private Path encryptFile(String keyId, byte[] content, String... context) throws Exception {
    Path original = Files.write(dir.resolve("plain.bin"), content);
    Path sealed = dir.resolve("plain.p11kms");
    List<String> args =
        new ArrayList<>(
            List.of(
                "encrypt-file",
                "--key-id",
                keyId,
                "--in",
                original.toString(),
                "--out",
                sealed.toString()));
    for (String pair : context) {
      args.add("--encryption-context");
      args.add(pair);
    }
    Run run = kms(args.toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isZero();
    return sealed;
  }

  @Test
  void decryptFile_encryptionContext_mustBeTheStoredOne() throws Exception {
    byte[] content = "context-bound".getBytes(StandardCharsets.UTF_8);
    Path sealed = encryptFile(createKey(), content, "app=billing", "stage=prod");
    Path opened = dir.resolve("opened.bin");

    Run other =
        kms(
            "decrypt-file",
            "--in",
            sealed.toString(),
            "--out",
            opened.toString(),
            "--encryption-context",
            "app=billing",
            "--encryption-context",
            "stage=test");
    assertThat(other.exitCode()).isEqualTo(1);
    assertThat(other.err())
        .contains("encryption context is not the one given with --encryption-context")
        .contains("app, stage")
        .doesNotContain("prod");
    assertThat(opened).doesNotExist();

    Run subset =
        kms(
            "decrypt-file",
            "--in",
            sealed.toString(),
            "--out",
            opened.toString(),
            "--encryption-context",
            "app=billing");
    assertThat(subset.exitCode()).isEqualTo(1);
    assertThat(opened).doesNotExist();

    Run same =
        kms(
            "decrypt-file",
            "--in",
            sealed.toString(),
            "--out",
            opened.toString(),
            "--encryption-context",
            "stage=prod",
            "--encryption-context",
            "app=billing");
    assertThat(same.exitCode()).as(same.err()).isZero();
    assertThat(Files.readAllBytes(opened)).isEqualTo(content);
  }

  @Test
  void encryptFile_missingInput_saysNoSuchFile() {
    Path missing = dir.resolve("missing.bin");

    Run run =
        kms(
            "encrypt-file",
            "--key-id",
            "alias/none",
            "--in",
            missing.toString(),
            "--out",
            dir.resolve("out.p11kms").toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("no such file: " + missing);
  }

  @Test
  void decryptFile_headerChanged_exits1AsAFileThatFailsToDecrypt() throws Exception {
    Path sealed = encryptFile(createKey(), new byte[5000], "purpose=test");
    byte[] bytes = Files.readAllBytes(sealed);
    int value = indexOf(bytes, "test".getBytes(StandardCharsets.UTF_8));
    bytes[value + 3] = 'u'; // the stored context now says purpose=tesu
    Files.write(sealed, bytes);
    Path opened = dir.resolve("opened.bin");

    Run run = kms("decrypt-file", "--in", sealed.toString(), "--out", opened.toString());

    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).contains("decryption failed");
    assertThat(opened).doesNotExist();
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
