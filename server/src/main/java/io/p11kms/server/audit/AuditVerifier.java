package io.p11kms.server.audit;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks an audit log: the hash chain, the sequence numbers and the checkpoint MACs, the links the
 * server's {@code start} records make to the anchor it found, and the log's head against the anchor
 * now in the token. Names the first record that was edited, inserted, dropped or reordered, and a
 * log that was cut back or deleted before its anchor.
 */
public final class AuditVerifier {
  /** Checks a checkpoint's MAC (in the token). */
  @FunctionalInterface
  public interface MacCheck {
    boolean verify(byte[] data, byte[] mac);
  }

  /**
   * The verdict: {@code ok}, or the first problem with its line (1-based) and record number; notes
   * say what an intact log still cannot show.
   */
  public record Result(
      boolean ok, String problem, int line, long seq, int checkpoints, List<String> notes) {
    public Result {
      notes = List.copyOf(notes);
    }

    @Override
    public String toString() {
      return ok
          ? "audit log OK: " + line + " lines, " + checkpoints + " signed checkpoints"
          : "audit log TAMPERED at line " + line + ": " + problem;
    }
  }

  private AuditVerifier() {}

  /** Checks {@code lines} alone, without an anchor. */
  public static Result verify(List<String> lines, MacCheck macs) {
    return new Run(lines, macs).verify(false, Optional.empty());
  }

  /**
   * Checks {@code lines} (one log file, or several in the order written) and their head against
   * {@code anchor}, the one the token holds now (empty when it holds none). Read the anchor before
   * the files: the server anchors a checkpoint only once it is on disk.
   */
  public static Result verify(List<String> lines, MacCheck macs, Optional<AuditHead> anchor) {
    return new Run(lines, macs).verify(true, anchor);
  }

  private static final class Run {
    private final List<String> lines;
    private final MacCheck macs;
    private final Map<Long, String> checkpoints = new HashMap<>();

    /**
     * The hash of each line since the last checkpoint (that one included), by sequence number: a
     * checkpoint's MAC may cover a head before its own line, never one before the last checkpoint.
     */
    private final Map<Long, String> sinceCheckpoint = new HashMap<>();

    private final List<String> notes = new ArrayList<>();
    private long firstSeq = 1;

    /** A start record was seen, and a checkpoint after it: that server kept an anchor. */
    private boolean anchorKept;

    private boolean started;

    Run(List<String> lines, MacCheck macs) {
      this.lines = lines;
      this.macs = macs;
    }

