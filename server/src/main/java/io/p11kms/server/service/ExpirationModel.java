package io.p11kms.server.service;

/** Whether imported key material expires, as AWS KMS names it. Stored by name. */
public enum ExpirationModel {
  KEY_MATERIAL_EXPIRES,
  KEY_MATERIAL_DOES_NOT_EXPIRE
}
