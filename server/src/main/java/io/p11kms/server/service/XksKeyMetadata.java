package io.p11kms.server.service;

import java.util.List;

/**
 * What the XKS proxy API's GetKeyMetadata says of an exposed key.
 *
 * @param keyUsage {@code ENCRYPT}, {@code DECRYPT} or both, as the key was exposed
 * @param keyStatus {@code ENABLED} while the key is enabled, else {@code DISABLED}
 */
public record XksKeyMetadata(List<String> keyUsage, String keyStatus) {
  /** The only key spec of version 1 of the XKS proxy API. */
  public static final String KEY_SPEC = "AES_256";

  public XksKeyMetadata {
    keyUsage = List.copyOf(keyUsage);
  }

  public String keySpec() {
    return KEY_SPEC;
  }
}
