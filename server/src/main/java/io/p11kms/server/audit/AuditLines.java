package io.p11kms.server.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The audit log's lines, as the log writes them and the verifier reads them: one JSON object per
 * line, each with its sequence number, type ({@code request}, {@code checkpoint}, {@code start}),
 * time and {@code prev}, the SHA-256 of the line before.
 */
final class AuditLines {
  /** The {@code prev} of the first line. */
  static final String GENESIS = "0".repeat(64);

  static final ObjectMapper JSON = new ObjectMapper();

  private AuditLines() {}

  /**
   * Writes the fields of a request's line, from {@code requestId} to {@code requestMetadata}, to
   * {@code out} as one JSON object, field by field: one per call, and a map and the serializer's
   * look-ups cost more than the writing. They depend on the request alone, so the log writes them
   * before it takes its lock.
   */
  static void requestFields(AuditEntry e, Writer out) {
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
      if (!e.requestMetadata().isEmpty()) {
        g.writeObjectFieldStart("requestMetadata");
        for (Map.Entry<String, String> m : new TreeMap<>(e.requestMetadata()).entrySet()) {
          g.writeStringField(m.getKey(), m.getValue());
        }
        g.writeEndObject();
      }
      g.writeEndObject();
    } catch (IOException | RuntimeException x) {
      throw new AuditException("cannot encode an audit record", x);
    }
  }

  /** The first line of each open: the anchor found (null when none). */
  static String start(long seq, String time, Optional<AuditHead> anchored, String prev) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("seq", seq);
    r.put("type", "start");
    r.put("time", time);
    if (anchored.isPresent()) {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("seq", anchored.get().seq());
      a.put("hash", anchored.get().hash());
      r.put("anchor", a);
    } else {
      r.put("anchor", null);
    }
    r.put("prev", prev);
    return json(r);
  }

  /**
   * A checkpoint's line: its {@code mac} covers {@link #checkpointBytes} of the head it was signed
   * over, record {@code coveredSeq} with hash {@code coveredHash}. That is the line before it (its
   * {@code prev}) unless records were appended while the token signed: then the line names the head
   * it covers ({@code covers}).
   */
  static String checkpoint(
      long seq, String time, String prev, long coveredSeq, String coveredHash, byte[] mac) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("seq", seq);
    r.put("type", "checkpoint");
    r.put("time", time);
    r.put("prev", prev);
    if (coveredSeq != seq - 1) {
      Map<String, Object> covers = new LinkedHashMap<>();
      covers.put("seq", coveredSeq);
      covers.put("hash", coveredHash);
      r.put("covers", covers);
    }
    r.put("mac", Base64.getEncoder().encodeToString(mac));
    return json(r);
  }

  /**
   * The bytes a checkpoint's MAC covers: the head it covers (the sequence number after it, the
   * checkpoint's time, the hash of its last record).
   */
  static byte[] checkpointBytes(long seq, String time, String prev) {
    return ("p11kms-audit-checkpoint|" + seq + "|" + time + "|" + prev)
        .getBytes(StandardCharsets.UTF_8);
  }

  /** The sequence number of {@code line}. */
  static long seq(String line) throws IOException {
    return JSON.readTree(line).path("seq").asLong();
  }

  /** The {@code prev} of the line after {@code line}. */
  static String sha256(String line) {
    return sha256(newSha256(), line.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * As {@link #sha256(String)}, of the line's UTF-8 bytes, with a digest the caller keeps (looking
   * one up costs more).
   */
  static String sha256(MessageDigest digest, byte[] line) {
    return HexFormat.of().formatHex(digest.digest(line));
  }

  static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String json(Map<String, Object> r) {
    try {
      return JSON.writeValueAsString(r);
    } catch (JsonProcessingException e) {
      throw new AuditException("cannot encode an audit record", e);
    }
  }
}
