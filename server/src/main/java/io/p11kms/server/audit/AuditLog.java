package io.p11kms.server.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.UnaryOperator;

/**
 * The append-only audit log: one JSON line per request, hash-chained ({@code prev} is the SHA-256
 * of the previous line), with a checkpoint line every N records or T seconds whose {@code mac} is
 * made by a key held in the token. Holds no plaintext and no key material: the encryption context
 * is recorded by its keys only. A record that cannot be written throws {@link AuditException}, so
 * the request fails (fail closed).
 *
 * <p>A checkpoint's MAC is a token call, made without the lock every record takes: the head of the
 * chain is taken under the lock, signed outside it while other requests append, and the checkpoint
 * line written under the lock again. When records came in meanwhile, the line names the head its
 * MAC covers ({@code covers}); the records after that head are covered by the next checkpoint. One
 * checkpoint is signed at a time.
 *
 * <p>With an {@link AuditAnchor}, the checkpoints, once on disk, are anchored (sequence number and
 * hash; the latest one, at most once a second), and every open writes a {@code start} record naming
 * the anchor it found. When the file does not reach the anchor (deleted, cut back) the chain goes
 * on from the anchor, not from the file, so the records missing between them show as dropped.
 */
public final class AuditLog implements AutoCloseable {
  /**
   * Anchor writes start at least this far apart ({@link AnchorWriter}): at most one token object
   * made and destroyed a second, however many checkpoints the request rate brings.
   */
  static final Duration ANCHOR_SPACING = Duration.ofSeconds(1);

  /** Makes a checkpoint's MAC (in the token). */
  @FunctionalInterface
  public interface Signer {
    byte[] sign(byte[] data);
  }

  private final AuditSink sink;
  private final Signer signer;

  /** Writes the anchor off the request path; null without an anchor. */
  private final AnchorWriter anchorWriter;

  private final int checkpointRecords;
  private final Duration checkpointInterval;
  private final Clock clock;

  /** The records of requests waiting for the lock, in the order they came ({@link #append}). */
  private final Queue<Waiting> waiting = new ConcurrentLinkedQueue<>();

  /** Kept: looking the algorithm up per record costs more than hashing it. Used under the lock. */
  private final MessageDigest digest = AuditLines.newSha256();

  /** The buffer each batch of request lines is written into and hashed in. Used under the lock. */
  private final RequestLines lines = new RequestLines(digest);

  /** The records of a batch. Used under the lock. */
  private final List<Waiting> batch = new ArrayList<>();

  private long seq;

  /** The hash of the last line, in hex (ASCII). */
  private byte[] prev;

  private int sinceCheckpoint;
  private Instant lastCheckpoint;

  /** {@link #lastCheckpoint} plus the interval: when a checkpoint is due by time. */
  private Instant nextCheckpoint;

  /** A checkpoint's head was taken and its MAC is being made: no other checkpoint begins. */
  private boolean signing;

  /** A write of the anchor failed: the next record writes a checkpoint again. */
  private volatile boolean anchorFailed;

  AuditLog(
      AuditSink sink,
      Signer signer,
      AuditAnchor anchor,
      int checkpointRecords,
      Duration checkpointInterval,
      Clock clock,
      long lastSeq,
      String lastHash) {
    this.sink = sink;
    this.signer = signer;
    this.anchorWriter =
        anchor == null ? null : new AnchorWriter(anchor, ANCHOR_SPACING, () -> anchorFailed = true);
    this.checkpointRecords = checkpointRecords;
    this.checkpointInterval = checkpointInterval;
    this.clock = clock;
    this.seq = lastSeq;
    this.prev = lastHash.getBytes(StandardCharsets.UTF_8);
    this.lastCheckpoint = clock.instant();
    this.nextCheckpoint = lastCheckpoint.plus(checkpointInterval);
  }

  /**
   * Opens (or creates) the log file and continues its chain, with no anchor: a log cut back at a
   * checkpoint goes unnoticed. The server opens it with its anchor.
   */
  public static AuditLog open(
      Path file, Signer signer, int checkpointRecords, Duration checkpointInterval, Clock clock) {
    return open(file, signer, null, checkpointRecords, checkpointInterval, clock, s -> s);
  }

  /**
   * Opens (or creates) the log file, anchored in {@code anchor}: continues the file's chain, or the
   * anchor's when the file does not reach it (deleted, or cut back), and writes a {@code start}
   * record naming the anchor found.
   *
   * @throws AuditException when the anchor cannot be read or the start record written
   */
  public static AuditLog open(
      Path file,
      Signer signer,
      AuditAnchor anchor,
      int checkpointRecords,
      Duration checkpointInterval,
      Clock clock) {
    return open(file, signer, anchor, checkpointRecords, checkpointInterval, clock, s -> s);
  }

