package io.p11kms.server.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The append-only audit log: one JSON line per request, hash-chained ({@code prev} is the SHA-256
 * of the previous line), with a checkpoint line every N records or T seconds whose {@code mac} is
 * made by a key held in the token. Holds no plaintext and no key material: the encryption context
 * is recorded by its keys only. A record that cannot be written throws {@link AuditException}, so
 * the request fails (fail closed).
 *
 * <p>With an {@link AuditAnchor}, the checkpoints, once on disk, are anchored (sequence number and
 * hash; the latest one, at most once a second), and every open writes a {@code start} record naming
 * the anchor it found. When the file does not reach the anchor (deleted, cut back) the chain goes
 * on from the anchor, not from the file, so the records missing between them show as dropped.
 */
public final class AuditLog implements AutoCloseable {
  /** The {@code prev} of the first line. */
  public static final String GENESIS = "0".repeat(64);

  static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Anchor writes start at least this far apart ({@link AnchorWriter}): at most one token object
   * made and destroyed a second, however many checkpoints the request rate brings.
   */
  static final Duration ANCHOR_SPACING = Duration.ofSeconds(1);

  /** Where lines go. */
  public interface Sink extends AutoCloseable {
    /** Appends one line: {@code line} is its UTF-8 encoding, without the line break. */
    void write(byte[] line) throws IOException;

    /**
     * Throws when a line written now would be lost (the file was removed or replaced). Called
     * without the log's lock, from any thread.
     */
    default void check() throws IOException {}

    /**
     * Makes every line written so far durable. Called without the log's lock: lines may be written
     * meanwhile.
     */
    void flush() throws IOException;

    @Override
    void close() throws IOException;
  }

  /** Makes a checkpoint's MAC (in the token). */
  @FunctionalInterface
  public interface Signer {
    byte[] sign(byte[] data);
  }

  /**
   * One request, as recorded.
   *
   * @param account the caller's account; null: none recorded
   * @param keyAccount the account of the key the request names; null: none recorded
   * @param onBehalfOf the customer's principal a registered service called for; null: none
   * @param onBehalfOfAccount that customer's account; null: none
   */
  public record Entry(
      String requestId,
      String principal,
      String operation,
      String keyArn,
      List<String> contextKeys,
      String outcome,
      String error,
      String account,
      String keyAccount,
      Map<String, String> requestMetadata,
      String onBehalfOf,
      String onBehalfOfAccount) {

    /** A record of a call made by its principal for itself. */
    public Entry(
        String requestId,
        String principal,
        String operation,
        String keyArn,
        List<String> contextKeys,
        String outcome,
        String error,
        String account,
        String keyAccount,
        Map<String, String> requestMetadata) {
      this(
          requestId,
          principal,
          operation,
          keyArn,
          contextKeys,
          outcome,
          error,
          account,
          keyAccount,
          requestMetadata,
          null,
          null);
    }

    /** A record that names no account and carries no requestMetadata. */
    public Entry(
        String requestId,
        String principal,
        String operation,
        String keyArn,
        List<String> contextKeys,
        String outcome,
        String error) {
      this(requestId, principal, operation, keyArn, contextKeys, outcome, error, null, null);
    }

    /** A record without requestMetadata (every request but the XKS proxy API's). */
    public Entry(
        String requestId,
        String principal,
        String operation,
        String keyArn,
        List<String> contextKeys,
        String outcome,
        String error,
        String account,
        String keyAccount) {
      this(
          requestId,
          principal,
          operation,
          keyArn,
          contextKeys,
          outcome,
          error,
          account,
          keyAccount,
          Map.of());
    }
  }

  private final Sink sink;
  private final Signer signer;

  /** Writes the anchor off the request path; null without an anchor. */
  private final AnchorWriter anchorWriter;

  private final int checkpointRecords;
  private final Duration checkpointInterval;
  private final Clock clock;

  /** Kept: looking the algorithm up per record costs more than hashing it. Used under the lock. */
  private final MessageDigest digest = newSha256();

  private long seq;
  private String prev;
  private int sinceCheckpoint;
  private Instant lastCheckpoint;

  /** A write of the anchor failed: the next record writes a checkpoint again. */
  private volatile boolean anchorFailed;

  AuditLog(
      Sink sink,
      Signer signer,
      int checkpointRecords,
      Duration checkpointInterval,
      Clock clock,
      long lastSeq,
      String lastHash) {
    this(sink, signer, null, checkpointRecords, checkpointInterval, clock, lastSeq, lastHash);
  }

