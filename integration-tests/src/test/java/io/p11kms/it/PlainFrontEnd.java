package io.p11kms.it;

import io.p11kms.server.access.AccessControl;
import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.config.KeyArns;
import io.p11kms.server.service.CryptoService;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.Operation;
import io.p11kms.server.store.KeyStore;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A front end of a few lines beside gRPC: plain Java values in, the service's results or its {@code
 * KmsException} out, through the same {@link AccessControl} entry point, so the same validation,
 * authorisation, audit record and errors. Its codec is the record below and the switch.
 */
final class PlainFrontEnd {
  /** A request as plain values. */
  record Request(
      String keyId,
      byte[] plaintext,
      byte[] ciphertextBlob,
      Map<String, String> encryptionContext,
      List<String> grantTokens)
      implements OperationRequest {}

  private final AccessControl control;
  private final KeyService keys;
  private final CryptoService crypto;

  PlainFrontEnd(AccessControl control, io.p11kms.hsm.Hsm hsm, KeyStore store, KeyArns arns) {
    this.control = control;
    this.keys = new KeyService(hsm, store, arns, Clock.systemUTC());
    this.crypto = new CryptoService(hsm, store, keys);
  }

  /** Runs {@code op} for {@code principal}; the service's result. */
  Object call(String principal, Operation op, Request r) {
    return control.run(
        principal,
        "plain-" + UUID.randomUUID(),
        op,
        null,
        r,
        control.lookup(),
        lookup ->
            switch (op) {
              case ENCRYPT ->
                  crypto.encrypt(lookup, r.keyId(), r.plaintext(), r.encryptionContext());
              case DECRYPT ->
                  crypto.decrypt(lookup, r.ciphertextBlob(), r.encryptionContext(), r.keyId());
              case DESCRIBE_KEY -> keys.describeKey(r.keyId());
              default -> throw new UnsupportedOperationException(op.awsName());
            });
  }
}
