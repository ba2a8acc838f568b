package io.p11kms.server.cli;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.p11kms.proto.v1.DataKeySpec;
import io.p11kms.proto.v1.GenerateDataKeyRequest;
import io.p11kms.proto.v1.GenerateDataKeyResponse;
import io.p11kms.proto.v1.KeyManagementServiceGrpc;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Envelope encryption of a file of any size: a fresh AES-256 data key from GenerateDataKey, the
 * file encrypted locally with AES-GCM in chunks, the data key (as encrypted by the service) in the
 * file's header. Only the service can decrypt the data key again.
 */
@Command(
    name = "encrypt-file",
    mixinStandardHelpOptions = true,
    description = "Encrypt a file of any size under a KMS key (envelope encryption).")
final class EncryptFileCommand implements Callable<Integer> {
  @Mixin ConnectionOptions connection;

  @Option(names = "--key-id", required = true, description = "Key id, ARN, alias or alias ARN.")
  String keyId;

  @Option(names = "--in", required = true, description = "The file to encrypt.")
  Path in;

  @Option(names = "--out", required = true, description = "The encrypted file; must not exist.")
  Path out;

  @Option(
      names = "--encryption-context",
      paramLabel = "KEY=VALUE",
      description = "Bound to the data key; stored in the header. Repeat for each pair.")
  List<String> context = List.of();

  @Option(
      names = "--chunk-size",
      defaultValue = "1048576",
      description = "Plaintext bytes per chunk (default ${DEFAULT-VALUE}).")
  int chunkSize;

  @Option(names = "--no-progress", description = "Never draw a progress bar.")
  boolean noProgress;

  @Override
  public Integer call() {
    if (chunkSize < EnvelopeFormat.MIN_CHUNK || chunkSize > EnvelopeFormat.MAX_CHUNK) {
      System.err.println(
          "p11kms kms encrypt-file: --chunk-size must be "
              + EnvelopeFormat.MIN_CHUNK
              + "-"
              + EnvelopeFormat.MAX_CHUNK);
      return Calls.EXIT_LOCAL;
    }
    String unreadable = Calls.notAnInputFile(in);
    if (unreadable != null) {
      System.err.println("p11kms kms encrypt-file: " + unreadable);
      return Calls.EXIT_LOCAL;
    }
    if (Files.exists(out)) {
      System.err.println("p11kms kms encrypt-file: " + out + " exists; not overwritten");
      return Calls.EXIT_LOCAL;
    }
    ManagedChannel channel;
    Map<String, String> pairs;
    try {
      pairs = pairs(context);
      channel = connection.open();
    } catch (CliException e) {
      System.err.println("p11kms kms encrypt-file: " + e.getMessage());
      return Calls.EXIT_LOCAL;
    }
    byte[] dataKey = null;
    Path partial = null;
    try {
      GenerateDataKeyResponse key =
          KeyManagementServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(connection.timeoutSeconds(), TimeUnit.SECONDS)
              .generateDataKey(
                  GenerateDataKeyRequest.newBuilder()
                      .setKeyId(keyId)
                      .putAllEncryptionContext(pairs)
                      .setKeySpec(DataKeySpec.AES_256)
                      .build());
      dataKey = key.getPlaintext().toByteArray();
      byte[] prefix = new byte[EnvelopeFormat.NONCE_PREFIX_BYTES];
      new SecureRandom().nextBytes(prefix);
      EnvelopeFormat header =
          new EnvelopeFormat(chunkSize, prefix, pairs, key.getCiphertextBlob().toByteArray());
      partial = tempBeside(out);
      long total = Files.size(in);
      Progress progress = new Progress(total, !noProgress);
      try (InputStream input = new BufferedInputStream(Files.newInputStream(in));
          OutputStream output = new BufferedOutputStream(Files.newOutputStream(partial))) {
        encrypt(header, dataKey, input, output, progress);
      }
      progress.finish();
      Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
      partial = null;
      System.out.println(
          "{\"keyId\": \""
              + key.getKeyId()
              + "\", \"plaintextBytes\": "
              + total
              + ", \"out\": \""
              + out.toString().replace("\\", "\\\\").replace("\"", "\\\"")
              + "\"}");
      return 0;
    } catch (StatusRuntimeException e) {
      return Calls.report(e, "GenerateDataKey", connection.endpoint(), System.err);
    } catch (IOException e) {
      System.err.println("p11kms kms encrypt-file: " + Calls.describe(e, null));
      return Calls.EXIT_LOCAL;
    } catch (GeneralSecurityException | CliException e) {
      System.err.println("p11kms kms encrypt-file: " + e.getMessage());
      return Calls.EXIT_LOCAL;
    } finally {
      if (dataKey != null) {
        Arrays.fill(dataKey, (byte) 0);
      }
      deleteQuietly(partial);
      ConnectionOptions.shutdown(channel);
    }
  }

  /** Writes the header, then every chunk; the last chunk (maybe empty) carries the last flag. */
  static void encrypt(
      EnvelopeFormat header, byte[] dataKey, InputStream in, OutputStream out, Progress progress)
      throws IOException, GeneralSecurityException {
    byte[] aad = header.encode();
    out.write(aad);
    SecretKeySpec key = new SecretKeySpec(dataKey, "AES");
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    byte[] current = in.readNBytes(header.chunkSize());
    long index = 0;
    long done = 0;
    while (true) {
      byte[] next =
          current.length == header.chunkSize() ? in.readNBytes(header.chunkSize()) : new byte[0];
      boolean last = next.length == 0;
      cipher.init(
          Cipher.ENCRYPT_MODE,
          key,
          new GCMParameterSpec(EnvelopeFormat.TAG_BYTES * 8, header.nonce(index, last)));
      cipher.updateAAD(aad);
      out.write(cipher.doFinal(current));
      done += current.length;
      progress.update(done);
      if (last) {
        return;
      }
      current = next;
      index++;
    }
  }

  static Map<String, String> pairs(List<String> values) {
    Map<String, String> pairs = new LinkedHashMap<>();
    for (String value : values) {
      int eq = value.indexOf('=');
      if (eq < 1) {
        throw new CliException("--encryption-context takes KEY=VALUE, was '" + value + "'");
      }
      pairs.put(value.substring(0, eq), value.substring(eq + 1));
    }
    return pairs;
  }

  static Path tempBeside(Path target) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    return Files.createTempFile(dir, "." + target.getFileName() + ".", ".partial");
  }

  static void deleteQuietly(Path path) {
    if (path != null) {
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        // Best effort: a leftover .partial file holds no plaintext of the data key.
      }
    }
  }
}
