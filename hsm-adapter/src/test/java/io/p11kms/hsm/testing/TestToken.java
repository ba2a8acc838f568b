package io.p11kms.hsm.testing;

import io.p11kms.hsm.HsmConfig;
import java.nio.file.Path;

/** A throwaway token of some PKCS#11 implementation, in a temporary directory of its own. */
public interface TestToken extends AutoCloseable {
  /** A configuration for {@code Pkcs11Hsm.open} and the doctor, with the default pool bounds. */
  HsmConfig hsmConfig();

  /** The token label. */
  String label();

  /** The PKCS#11 library. */
  Path modulePath();

  /** A file (mode 0600) holding the user PIN, without a newline. */
  Path userPinFile();

  /** Deletes the token's files. */
  @Override
  void close();
}
