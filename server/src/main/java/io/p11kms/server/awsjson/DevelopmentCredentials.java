package io.p11kms.server.awsjson;

import io.p11kms.server.sigv4.AccessKeyService;
import io.p11kms.server.store.AccessKeyRecord;
import io.p11kms.server.store.AccessKeyScope;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Development mode's access key for the AWS JSON API: on the first run (or when the key in the file
 * is gone or disabled), an access key of {@code local:developer} is made and written, with its
 * secret, to an AWS CLI credentials file ({@code [default]} profile, owner-only), so that {@code
 * AWS_SHARED_CREDENTIALS_FILE=<file> aws kms ...} works at once. For development on one machine
 * only, as the rest of development mode: the secret is in that file in the clear.
 */
public final class DevelopmentCredentials {
  /** The file's name, beside the configuration file. */
  public static final String FILE_NAME = "aws-credentials";

  private static final Pattern ID = Pattern.compile("aws_access_key_id\\s*=\\s*(\\S+)");

  private DevelopmentCredentials() {}

  /**
   * The file's access key when it is still active for {@code principal}; else a new one, written.
   *
   * @return the access key id in the file
   */
  public static String ensure(
      Path file, AccessKeyService accessKeys, String account, String principal) {
    Optional<String> existing = idIn(file);
    if (existing.isPresent()) {
      Optional<AccessKeyRecord> record = accessKeys.find(existing.get());
      if (record.isPresent()
          && record.get().active()
          && record.get().scope() == AccessKeyScope.KMS_API
          && record.get().principal().equals(principal)) {
        return existing.get();
      }
    }
    AccessKeyService.NewAccessKey created =
        accessKeys.create(account, principal, AccessKeyScope.KMS_API);
    try {
      write(file, created.record().accessKeyId(), created.secret());
    } finally {
      created.clearSecret();
    }
    return created.record().accessKeyId();
  }

  private static Optional<String> idIn(Path file) {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      Matcher m = ID.matcher(Files.readString(file, StandardCharsets.UTF_8));
      return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static void write(Path file, String id, char[] secret) {
    StringBuilder text =
        new StringBuilder("# p11kms development mode: the access key of local:developer.\n")
            .append("[default]\naws_access_key_id = ")
            .append(id)
            .append("\naws_secret_access_key = ")
            .append(secret)
            .append('\n');
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    } finally {
      text.setLength(0);
    }
  }
}
