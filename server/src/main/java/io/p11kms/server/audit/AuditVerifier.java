package io.p11kms.server.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks an audit log: the hash chain, the sequence numbers and the checkpoint MACs. Names the
 * first record that was edited, inserted, dropped or reordered.
 */
public final class AuditVerifier {
  /** Checks a checkpoint's MAC (in the token). */
  @FunctionalInterface
  public interface MacCheck {
    boolean verify(byte[] data, byte[] mac);
  }

  /** The verdict: {@code ok}, or the first problem with its line (1-based) and record number. */
  public record Result(boolean ok, String problem, int line, long seq, int checkpoints) {
    @Override
    public String toString() {
      return ok
          ? "audit log OK: " + line + " lines, " + checkpoints + " signed checkpoints"
          : "audit log TAMPERED at line " + line + ": " + problem;
    }
  }

  private AuditVerifier() {}

  public static Result verify(List<String> lines, MacCheck macs) {
    String prev = AuditLog.GENESIS;
    long expected = 1;
    Set<Long> seen = new HashSet<>();
    int checkpoints = 0;
    for (int i = 0; i < lines.size(); i++) {
      int lineNo = i + 1;
      JsonNode r;
      try {
        r = AuditLog.JSON.readTree(lines.get(i));
      } catch (Exception e) {
        r = null;
      }
      if (r == null || !r.path("seq").canConvertToLong() || !r.has("prev")) {
        return bad("line is not an audit record (edited or inserted)", lineNo, -1);
      }
      long seq = r.path("seq").asLong();
      if (seq == expected) {
        if (!r.path("prev").asText().equals(prev)) {
          return seq == 1
              ? bad("record 1 was edited or a record was inserted before it", lineNo, 1)
              : bad("record " + (seq - 1) + " (line " + i + ") was edited", i, seq - 1);
        }
      } else if (seq > expected) {
        if (later(lines, i + 1, expected)) {
          return bad(
              "record " + expected + " was reordered: record " + seq + " comes before it",
              lineNo,
              seq);
        }
        return bad(
            "record"
                + (seq - expected > 1 ? "s " + expected + "-" + (seq - 1) : " " + expected)
                + " dropped before record "
                + seq,
            lineNo,
            expected);
      } else {
        return bad(
            "record "
                + seq
                + " was inserted (record "
                + expected
                + " expected"
                + (seen.contains(seq) ? "; a copy of an earlier record" : "")
                + ")",
            lineNo,
            seq);
      }
      if (r.path("type").asText().equals("checkpoint")) {
        byte[] data = AuditLog.checkpointBytes(seq, r.path("time").asText(), prev);
        byte[] mac;
        try {
          mac = Base64.getDecoder().decode(r.path("mac").asText());
        } catch (IllegalArgumentException e) {
          mac = new byte[0];
        }
        if (!macs.verify(data, mac)) {
          return bad("checkpoint " + seq + " has a bad signature (edited)", lineNo, seq);
        }
        checkpoints++;
      }
      seen.add(seq);
      prev = AuditLog.sha256(lines.get(i));
      expected = seq + 1;
    }
    return new Result(true, null, lines.size(), expected - 1, checkpoints);
  }

  private static boolean later(List<String> lines, int from, long seq) {
    for (int j = from; j < lines.size(); j++) {
      try {
        if (AuditLog.JSON.readTree(lines.get(j)).path("seq").asLong() == seq) {
          return true;
        }
      } catch (Exception e) {
        // not a record
      }
    }
    return false;
  }

  private static Result bad(String problem, int line, long seq) {
    return new Result(false, problem, line, seq, 0);
  }
}
