package io.p11kms.hsm.session;

import io.p11kms.hsm.HsmException;
import java.util.ArrayList;
import java.util.List;
import org.xipki.pkcs11.wrapper.PKCS11Exception;
import org.xipki.pkcs11.wrapper.PKCS11Module;
import org.xipki.pkcs11.wrapper.Slot;
import org.xipki.pkcs11.wrapper.Token;

/**
 * Finds a token by its label.
 *
 * <p>Why by label: slot numbers are not stable (SoftHSM2 renumbers slots when tokens are added),
 * labels are what the operator chose.
 */
public final class TokenFinder {
  private TokenFinder() {}

  /**
   * @throws HsmException naming the label when no present token has it
   */
  public static Token byLabel(PKCS11Module module, String label) throws PKCS11Exception {
    List<String> seen = new ArrayList<>();
    for (Slot slot : module.getSlotList(true)) {
      Token token = slot.getToken();
      String tokenLabel;
      try {
        tokenLabel = token.getTokenInfo().getLabel();
      } catch (PKCS11Exception e) {
        continue;
      }
      if (tokenLabel == null) {
        continue;
      }
      tokenLabel = tokenLabel.trim();
      if (tokenLabel.equals(label)) {
        return token;
      }
      if (!tokenLabel.isEmpty()) {
        seen.add(tokenLabel);
      }
    }
    throw new HsmException("no token labelled '" + label + "' (present: " + seen + ")");
  }
}