  /**
   * As above, with the file sink wrapped (tests inject write failures); {@code anchor} may be null
   * (none).
   */
  static AuditLog open(
      Path file,
      Signer signer,
      AuditAnchor anchor,
      int checkpointRecords,
      Duration checkpointInterval,
      Clock clock,
      UnaryOperator<AuditSink> wrap) {
    return AuditLogOpener.open(
        file, signer, anchor, checkpointRecords, checkpointInterval, clock, wrap);
  }

  /**
   * A log that writes to {@code sink}, from the start of a chain, with checkpoints that carry no
   * MAC: for a server told explicitly where its records go when they are not kept in a file (tests
   * of other things give it {@link AuditSink#discarding()}). The server's log is {@link #open}'s.
   */
  public static AuditLog over(AuditSink sink, Clock clock) {
    return new AuditLog(
        sink,
        data -> new byte[0],
        null,
        Integer.MAX_VALUE,
        Duration.ofDays(365),
        clock,
        0,
        AuditLines.GENESIS);
  }

  /** The first record of each open: the anchor found (null when none). */
  synchronized void writeStart(Optional<AuditHead> anchored) {
    writeLine(AuditLines.start(seq + 1, clock.instant().toString(), anchored, prev()));
    sinceCheckpoint++;
  }

  /**
   * Appends one record, and a checkpoint when one is due. Returns once the record is written.
   *
   * <p>Group commit: the record waits in a queue for the lock, and the thread that holds the lock
   * chains every record waiting and writes them in one call; a thread that finds its record written
   * when it gets the lock returns at once. A write that fails fails every request whose record it
   * held, and the chain does not move on past them.
   *
   * @throws AuditException when the record cannot be written
   */
  public void append(AuditEntry e) {
    // The file check (a stat) and the record's own fields run outside the lock every request takes.
    ensureWritable();
    // The fields go into this thread's buffer, which the thread reuses only after this returns:
    // by then the record was written, or failed.
    RequestFields fields = RequestFields.ofThisThread();
    fields.encode(e);
    Waiting record = new Waiting(fields.bytes(), fields.length());
    waiting.add(record);
    Due due;
    try {
      synchronized (this) {
        if (!record.done) {
          record.checkpoint = writeWaiting();
        }
        if (record.failure != null) {
          throw new AuditException("cannot write the audit log", record.failure);
        }
        due = record.checkpoint;
      }
    } finally {
      fields.release();
    }
    if (due != null) {
      finishCheckpoint(due);
    }
  }

  /**
   * A request's record from its {@link #append} until it is written: its fields (UTF-8, in its
   * thread's buffer) and outcome.
   */
  private static final class Waiting {
    final byte[] fields;
    final int fieldsLength;

    // Under the log's lock:
    boolean done;

    /** Why the write that held the record failed; null when it was written. */
    Throwable failure;

    /** A checkpoint its writing made due, for its own thread to finish; null when none. */
    Due checkpoint;

    Waiting(byte[] fields, int fieldsLength) {
      this.fields = fields;
      this.fieldsLength = fieldsLength;
    }
  }

  /**
   * Chains every waiting record and writes them in one call, under the lock. The chain moves on
   * only once they are written. Returns the head a checkpoint is to cover when one is due (to be
   * signed and written by the caller, without the lock), else null.
   */
  private Due writeWaiting() {
    for (Waiting w = waiting.poll(); w != null; w = waiting.poll()) {
      batch.add(w);
    }
    boolean written = false;
    Throwable failure = null;
    try {
      lines.begin(prev);
      long lineSeq = seq;
      for (Waiting w : batch) {
        lines.append(++lineSeq, clock.instant(), w.fields, w.fieldsLength);
      }
      sink.write(lines.lines());
      seq = lineSeq;
      if (!lines.copyHead(prev)) {
        prev = lines.head();
      }
      sinceCheckpoint += batch.size();
      written = true;
    } catch (IOException | RuntimeException x) {
      failure = x;
    } finally {
      // Whatever stopped the batch fails every record in it: none is left waiting.
      if (!written && failure == null) {
        failure = new IOException("the audit records were not written");
      }
      for (Waiting w : batch) {
        w.done = true;
        w.failure = failure;
      }
      batch.clear();
    }
    if (written
        && !signing
        && (sinceCheckpoint >= checkpointRecords
            || anchorFailed
            || !clock.instant().isBefore(nextCheckpoint))) {
      anchorFailed = false;
      return beginCheckpoint();
    }
    return null;
  }

