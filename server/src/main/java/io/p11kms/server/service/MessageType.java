package io.p11kms.server.service;

/** What Sign and Verify are given: the message (hashed by the service) or its digest. */
public enum MessageType {
  RAW,
  DIGEST
}