    Result verify(boolean checkAnchor, Optional<AuditHead> anchor) {
      String prev = AuditLines.GENESIS;
      long expected = 1;
      Set<Long> seen = new HashSet<>();
      for (int i = 0; i < lines.size(); i++) {
        int lineNo = i + 1;
        JsonNode r;
        try {
          r = AuditLines.JSON.readTree(lines.get(i));
        } catch (Exception e) {
          r = null;
        }
        if (r == null || !r.path("seq").canConvertToLong() || !r.has("prev")) {
          return bad("line is not an audit record (edited or inserted)", lineNo, -1);
        }
        long seq = r.path("seq").asLong();
        String type = r.path("type").asText();
        if (i == 0) {
          firstSeq = seq;
        }
        if (type.equals("start")) {
          Link link = link(r, seq, expected, prev, lineNo);
          if (link.problem != null) {
            return bad(link.problem, lineNo, link.seq);
          }
          if (link.chainsToAnchor) {
            prev = r.path("prev").asText();
            expected = seq;
            sinceCheckpoint.clear();
            sinceCheckpoint.put(seq - 1, prev);
          }
          started = true;
        }
        if (seq == expected) {
          if (!r.path("prev").asText().equals(prev)) {
            return seq == 1
                ? bad("record 1 was edited or a record was inserted before it", lineNo, 1)
                : bad("record " + (seq - 1) + " (line " + i + ") was edited", i, seq - 1);
          }
        } else if (seq > expected) {
          if (later(i + 1, expected)) {
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
        if (type.equals("checkpoint")) {
          // The head its MAC covers: the line before it, or the one it names (records appended
          // while the token signed).
          long coveredSeq = seq - 1;
          String coveredHash = prev;
          JsonNode covers = r.path("covers");
          if (!covers.isMissingNode()) {
            coveredSeq = covers.path("seq").asLong(-1);
            coveredHash = covers.path("hash").asText();
            if (!coveredHash.equals(sinceCheckpoint.get(coveredSeq))) {
              return bad(
                  "checkpoint "
                      + seq
                      + " covers a record that is not among those before it since"
                      + " the last checkpoint (edited)",
                  lineNo,
                  seq);
            }
          }
          byte[] data =
              AuditLines.checkpointBytes(coveredSeq + 1, r.path("time").asText(), coveredHash);
          byte[] mac;
          try {
            mac = Base64.getDecoder().decode(r.path("mac").asText());
          } catch (IllegalArgumentException e) {
            mac = new byte[0];
          }
          if (!macs.verify(data, mac)) {
            return bad("checkpoint " + seq + " has a bad signature (edited)", lineNo, seq);
          }
          checkpoints.put(seq, AuditLines.sha256(lines.get(i)));
          anchorKept |= started;
          sinceCheckpoint.clear();
        }
        seen.add(seq);
        prev = AuditLines.sha256(lines.get(i));
        sinceCheckpoint.put(seq, prev);
        expected = seq + 1;
      }
      long last = expected - 1;
      if (checkAnchor) {
        Result head = checkHead(anchor, last);
        if (head != null) {
          return head;
        }
      }
      return new Result(true, null, lines.size(), last, checkpoints.size(), notes);
    }

    private record Link(boolean chainsToAnchor, String problem, long seq) {}

    /**
     * A start record: the server found {@code anchor} in the token. It chains to the line before
     * when the log reached the anchor, else to the anchor itself.
     */
    private Link link(JsonNode r, long seq, long expected, String prev, int lineNo) {
      JsonNode a = r.path("anchor");
      if (a.isNull() || a.isMissingNode()) {
        if (anchorKept) {
          return new Link(
              false,
              "the server restarted here without an anchor in the token, though the server before"
                  + " it kept one (the anchor was removed)",
              seq);
        }
        return new Link(false, null, seq);
      }
      long anchorSeq = a.path("seq").asLong();
      String anchorHash = a.path("hash").asText();
      boolean continues = seq == expected && r.path("prev").asText().equals(prev);
      boolean toAnchor = seq == anchorSeq + 1 && r.path("prev").asText().equals(anchorHash);
      if (continues) {
        if (anchorSeq >= firstSeq && !anchorHash.equals(checkpoints.get(anchorSeq))) {
          return new Link(
              false,
              "at this restart the token's anchor was checkpoint "
                  + anchorSeq
                  + ", which the log before it does not hold (cut back and rewritten)",
              anchorSeq);
        }
        return new Link(false, null, seq);
      }
      if (!toAnchor) {
        // Neither: the ordinary checks name what was changed.
        return new Link(false, null, seq);
      }
      if (lineNo == 1) {
        return new Link(
            false,
            "the log begins at record "
                + seq
                + ", after checkpoint "
                + anchorSeq
                + " of an earlier log: records 1-"
                + anchorSeq
                + " are missing (deleted; to verify across files, give the earlier ones first)",
            1);
      }
      if (anchorSeq > expected - 1) {
        return new Link(
            false,
            "records "
                + expected
                + "-"
                + anchorSeq
                + " are missing: when the server restarted here the log ended at record "
                + (expected - 1)
                + " but the token's anchor was checkpoint "
                + anchorSeq
                + " (the log was cut back)",
            expected);
      }
      if (!anchorHash.equals(checkpoints.get(anchorSeq))) {
        return new Link(
            false,
            "the server restarted here after checkpoint "
                + anchorSeq
                + ", which the log before it does not hold (edited)",
            anchorSeq);
      }
      notes.add(
          "records "
              + (anchorSeq + 1)
              + "-"
              + (expected - 1)
              + " followed checkpoint "
              + anchorSeq
              + " unsigned and were not carried on: the server restarted from that checkpoint"
              + " at line "
              + lineNo
              + " (after a crash)");
      return new Link(true, null, seq);
    }

    /** The log's head against the token's anchor now; null when they agree. */
    private Result checkHead(Optional<AuditHead> anchor, long last) {
      if (anchor.isEmpty()) {
        if (anchorKept) {
          return bad(
              "the token holds no anchor, though the server that wrote this log kept one (the"
                  + " anchor was removed)",
              lines.size(),
              last);
        }
        notes.add(
            "the token holds no anchor: a log cut back at a checkpoint would not be detected");
        return null;
      }
      AuditHead head = anchor.get();
      if (head.seq() > last) {
        return bad(
            "the log is shorter than its anchor: the token's anchor is checkpoint "
                + head.seq()
                + ", the log ends at record "
                + last
                + " (cut back, or a later file is missing)",
            lines.size(),
            last);
      }
      if (head.seq() >= firstSeq && !head.hash().equals(checkpoints.get(head.seq()))) {
        return bad(
            "the token's anchor is checkpoint "
                + head.seq()
                + ", which this log does not hold (record "
                + head.seq()
                + " was replaced)",
            lines.size(),
            head.seq());
      }
      return null;
    }

    private boolean later(int from, long seq) {
      for (int j = from; j < lines.size(); j++) {
        try {
          if (AuditLines.JSON.readTree(lines.get(j)).path("seq").asLong() == seq) {
            return true;
          }
        } catch (Exception e) {
          // not a record
        }
      }
      return false;
    }

    private Result bad(String problem, int line, long seq) {
      return new Result(false, problem, line, seq, 0, notes);
    }
  }
}
