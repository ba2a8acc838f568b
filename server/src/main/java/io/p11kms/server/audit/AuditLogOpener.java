package io.p11kms.server.audit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Opens the audit log's file where its chain left off: after the file's last line or, when the file
 * does not reach its anchor in the token (deleted, or cut back), after the anchor, so that the
 * records missing between them show as dropped.
 */
final class AuditLogOpener {
  private AuditLogOpener() {}

  /** See {@link AuditLog#open(Path, AuditLog.Signer, AuditAnchor, int, Duration, Clock)}. */
  static AuditLog open(
      Path file,
      AuditLog.Signer signer,
      AuditAnchor anchor,
      int checkpointRecords,
      Duration checkpointInterval,
      Clock clock,
      UnaryOperator<AuditSink> wrap) {
    Optional<AuditHead> anchored = anchor == null ? Optional.empty() : readAnchor(anchor);
    AuditLog log;
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      long lastSeq = 0;
      String lastHash = AuditLines.GENESIS;
      if (Files.exists(file)) {
        Optional<String> last = LastLine.of(file);
        if (last.isPresent()) {
          lastHash = AuditLines.sha256(last.get());
          lastSeq = AuditLines.seq(last.get());
        }
      }
      if (anchored.isPresent() && anchored.get().seq() > lastSeq) {
        // The file does not reach its anchor: chain on from the anchor, so that the gap shows.
        lastSeq = anchored.get().seq();
        lastHash = anchored.get().hash();
      }
      log =
          new AuditLog(
              wrap.apply(new AuditFileSink(file)),
              signer,
              anchor,
              checkpointRecords,
              checkpointInterval,
              clock,
              lastSeq,
              lastHash);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the audit log " + file, e);
    }
    if (anchor != null) {
      try {
        log.writeStart(anchored);
      } catch (RuntimeException e) {
        log.close();
        throw e;
      }
    }
    return log;
  }

  private static Optional<AuditHead> readAnchor(AuditAnchor anchor) {
    try {
      return anchor.read();
    } catch (AuditException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new AuditException("cannot read the audit log's anchor in the token", e);
    }
  }
}
