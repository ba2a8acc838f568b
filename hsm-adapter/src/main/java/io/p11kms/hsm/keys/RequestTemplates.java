package io.p11kms.hsm.keys;

import io.p11kms.hsm.session.DirectCalls;
import java.util.EnumMap;
import java.util.Map;
import org.xipki.pkcs11.wrapper.AttributeVector;

/**
 * The key templates of the request path, built once: the one-use derived key of every derived
 * encrypt and decrypt, and the backing key of every cache miss. Building one costs microseconds of
 * allocation (an attribute object per attribute, each with its native form), which a request should
 * not pay each time; {@link KeyTemplates} says what each template holds and why.
 *
 * <p>Shared by every thread: pass them to the token, never change them. The wrapper reads the
 * derived key's template into its native form on each call; the only value it rewrites in place is
 * CKA_KEY_TYPE, mapped to the vendor's code, which gives the same value again on the next call
 * ({@code RequestTemplatesTest} checks that they are unchanged after use). The backing key's is
 * laid out in native memory once per library instance ({@link DirectCalls}).
 */
public final class RequestTemplates {
  private static final AttributeVector DERIVED_FOR_ENCRYPT = KeyTemplates.derivedKey(true);
  private static final AttributeVector DERIVED_FOR_DECRYPT = KeyTemplates.derivedKey(false);
  private static final Map<BackingKeyUse, DirectCalls.Template> UNWRAPPED_PRIVATE =
      new EnumMap<>(BackingKeyUse.class);
  private static final Map<BackingKeyUse, DirectCalls.Template> UNWRAPPED_PUBLIC =
      new EnumMap<>(BackingKeyUse.class);

  static {
    for (BackingKeyUse use : BackingKeyUse.values()) {
      UNWRAPPED_PRIVATE.put(
          use, new DirectCalls.Template(KeyTemplates.unwrappedBackingKey(use, true)));
      UNWRAPPED_PUBLIC.put(
          use, new DirectCalls.Template(KeyTemplates.unwrappedBackingKey(use, false)));
    }
  }

  private RequestTemplates() {}

  /** {@link KeyTemplates#derivedKey}, shared. */
  public static AttributeVector derivedKey(boolean forEncrypt) {
    return forEncrypt ? DERIVED_FOR_ENCRYPT : DERIVED_FOR_DECRYPT;
  }

  /**
   * {@link KeyTemplates#unwrappedBackingKey}, shared, and laid out in native memory once per
   * library instance for {@link DirectCalls#unwrapKey}.
   */
  static DirectCalls.Template unwrappedBackingKey(BackingKeyUse use, boolean privateObject) {
    return (privateObject ? UNWRAPPED_PRIVATE : UNWRAPPED_PUBLIC).get(use);
  }
}
