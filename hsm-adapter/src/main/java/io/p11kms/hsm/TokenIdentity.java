package io.p11kms.hsm;

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
}
