package io.p11kms.server.store;

/** Which front end an access key signs for. */
public enum AccessKeyScope {
  /** The AWS KMS JSON API: SigV4 service {@code kms}. */
  KMS_API("kms"),
  /** The XKS proxy API: SigV4 service {@code kms-xks-proxy}. */
  XKS("kms-xks-proxy");

  private final String signingService;

  AccessKeyScope(String signingService) {
    this.signingService = signingService;
  }

  /** The SigV4 service name requests of this scope are signed for. */
  public String signingService() {
    return signingService;
  }

  /** The scope whose requests are signed for {@code service}; null for any other service. */
  public static AccessKeyScope ofSigningService(String service) {
    for (AccessKeyScope scope : values()) {
      if (scope.signingService.equals(service)) {
        return scope;
      }
    }
    return null;
  }
}
