package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.p11kms.server.service.DomainKeyRewrap;
import io.p11kms.server.sigv4.AccessKeyService;
import io.p11kms.server.sigv4.AccessKeySigningKeys;
import io.p11kms.server.store.AccessKeyRecord;
import io.p11kms.server.store.AccessKeyScope;
import io.p11kms.server.store.AccessKeys;
import io.p11kms.server.store.DomainKeyKind;
import io.p11kms.server.store.KeyStore;
import io.p11kms.server.store.KeyStores;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A domain-key rotation moves access keys' secrets too: after the SO makes generation 2 and the
 * server re-wraps, the secret's EKT is under HMAC domain key generation 2 and gives the same
 * signing key, and generation 1 is retired only once nothing refers to it.
 */
class AccessKeyDomainKeyRotationIT {
  private KmsTestServer server;
  private KeyStore store;

  @BeforeEach
  void startServer() throws Exception {
    server = KmsTestServer.start();
    store = KeyStores.open("jdbc:sqlite:" + server.database());
  }

  @AfterEach
  void stopServer() throws Exception {
    store.close();
    server.close();
  }

  @Test
  void afterRewrap_theAccessKeyIsUnderGenerationTwo_andSignsTheSame() throws Exception {
    AccessKeys keys = AccessKeys.of(store);
    AccessKeyService.NewAccessKey created =
        new AccessKeyService(server.hsm(), keys, Clock.systemUTC())
            .create("111122223333", "arn:aws:iam::111122223333:user/alice", AccessKeyScope.KMS_API);
    created.clearSecret();
    String id = created.record().accessKeyId();
    String today = LocalDate.now(ZoneOffset.UTC).format(DateTimeFormatter.BASIC_ISO_DATE);
    var before =
        new AccessKeySigningKeys(keys, server.hsm(), Duration.ZERO)
            .find(id, today, "local-1", "kms")
            .orElseThrow();

    SoCeremony.createGeneration(server.token(), 2);
    DomainKeyRewrap.Result result = server.rewrapDomainKeys();

    AccessKeyRecord moved = keys.find(id).orElseThrow();
    assertThat(moved.domainKeyGeneration()).isEqualTo(2);
    assertThat(moved.domainKeyKind()).isEqualTo(DomainKeyKind.HMAC);
    assertThat(result.rewrapped()).isEqualTo(1);
    assertThat(result.retiredGenerations()).containsExactly(1);
    var after =
        new AccessKeySigningKeys(keys, server.hsm(), Duration.ZERO)
            .find(id, today, "local-1", "kms")
            .orElseThrow();
    assertThat(after.caller()).isEqualTo(before.caller());
    assertThat(after.sameKeyAs(before)).as("the same secret inside the token").isTrue();
  }
}
