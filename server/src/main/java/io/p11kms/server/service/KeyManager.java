package io.p11kms.server.service;

/**
 * Who manages a key, as DescribeKey's KeyManager says: the account itself ({@link #CUSTOMER}), or a
 * registered service ({@link #AWS}: a service-managed key, the seed's "AWS managed key"). A
 * service-owned key (the seed's "AWS owned key") is stored as {@link #SERVICE_OWNED} and described,
 * to the service that owns it only, as AWS.
 */
public enum KeyManager {
  CUSTOMER,
  AWS,
  SERVICE_OWNED;

  /** The value DescribeKey shows. */
  public KeyManager shown() {
    return this == SERVICE_OWNED ? AWS : this;
  }
}
