package io.p11kms.server.xks;

import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.service.XksDecryptInput;
import io.p11kms.server.service.XksEncryptInput;
import java.util.Map;

/**
 * One XKS proxy API request as the service reads it: the external key id of its path, its
 * requestMetadata, and the parameters of an Encrypt or Decrypt (null for the other operations).
 */
record XksRequest(
    String externalKeyId,
    Map<String, String> requestMetadata,
    XksEncryptInput encrypt,
    XksDecryptInput decrypt)
    implements OperationRequest {}
