package io.p11kms.server.xks;

import io.p11kms.hsm.TokenIdentity;
import io.p11kms.server.service.XksHealthCheck;

/**
 * GetHealthStatus's answer: this proxy (fleet size, vendor, model) and its one external key
 * manager, the token (vendor, id, model), ACTIVE when the cached deep check passed. When it failed
 * the request fails with that check's error (DependencyTimeoutException when the token did not
 * answer, else InternalException): a success promises that an Encrypt or Decrypt can run.
 */
public final class XksHealthReport {
  private final XksHealthCheck check;
  private final int fleetSize;
  private final String model;

  public XksHealthReport(XksHealthCheck check, int fleetSize) {
    this.check = check;
    this.fleetSize = fleetSize;
    String version = XksHealthReport.class.getPackage().getImplementationVersion();
    this.model = "p11kms XKS proxy " + (version == null ? "development build" : version);
  }

  /**
   * The report as JSON.
   *
   * @throws io.p11kms.server.service.KmsException the failure of the latest check
   */
  String json() {
    XksHealthCheck.Result result = check.current();
    if (!result.healthy()) {
      throw result.failure();
    }
    TokenIdentity token = check.identity();
    String id = token.serialNumber().isEmpty() ? token.label() : token.serialNumber();
    return XksJson.health(
        fleetSize,
        model,
        token.manufacturer(),
        id.isEmpty() ? "token-1" : id,
        token.model(),
        "ACTIVE");
  }
}
