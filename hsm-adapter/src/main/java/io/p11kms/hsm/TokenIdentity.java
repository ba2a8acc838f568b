package io.p11kms.hsm;

import org.xipki.pkcs11.wrapper.TokenInfo;

/**
 * What a token says it is (its CK_TOKEN_INFO), for health reports: nothing secret.
 *
 * @param manufacturer the manufacturer id, such as {@code SoftHSM project}
 * @param model the model, with the firmware version when the token gives one
 * @param serialNumber the token's serial number
 * @param label the token's label
 */
public record TokenIdentity(String manufacturer, String model, String serialNumber, String label) {
  /** For a token adapter that does not say. */
  public static final TokenIdentity UNKNOWN = new TokenIdentity("unknown", "unknown", "", "");

  /** What {@code info} says, trimmed; the model with the firmware version when there is one. */
  static TokenIdentity of(TokenInfo info) {
    String firmware = info.getFirmwareVersion() == null ? "" : info.getFirmwareVersion().toString();
    return new TokenIdentity(
        trimmed(info.getManufacturerID()),
        trimmed(info.getModel()) + (firmware.isEmpty() ? "" : " firmware " + firmware),
        trimmed(info.getSerialNumber()),
        trimmed(info.getLabel()));
  }

  private static String trimmed(String s) {
    return s == null ? "" : s.trim();
  }
}