  private AuditLog(
      Sink sink,
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
    this.prev = lastHash;
    this.lastCheckpoint = clock.instant();
  }

  /**
   * Opens (or creates) the log file and continues its chain, with no anchor: a log cut back at a
   * checkpoint goes unnoticed. The server opens it with its anchor.
   */
  public static AuditLog open(
      Path file, Signer signer, int checkpointRecords, Duration checkpointInterval, Clock clock) {
    return open(file, signer, null, checkpointRecords, checkpointInterval, clock, s -> s);
  }

  /** As above, with the file sink wrapped (tests inject write failures). */
  public static AuditLog open(
      Path file,
      Signer signer,
      int checkpointRecords,
      Duration checkpointInterval,
      Clock clock,
      java.util.function.UnaryOperator<Sink> wrap) {
    return open(file, signer, null, checkpointRecords, checkpointInterval, clock, wrap);
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

  /** As above, with the file sink wrapped; {@code anchor} may be null (none). */
  static AuditLog open(
      Path file,
      Signer signer,
      AuditAnchor anchor,
      int checkpointRecords,
      Duration checkpointInterval,
      Clock clock,
      java.util.function.UnaryOperator<Sink> wrap) {
    Optional<AuditHead> anchored = anchor == null ? Optional.empty() : readAnchor(anchor);
    AuditLog log;
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      long lastSeq = 0;
      String lastHash = GENESIS;
      if (Files.exists(file)) {
        Optional<String> last = LastLine.of(file);
        if (last.isPresent()) {
          lastHash = sha256(last.get());
          lastSeq = JSON.readTree(last.get()).path("seq").asLong();
        }
      }
      if (anchored.isPresent() && anchored.get().seq() > lastSeq) {
        // The file does not reach its anchor: chain on from the anchor, so that the gap shows.
        lastSeq = anchored.get().seq();
        lastHash = anchored.get().hash();
      }
      log =
          new AuditLog(
              wrap.apply(new FileSink(file)),
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

  /** The first record of each open: the anchor found (null when none). */
  private synchronized void writeStart(Optional<AuditHead> anchored) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("seq", seq + 1);
    r.put("type", "start");
    r.put("time", clock.instant().toString());
    if (anchored.isPresent()) {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("seq", anchored.get().seq());
      a.put("hash", anchored.get().hash());
      r.put("anchor", a);
    } else {
      r.put("anchor", null);
    }
    r.put("prev", prev);
    write(r);
    sinceCheckpoint++;
  }

  /**
   * Appends one record, and a checkpoint when one is due.
   *
   * @throws AuditException when the record cannot be written
   */
  public void append(Entry e) {
    // The file check (a stat) and the record's own fields run outside the lock every request takes.
    ensureWritable();
    String fields = requestFields(e);
    AuditHead checkpoint = appendChecked(fields);
    if (checkpoint != null) {
      flush();
      anchor(checkpoint);
    }
  }

  /**
   * Appends under the lock; the checkpoint written too, if one was due (to be flushed and anchored
   * by the caller), else null.
   */
  private synchronized AuditHead appendChecked(String requestFields) {
    writeChecked(requestLine(requestFields));
    sinceCheckpoint++;
    if (sinceCheckpoint >= checkpointRecords
        || anchorFailed
        || !clock.instant().isBefore(lastCheckpoint.plus(checkpointInterval))) {
      anchorFailed = false;
      return writeCheckpoint();
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
   */
  public void checkpoint() {
    AuditHead checkpoint;
    synchronized (this) {
      checkpoint = writeCheckpoint();
    }
    flush();
    anchor(checkpoint);
  }

  /**
   * Writes a signed checkpoint line; under the lock (its MAC covers the chain's head). Returns its
   * sequence number and hash.
   */
  private AuditHead writeCheckpoint() {
    String time = clock.instant().toString();
    byte[] mac;
    try {
      mac = signer.sign(checkpointBytes(seq + 1, time, prev));
    } catch (RuntimeException e) {
      throw new AuditException("cannot sign an audit checkpoint", e);
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("seq", seq + 1);
    r.put("type", "checkpoint");
    r.put("time", time);
    r.put("prev", prev);
    r.put("mac", Base64.getEncoder().encodeToString(mac));
    write(r);
    sinceCheckpoint = 0;
    lastCheckpoint = clock.instant();
    return new AuditHead(seq, prev);
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

  /** The bytes a checkpoint's MAC covers. */
  static byte[] checkpointBytes(long seq, String time, String prev) {
    return ("p11kms-audit-checkpoint|" + seq + "|" + time + "|" + prev)
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A request's line, the same JSON as a map of its fields would give: its place in the chain
   * ({@code seq}, {@code time}, {@code prev}) around the fields {@link #requestFields} wrote before
   * the lock was taken. Under the lock.
   */
  private String requestLine(String requestFields) {
    return "{\"seq\":"
        + (seq + 1)
        + ",\"type\":\"request\",\"time\":\""
        + clock.instant()
        + "\","
        + requestFields
        + ",\"prev\":\""
        + prev
        + "\"}";
  }

  /**
   * The fields of a request's line from {@code requestId} to {@code requestMetadata}, as JSON
   * members without the braces, written field by field: one per call, and a map and the
   * serializer's look-ups cost more than the writing. Outside the lock: they depend on the request
   * alone.
   */
  private static String requestFields(Entry e) {
    StringWriter out = new StringWriter(512);
    try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("requestId", e.requestId());
      g.writeStringField("principal", e.principal());
      if (e.account() != null) {
        g.writeStringField("account", e.account());
      }
      if (e.onBehalfOf() != null) {
        g.writeStringField("onBehalfOf", e.onBehalfOf());
        g.writeStringField("onBehalfOfAccount", e.onBehalfOfAccount());
      }
      g.writeStringField("operation", e.operation());
      g.writeStringField("keyArn", e.keyArn());
      if (e.keyAccount() != null) {
        g.writeStringField("keyAccount", e.keyAccount());
      }
      if (e.contextKeys() == null) {
        g.writeNullField("contextKeys");
      } else {
        g.writeArrayFieldStart("contextKeys");
        for (String key : e.contextKeys()) {
          g.writeString(key);
        }
        g.writeEndArray();
      }
      g.writeStringField("outcome", e.outcome());
      g.writeStringField("error", e.error());
      if (e.requestMetadata() != null && !e.requestMetadata().isEmpty()) {
        g.writeObjectFieldStart("requestMetadata");
        for (Map.Entry<String, String> m :
            new java.util.TreeMap<>(e.requestMetadata()).entrySet()) {
          g.writeStringField(m.getKey(), m.getValue());
        }
        g.writeEndObject();
      }
      g.writeEndObject();
    } catch (IOException | RuntimeException x) {
      throw new AuditException("cannot encode an audit record", x);
    }
    StringBuffer object = out.getBuffer();
    return object.substring(1, object.length() - 1);
  }

  private void write(Map<String, Object> r) {
    try {
      writeLine(JSON.writeValueAsString(r));
    } catch (JsonProcessingException e) {
      throw new AuditException("cannot encode an audit record", e);
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
    prev = HexFormat.of().formatHex(digest.digest(bytes));
  }

  static String sha256(String line) {
    return HexFormat.of().formatHex(newSha256().digest(line.getBytes(StandardCharsets.UTF_8)));
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
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

  /**
   * Appends to a file; a line is written with one write call. An open file that was removed or
   * replaced (its directory deleted, the file moved away) still takes writes that nobody will read,
   * so every write first checks that the path still names the file this sink opened.
   */
  static final class FileSink implements Sink {
    private static final byte[] NEWLINE = {'\n'};

    private final Path file;
    private final FileChannel channel;
    private final Object fileKey;

    FileSink(Path file) throws IOException {
      this.file = file;
      this.channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
      this.fileKey = fileKey(file);
    }

    private static Object fileKey(Path file) throws IOException {
      return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .fileKey();
    }

    @Override
    public void check() throws IOException {
      Object now;
      try {
        now = fileKey(file);
      } catch (NoSuchFileException e) {
        throw new IOException("the audit log file was removed", e);
      }
      if (fileKey != null && !fileKey.equals(now)) {
        throw new IOException("the audit log file was replaced");
      }
    }

    /** The line and its break in one gathering write (one system call on an appending file). */
    @Override
    public void write(byte[] line) throws IOException {
      ByteBuffer[] buffers = {ByteBuffer.wrap(line), ByteBuffer.wrap(NEWLINE)};
      while (buffers[1].hasRemaining()) {
        channel.write(buffers);
      }
    }

    @Override
    public void flush() throws IOException {
      channel.force(false);
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
