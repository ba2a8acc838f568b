package io.p11kms.server.cli;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.p11kms.proto.v1.DecryptRequest;
import io.p11kms.proto.v1.DecryptResponse;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Decrypts a file made by {@code encrypt-file}: the service decrypts the data key in the header
 * (with the encryption context stored there), then every chunk is decrypted and checked locally.
 * The output appears only once every chunk, the last included, has been verified; a truncated,
 * extended, reordered or altered file leaves no output, and exits 1 as a local failure, whether the
 * chunks or the header (found out by the service) were changed. With {@code --encryption-context}
 * the caller states the context they expect; a file stored with another one is refused before the
 * service is called.
 */
@Command(
    name = "decrypt-file",
    mixinStandardHelpOptions = true,
    description = "Decrypt a file made by encrypt-file.")
final class DecryptFileCommand implements Callable<Integer> {
  static final String TAMPERED = "decryption failed: the file is corrupt, truncated or was changed";

  @Mixin ConnectionOptions connection;

  @Option(
      names = "--key-id",
      description = "Fail unless the file's data key is under this key (id, ARN or alias).")
  String keyId;

  @Option(names = "--in", required = true, description = "The encrypted file.")
  Path in;

  @Option(names = "--out", required = true, description = "The decrypted file; must not exist.")
  Path out;

  @Option(
      names = "--encryption-context",
      paramLabel = "KEY=VALUE",
      description =
          "The encryption context the file must have been encrypted with: exactly these pairs."
              + " Repeat for each pair. A file with another context is refused.")
  List<String> context = List.of();

  @Option(names = "--no-progress", description = "Never draw a progress bar.")
  boolean noProgress;

  @Override
  public Integer call() {
    String unreadable = Calls.notAnInputFile(in);
    if (unreadable != null) {
      System.err.println("p11kms kms decrypt-file: " + unreadable);
      return Calls.EXIT_LOCAL;
    }
    if (Files.exists(out)) {
      System.err.println("p11kms kms decrypt-file: " + out + " exists; not overwritten");
      return Calls.EXIT_LOCAL;
    }
    ManagedChannel channel;
    Map<String, String> expected;
    try {
      expected = EncryptFileCommand.pairs(context);
      channel = connection.open();
    } catch (CliException e) {
      System.err.println("p11kms kms decrypt-file: " + e.getMessage());
      return Calls.EXIT_LOCAL;
    }
    byte[] dataKey = null;
    Path partial = null;
    try (InputStream input = new BufferedInputStream(Files.newInputStream(in))) {
      EnvelopeFormat.Read read = EnvelopeFormat.read(input);
      if (!context.isEmpty() && !read.header().context().equals(expected)) {
        throw new CliException(otherContext(read.header().context()));
      }
      DecryptRequest.Builder request =
          DecryptRequest.newBuilder()
              .setCiphertextBlob(ByteString.copyFrom(read.header().wrappedKey()))
              .putAllEncryptionContext(read.header().context());
      if (keyId != null) {
        request.setKeyId(keyId);
      }
      DecryptResponse key =
          KeyManagementServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(connection.timeoutSeconds(), TimeUnit.SECONDS)
              .decrypt(request.build());
      dataKey = key.getPlaintext().toByteArray();
      partial = EncryptFileCommand.tempBeside(out);
      Progress progress = new Progress(Files.size(in), !noProgress);
      try (OutputStream output = new BufferedOutputStream(Files.newOutputStream(partial))) {
        decrypt(read, dataKey, input, output, progress);
      }
      progress.finish();
      Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
      partial = null;
      System.out.println("{\"keyId\": \"" + key.getKeyId() + "\"}");
      return 0;
    } catch (StatusRuntimeException e) {
      if (Calls.INVALID_CIPHERTEXT.equals(Calls.reason(e))) {
        // The header (its context or its encrypted data key) is not what was encrypted.
        System.err.println(
            "p11kms kms decrypt-file: "
                + TAMPERED
                + " (the service could not decrypt its data key)");
        return Calls.EXIT_LOCAL;
      }
      return Calls.report(e, "Decrypt", connection.endpoint(), System.err);
    } catch (AEADBadTagException e) {
      System.err.println("p11kms kms decrypt-file: " + TAMPERED);
      return Calls.EXIT_LOCAL;
    } catch (IOException e) {
      System.err.println("p11kms kms decrypt-file: " + Calls.describe(e, null));
      return Calls.EXIT_LOCAL;
    } catch (GeneralSecurityException | CliException e) {
      System.err.println("p11kms kms decrypt-file: " + e.getMessage());
      return Calls.EXIT_LOCAL;
    } finally {
      if (dataKey != null) {
        Arrays.fill(dataKey, (byte) 0);
      }
      EncryptFileCommand.deleteQuietly(partial);
      ConnectionOptions.shutdown(channel);
    }
  }

  /** Says that the file's context is another one; names its keys, never a value. */
  private static String otherContext(Map<String, String> stored) {
    return "the file's encryption context is not the one given with --encryption-context"
        + (stored.isEmpty()
            ? " (the file has none)"
            : " (the file's context has the keys " + String.join(", ", stored.keySet()) + ")")
        + "; not decrypted";
  }

  static void decrypt(
      EnvelopeFormat.Read read, byte[] dataKey, InputStream in, OutputStream out, Progress progress)
      throws IOException, GeneralSecurityException {
    EnvelopeFormat header = read.header();
    int sealed = header.chunkSize() + EnvelopeFormat.TAG_BYTES;
    SecretKeySpec key = new SecretKeySpec(dataKey, "AES");
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    byte[] current = in.readNBytes(sealed);
    long index = 0;
    long done = read.bytes().length;
    while (true) {
      if (current.length < EnvelopeFormat.TAG_BYTES) {
        throw new AEADBadTagException(TAMPERED);
      }
      byte[] next = current.length == sealed ? in.readNBytes(sealed) : new byte[0];
      boolean last = next.length == 0;
      cipher.init(
          Cipher.DECRYPT_MODE,
          key,
          new GCMParameterSpec(EnvelopeFormat.TAG_BYTES * 8, header.nonce(index, last)));
      cipher.updateAAD(read.bytes());
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
}
