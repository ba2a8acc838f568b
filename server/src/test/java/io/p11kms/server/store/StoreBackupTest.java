package io.p11kms.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreBackupTest {
  @TempDir Path dir;

  private String url(String name) {
    return "jdbc:sqlite:" + dir.resolve(name);
  }

  private static String export(String url) throws Exception {
    StringWriter text = new StringWriter();
    try (BufferedWriter out = new BufferedWriter(text)) {
      StoreBackup.export(url, out);
    }
    return text.toString();
  }

  private static StoreBackup.Counts importText(String url, String text) throws Exception {
    return StoreBackup.importInto(url, new BufferedReader(new StringReader(text)));
  }

  private UUID fillSource(String url) {
    UUID keyId = UUID.randomUUID();
    try (KeyStore store = KeyStores.open(url)) {
      store.createKey(
          StoreContractPart.key(keyId),
          StoreContractPart.version(keyId, 1),
          Map.of("team", "payments"));
      store.createAlias(
          new AliasRecord("alias/payments", keyId, Instant.now(), Instant.now()), "ENABLED");
      UUID other = UUID.randomUUID();
      store.createKey(StoreContractPart.key(other), StoreContractPart.version(other, 1));
    }
    return keyId;
  }

  @Test
  void exportThenImport_intoEmptyStore_restoresKeysVersionsAliasesAndTags() throws Exception {
    UUID keyId = fillSource(url("source.db"));
    String backup = export(url("source.db"));

    StoreBackup.Counts counts = importText(url("target.db"), backup);

    assertThat(counts.of("keys")).isEqualTo(2);
    assertThat(counts.of("key_versions")).isEqualTo(2);
    assertThat(counts.of("aliases")).isEqualTo(1);
    assertThat(counts.of("key_tags")).isEqualTo(1);
    try (KeyStore source = KeyStores.open(url("source.db"));
        KeyStore target = KeyStores.open(url("target.db"))) {
      assertThat(target.findKey(keyId)).isEqualTo(source.findKey(keyId));
      assertThat(target.findLatestVersion(keyId)).isEqualTo(source.findLatestVersion(keyId));
      assertThat(target.findAlias("alias/payments")).isEqualTo(source.findAlias("alias/payments"));
      assertThat(target.listTags(keyId, 10, Optional.empty()).items())
          .containsExactly(new TagRecord("team", "payments"));
      assertThat(target.countKeys()).isEqualTo(2);
    }
  }

  @Test
  void export_holdsNoPlainKeyMaterial_onlyTheEktBase64() throws Exception {
    fillSource(url("source.db"));
    String backup = export(url("source.db"));

    assertThat(backup.lines().findFirst().orElseThrow())
        .contains("\"format\":\"p11kms-store-backup\"", "\"formatVersion\":1");
    assertThat(backup).contains("\"base64\":");
  }

  @Test
  void import_intoNonEmptyStore_isRefusedAndChangesNothing() throws Exception {
    fillSource(url("source.db"));
    String backup = export(url("source.db"));
    fillSource(url("target.db"));

    assertThatThrownBy(() -> importText(url("target.db"), backup))
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("not empty");
    try (KeyStore target = KeyStores.open(url("target.db"))) {
      assertThat(target.countKeys()).isEqualTo(2);
    }
  }

  @Test
  void import_truncatedFile_rollsBackEverything() throws Exception {
    fillSource(url("source.db"));
    String backup = export(url("source.db"));
    String truncated =
        String.join("\n", backup.lines().limit(backup.lines().count() - 1).toList()) + "\n";

    assertThatThrownBy(() -> importText(url("target.db"), truncated))
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("truncated");
    try (KeyStore target = KeyStores.open(url("target.db"))) {
      assertThat(target.countKeys()).isZero();
    }
  }

  @Test
  void import_notABackup_isRefused() {
    assertThatThrownBy(() -> importText(url("target.db"), "{\"hello\":1}\n"))
        .isInstanceOf(KeyStoreException.class)
        .hasMessageContaining("not a p11kms store backup");
  }
}
