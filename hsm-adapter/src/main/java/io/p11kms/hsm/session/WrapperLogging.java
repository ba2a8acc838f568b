package io.p11kms.hsm.session;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xipki.pkcs11.wrapper.StaticLogger;

/**
 * Routes ipkcs11wrapper's own log lines to SLF4J (logger {@code org.xipki.pkcs11}).
 *
 * <p>Why: by default the wrapper prints to standard output, at INFO, a line for every session it
 * opens. Its info lines go to DEBUG here. Its debug and trace levels are switched off for good:
 * there the wrapper dumps call arguments (templates, parameters, data), which must never reach a
 * log.
 */
final class WrapperLogging implements org.xipki.pkcs11.wrapper.Logger {
  private static final Logger LOG = LoggerFactory.getLogger("org.xipki.pkcs11");
  private static boolean installed;

  private WrapperLogging() {}

  static synchronized void install() {
    if (!installed) {
      StaticLogger.setLogger(new WrapperLogging());
      installed = true;
    }
  }

  @Override
  public void info(String format, Object... arguments) {
    LOG.debug(format, arguments);
  }

  @Override
  public void warn(String format, Object... arguments) {
    LOG.warn(format, arguments);
  }

  @Override
  public void error(String format, Object... arguments) {
    LOG.error(format, arguments);
  }

  @Override
  public void debug(String format, Object... arguments) {}

  @Override
  public void trace(String format, Object... arguments) {}

  @Override
  public boolean isDebugEnabled() {
    return false;
  }

  @Override
  public boolean isInfoEnabled() {
    return LOG.isDebugEnabled();
  }

  @Override
  public boolean isWarnEnabled() {
    return LOG.isWarnEnabled();
  }

  @Override
  public boolean isTraceEnabled() {
    return false;
  }
}