  /**
   * Checks, before a request runs, that its record can be written: the file is still the one this
   * log appends to. The request then fails before it has any effect; a write that fails after the
   * check still fails the request (its response is not sent).
   *
   * @throws AuditException when it cannot
   */
  public void ensureWritable() {
    try {
      sink.check();
    } catch (IOException | RuntimeException e) {
      throw new AuditException("cannot write the audit log", e);
    }
  }

  /**
   * Writes a signed checkpoint of the chain so far, makes the file durable up to it and anchors it.
   * Waits for a checkpoint being signed first.
   */
  public void checkpoint() {
    Due due;
    synchronized (this) {
      while (signing) {
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AuditException("interrupted waiting for an audit checkpoint", e);
        }
      }
      due = beginCheckpoint();
    }
    finishCheckpoint(due);
  }

  /** The head a checkpoint covers: the last line's sequence number and hash, and the time. */
  private record Due(long seq, String hash, String time) {}

  /**
   * Takes the head a checkpoint is to cover, under the lock; the next checkpoint is counted from
   * here. Until {@link #finishCheckpoint} ends, no other checkpoint begins.
   */
  private Due beginCheckpoint() {
    signing = true;
    sinceCheckpoint = 0;
    lastCheckpoint = clock.instant();
    nextCheckpoint = lastCheckpoint.plus(checkpointInterval);
    return new Due(seq, prev(), lastCheckpoint.toString());
  }

  /**
   * Signs {@code due} in the token without the lock, writes the checkpoint line under it, makes the
   * file durable up to it (without the lock) and anchors it. On a failure the next record begins a
   * checkpoint again.
   */
  private void finishCheckpoint(Due due) {
    AuditHead checkpoint;
    try {
      byte[] mac;
      try {
        mac = signer.sign(AuditLines.checkpointBytes(due.seq() + 1, due.time(), due.hash()));
      } catch (RuntimeException e) {
        throw new AuditException("cannot sign an audit checkpoint", e);
      }
      synchronized (this) {
        writeLine(AuditLines.checkpoint(seq + 1, due.time(), prev(), due.seq(), due.hash(), mac));
        checkpoint = new AuditHead(seq, prev());
      }
    } catch (AuditException e) {
      synchronized (this) {
        sinceCheckpoint = checkpointRecords;
      }
      throw e;
    } finally {
      synchronized (this) {
        signing = false;
        notifyAll();
      }
    }
    flush();
    anchor(checkpoint);
  }

  /**
   * Hands {@code checkpoint}, already on disk, to the anchor's writer ({@link AnchorWriter}): no
   * request waits for the token call, and writes start at most once per {@link #ANCHOR_SPACING}.
   */
  private void anchor(AuditHead checkpoint) {
    if (anchorWriter != null) {
      anchorWriter.offer(checkpoint);
    }
  }

  /** Writes the latest checkpoint handed to the anchor's writer, and waits for it. */
  private void drainAnchorWriter() {
    if (anchorWriter != null) {
      anchorWriter.close();
    }
  }

  /**
   * Forces the file to disk, without the lock: the disk's sync takes milliseconds, and every
   * request's record waits for the lock. Only the caller that wrote the checkpoint waits for it. On
   * a failure the next record writes a checkpoint again.
   */
  private void flush() {
    try {
      sink.flush();
    } catch (IOException | RuntimeException e) {
      synchronized (this) {
        sinceCheckpoint = checkpointRecords;
      }
      throw new AuditException("cannot flush the audit log", e);
    }
  }

  private void writeLine(String line) {
    ensureWritable();
    writeChecked(line);
  }

  /**
   * Writes {@code line}, the file checked already, and moves the chain on. Under the lock. The line
   * is encoded once: the bytes written are the bytes hashed.
   */
  private void writeChecked(String line) {
    byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
    try {
      sink.write(bytes);
    } catch (IOException | RuntimeException e) {
      throw new AuditException("cannot write the audit log", e);
    }
    seq++;
    prev = AuditLines.sha256(digest, bytes).getBytes(StandardCharsets.UTF_8);
  }

  /** The hash of the last line, in hex. */
  private String prev() {
    return new String(prev, StandardCharsets.UTF_8);
  }

  /** Writes a last checkpoint and closes the file. */
  @Override
  public synchronized void close() {
    try {
      if (sinceCheckpoint > 0) {
        checkpoint();
      }
    } catch (AuditException e) {
      // Closing is best effort.
    } finally {
      drainAnchorWriter();
      try {
        sink.close();
      } catch (IOException e) {
        // Best effort.
      }
    }
  }
}
