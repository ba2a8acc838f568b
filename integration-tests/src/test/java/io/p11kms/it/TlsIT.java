package io.p11kms.it;

import static io.p11kms.it.KmsSecureTestServer.ALICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.p11kms.proto.v1.KeyManagementServiceGrpc.KeyManagementServiceBlockingStub;
import io.p11kms.proto.v1.ListKeysRequest;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Mutual TLS over a real port. The server requires a client certificate at the handshake, so a
 * client without a valid one never gets a gRPC call through: the handshake fails and the client
 * sees UNAVAILABLE (the transport could not be set up), not UNAUTHENTICATED, which only a call that
 * reached the server could carry. Each rejection is also absent from the audit log: no call, no
 * record.
 */
class TlsIT {
  private static KmsSecureTestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = KmsSecureTestServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void validClientCertificate_isServed_asItsSanUriPrincipal() throws Exception {
    server.client(ALICE).listKeys(ListKeysRequest.getDefaultInstance());
    assertThat(Files.readString(server.auditFile()))
        .contains(
            "\"principal\":\""
                + ALICE
                + "\",\"account\":\"111122223333\",\"operation\":\"ListKeys\"");
  }

  @Test
  void noClientCertificate_failsTheHandshake_unavailable() throws Exception {
    assertHandshakeRefused(server.clientWithoutCertificate(), "CERTIFICATE_REQUIRED");
  }

  @Test
  void expiredClientCertificate_failsTheHandshake_unavailable() throws Exception {
    assertHandshakeRefused(server.clientWithExpiredCertificate(ALICE), "CERTIFICATE_EXPIRED");
  }

  @Test
  void clientCertificateOfAnotherCa_failsTheHandshake_unavailable() throws Exception {
    // The server's CertificateRequest names the CAs it accepts; the client has no certificate
    // from them, so it sends none and the server answers as for no certificate at all.
    assertHandshakeRefused(server.clientSignedByAnotherCa(ALICE), "CERTIFICATE_REQUIRED");
  }

  private static void assertHandshakeRefused(KeyManagementServiceBlockingStub client, String alert)
      throws Exception {
    long before = Files.readAllLines(server.auditFile()).size();
    StatusRuntimeException e =
        catchThrowableOfType(
            StatusRuntimeException.class,
            () -> client.listKeys(ListKeysRequest.getDefaultInstance()));
    assertThat(e).as("the call should have been refused").isNotNull();
    System.out.println(
        "TlsIT: client sees "
            + e.getStatus().getCode()
            + " ("
            + e.getStatus().getDescription()
            + "), TLS alert "
            + alert);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(e.getStatus().getCause()).hasStackTraceContaining(alert);
    assertThat(Files.readAllLines(server.auditFile())).hasSize((int) before);
  }
}
