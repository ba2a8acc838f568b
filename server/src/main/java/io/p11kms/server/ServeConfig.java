package io.p11kms.server;

import io.p11kms.server.awsjson.AwsApiConfig;
import io.p11kms.server.config.ConfigProperties;
import io.p11kms.server.config.MetricsConfig;
import io.p11kms.server.config.SecurityConfig;
import io.p11kms.server.config.ServerConfig;
import io.p11kms.server.xks.XksConfig;
import java.nio.file.Path;

/**
 * Everything {@code p11kms serve} reads from its configuration file, read once and validated part
 * by part before anything is opened: the server (listener, token, store, ARNs, tasks), who may call
 * and what is recorded, the metrics endpoint, the AWS KMS JSON API, the XKS proxy API and the
 * domain key rotation schedule.
 */
public record ServeConfig(
    ServerConfig server,
    SecurityConfig security,
    MetricsConfig metrics,
    AwsApiConfig awsApi,
    XksConfig xks,
    DomainKeyRotationSchedule.Settings domainKeyRotation) {

  /**
   * Reads {@code file} (UTF-8; relative paths resolve against its folder); {@code devMode} turns on
   * development mode as {@code dev.mode=true} does.
   */
  public static ServeConfig load(Path file, boolean devMode) {
    ConfigProperties p = ConfigProperties.load(file);
    ServerConfig server = ServerConfig.from(p);
    SecurityConfig security = SecurityConfig.from(p);
    return new ServeConfig(
        server,
        devMode ? security.withDevMode() : security,
        MetricsConfig.from(p),
        AwsApiConfig.from(p, server.listen().host(), server.listen().port()),
        XksConfig.from(p, server.listen().host()),
        DomainKeyRotationSchedule.from(p));
  }
}
