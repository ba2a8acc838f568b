package io.p11kms.server.audit;

import io.p11kms.hsm.TokenAdministration;
import java.util.Comparator;
import java.util.Optional;

/**
 * Where the head of the audit log is anchored, out of the reach of whoever can change the log file:
 * the sequence number and hash of the last checkpoint on disk. A log cut back at a checkpoint, or
 * deleted, then no longer reaches its anchor: {@link AuditVerifier} reports it, and a server that
 * restarts on it chains its first record to the anchor instead.
 */
public interface AuditAnchor {
  /**
   * The anchored head, or empty when none was ever written.
   *
   * @throws AuditException when what is there is not a head
   */
  Optional<AuditHead> read();

  /** Anchors {@code head}, a checkpoint already on disk. */
  void write(AuditHead head);

  /**
   * The anchor in the token beside the audit key {@code auditKeyLabel}: a private data object
   * labelled {@link #label}, which only a logged-in user can read or change (so a user-PIN holder
   * can set it to any value; see docs/security.md). Of two (a replacement that stopped half-way)
   * the later one counts.
   */
  static AuditAnchor inToken(TokenAdministration hsm, String auditKeyLabel) {
    String label = label(auditKeyLabel);
    return new AuditAnchor() {
      @Override
      public Optional<AuditHead> read() {
        return hsm.readPrivateData(label).stream()
            .map(AuditHead::decode)
            .max(Comparator.comparingLong(AuditHead::seq));
      }

      @Override
      public void write(AuditHead head) {
        hsm.replacePrivateData(label, head.encode());
      }
    };
  }

  /** The label of the anchor's token object: {@code <audit key label>/anchor}. */
  static String label(String auditKeyLabel) {
    return auditKeyLabel + "/anchor";
  }
}
