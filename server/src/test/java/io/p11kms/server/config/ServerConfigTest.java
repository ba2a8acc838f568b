package io.p11kms.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.p11kms.hsm.HsmConfig;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ServerConfigTest {
  @TempDir Path dir;

  private static Properties props(String... keyValues) {
    Properties p = new Properties();
    p.setProperty("hsm.token.label", "p11kms");
    p.setProperty("hsm.pin.env", "P11KMS_PIN");
    for (int i = 0; i < keyValues.length; i += 2) {
      if (keyValues[i + 1] == null) {
        p.remove(keyValues[i]);
      } else {
        p.setProperty(keyValues[i], keyValues[i + 1]);
      }
    }
    return p;
  }

  private ServerConfig config(String... keyValues) {
    return ServerConfig.fromProperties(props(keyValues), dir);
  }

  private void assertInvalid(String message, String... keyValues) {
    assertThatThrownBy(() -> config(keyValues))
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }

  @Test
  void fromProperties_minimal_usesDefaults() {
    ServerConfig c = config();
    assertThat(c.listen().host()).isEqualTo("127.0.0.1");
    assertThat(c.listen().port()).isEqualTo(7443);
    assertThat(c.hsm().module()).isEqualTo(Path.of("/usr/lib/softhsm/libsofthsm2.so"));
    assertThat(c.hsm().tokenLabel()).isEqualTo("p11kms");
    assertThat(c.hsm().pinFile()).isNull();
    assertThat(c.hsm().pinEnv()).isEqualTo("P11KMS_PIN");
    assertThat(c.hsm().sessionPoolSize()).isEqualTo(8);
    assertThat(c.hsm().sessionBorrowTimeout()).isEqualTo(Duration.ofMillis(5000));
    assertThat(c.store().jdbcUrl())
        .isEqualTo("jdbc:sqlite:" + dir.toAbsolutePath().resolve("p11kms.db"));
    assertThat(c.arns().partition()).isEqualTo("aws");
    assertThat(c.arns().region()).isEqualTo("local-1");
    assertThat(c.arns().account()).isEqualTo("000000000000");
    assertThat(c.tasks().interval()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void storeCacheMaxKeys_defaultsToTwentyThousand_andIsBounded() {
    assertThat(config().store().cacheMaxKeys()).isEqualTo(20_000);
    assertThat(config("store.cache.max.keys", "0").store().cacheMaxKeys()).isZero();
    assertThat(config("store.cache.max.keys", "250000").toRedactedString())
        .contains("store.cache.max.keys=250000");
    assertInvalid("store.cache.max.keys must be 0-10000000, was -1", "store.cache.max.keys", "-1");
  }

  @Test
  void tasksInterval_isReadInMillis() {
    assertThat(config("tasks.interval.ms", "1500").tasks().interval())
        .isEqualTo(Duration.ofMillis(1500));
    assertThat(config("tasks.interval.ms", "1500").toRedactedString())
        .contains("tasks.interval.ms=1500");
  }

  @Test
  void fromProperties_everyKeySet_readsThem() {
    ServerConfig c =
        config(
            "listen.host", "0.0.0.0",
            "listen.port", "0",
            "hsm.module", "/opt/hsm/lib.so",
            "hsm.pin.env", null,
            "hsm.pin.file", "/etc/p11kms/pin",
            "hsm.session.pool.size", "32",
            "hsm.session.borrow.timeout.ms", "250",
            "store.jdbc.url", "jdbc:sqlite:/var/lib/p11kms/keys.db",
            "arn.partition", "aws-us-gov",
            "arn.region", "us-gov-west-1",
            "arn.account", "123456789012");
    assertThat(c.listen().host()).isEqualTo("0.0.0.0");
    assertThat(c.listen().port()).isZero();
    assertThat(c.hsm().module()).isEqualTo(Path.of("/opt/hsm/lib.so"));
    assertThat(c.hsm().pinFile()).isEqualTo(Path.of("/etc/p11kms/pin"));
    assertThat(c.hsm().pinEnv()).isNull();
    assertThat(c.hsm().sessionPoolSize()).isEqualTo(32);
    assertThat(c.hsm().sessionBorrowTimeout()).isEqualTo(Duration.ofMillis(250));
    assertThat(c.store().jdbcUrl()).isEqualTo("jdbc:sqlite:/var/lib/p11kms/keys.db");
    assertThat(c.arns().keyArn(java.util.UUID.fromString("1234abcd-12ab-34cd-56ef-1234567890ab")))
        .isEqualTo(
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab");
  }

  @Test
  void hsmConfig_isBuiltFromFields() {
    HsmConfig h =
        config("hsm.session.pool.size", "3", "hsm.session.borrow.timeout.ms", "700")
            .hsm()
            .hsmConfig();
    assertThat(h.modulePath()).isEqualTo(Path.of("/usr/lib/softhsm/libsofthsm2.so"));
    assertThat(h.tokenLabel()).isEqualTo("p11kms");
    assertThat(h.userPin().toString()).isEqualTo("env:P11KMS_PIN");
    assertThat(h.sessionPoolSize()).isEqualTo(3);
    assertThat(h.borrowTimeout()).isEqualTo(Duration.ofMillis(700));
  }

  @Test
  void moduleInitStringAndUnenforcedCustody_reachTheTokenConfiguration() {
    ServerConfig defaults = config();
    assertThat(defaults.hsm().hsmConfig().moduleInitString()).isEmpty();
    assertThat(defaults.hsm().hsmConfig().allowUnenforcedCustody()).isFalse();

    ServerConfig nss =
        config(
            "hsm.module.init.string",
            "configdir='sql:/var/lib/p11kms/nssdb' dbTokenDescription='p11kms'",
            "hsm.custody.unenforced.allowed",
            "true");
    assertThat(nss.hsm().hsmConfig().moduleInitString())
        .isEqualTo("configdir='sql:/var/lib/p11kms/nssdb' dbTokenDescription='p11kms'");
    assertThat(nss.hsm().hsmConfig().allowUnenforcedCustody()).isTrue();
    assertThat(nss.toRedactedString())
        .contains("hsm.module.init.string=configdir=")
        .contains("hsm.custody.unenforced.allowed=true");

    assertInvalid(
        "hsm.custody.unenforced.allowed must be true or false, was 'yes'",
        "hsm.custody.unenforced.allowed",
        "yes");
  }

  @Test
  void relativePaths_resolveAgainstConfigFolder() {
    ServerConfig c =
        config(
            "hsm.module", "lib/libsofthsm2.so",
            "hsm.pin.env", null,
            "hsm.pin.file", "secrets/../secrets/pin",
            "store.jdbc.url", "jdbc:sqlite:data/keys.db?busy_timeout=100");
    Path base = dir.toAbsolutePath();
    assertThat(c.hsm().module()).isEqualTo(base.resolve("lib/libsofthsm2.so"));
    assertThat(c.hsm().pinFile()).isEqualTo(base.resolve("secrets/pin"));
    assertThat(c.store().jdbcUrl())
        .isEqualTo("jdbc:sqlite:" + base.resolve("data/keys.db") + "?busy_timeout=100");
    assertThat(c.hsm().hsmConfig().userPin().toString())
        .isEqualTo("file:" + base.resolve("secrets/pin"));
  }

  @Test
  void otherJdbcUrls_areKeptAsGiven() {
    assertThat(config("store.jdbc.url", "jdbc:sqlite::memory:").store().jdbcUrl())
        .isEqualTo("jdbc:sqlite::memory:");
    assertThat(config("store.jdbc.url", "jdbc:postgresql://db:5432/kms").store().jdbcUrl())
        .isEqualTo("jdbc:postgresql://db:5432/kms");
  }

  @Test
  void load_readsFileAndResolvesAgainstItsFolder() throws Exception {
    Path sub = Files.createDirectories(dir.resolve("etc"));
    Path file = sub.resolve("p11kms.properties");
    Files.writeString(
        file,
        "# comment\nhsm.token.label = tökén \nhsm.pin.file=pin.txt\nlisten.port=9000\n",
        StandardCharsets.UTF_8);
    ServerConfig c = ServerConfig.load(file);
    assertThat(c.hsm().tokenLabel()).isEqualTo("tökén");
    assertThat(c.listen().port()).isEqualTo(9000);
    assertThat(c.hsm().pinFile()).isEqualTo(sub.toAbsolutePath().resolve("pin.txt"));
    assertThat(c.store().jdbcUrl())
        .isEqualTo("jdbc:sqlite:" + sub.toAbsolutePath().resolve("p11kms.db"));
  }

  @Test
  void load_missingFile_fails() {
    assertThatThrownBy(() -> ServerConfig.load(dir.resolve("nope.properties")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cannot read configuration file")
        .hasMessageContaining("NoSuchFileException");
  }

  @Test
  void exampleFile_loads() throws Exception {
    Path file = dir.resolve("p11kms.properties");
    try (InputStream in = getClass().getResourceAsStream("/p11kms.example.properties")) {
      assertThat(in).isNotNull();
      Files.copy(in, file);
    }
    ServerConfig c = ServerConfig.load(file);
    assertThat(c.hsm().tokenLabel()).isNotBlank();
    assertThat(c.listen().port()).isEqualTo(7443);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "listen.port | 70000 | listen.port must be 0-65535, was 70000",
        "listen.port | -1 | listen.port must be 0-65535, was -1",
        "listen.port | http | listen.port must be an integer, was 'http'",
        "listen.host | 'bad host' | listen.host must be a host name or IP address",
        "hsm.session.pool.size | 0 | hsm.session.pool.size must be 1-1024, was 0",
        "hsm.session.pool.size | 1025 | hsm.session.pool.size must be 1-1024, was 1025",
        "hsm.session.pool.size | 1.5 | hsm.session.pool.size must be an integer, was '1.5'",
        "hsm.session.borrow.timeout.ms | 0 | hsm.session.borrow.timeout.ms must be 1-600000, was 0",
        "hsm.session.borrow.timeout.ms | 600001 |"
            + " hsm.session.borrow.timeout.ms must be 1-600000, was 600001",
        "hsm.token.label | 123456789012345678901234567890123 |"
            + " hsm.token.label must be at most 32 bytes in UTF-8, was 33",
        "hsm.token.label | ééééééééééééééééé |"
            + " hsm.token.label must be at most 32 bytes in UTF-8, was 34",
        "store.jdbc.url | sqlite:/x.db | store.jdbc.url must be a JDBC URL (jdbc:...)",
        "arn.partition | AWS | arn.partition must be lower-case letters, digits and '-' (like"
            + " aws), was AWS",
        "arn.region | us_east_1 | arn.region must be lower-case letters, digits and '-' (like"
            + " local-1), was us_east_1",
        "arn.account | 12345678901 | arn.account must be 12 digits, was 12345678901",
        "arn.account | 1234567890123 | arn.account must be 12 digits, was 1234567890123",
        "arn.account | 12345678901a | arn.account must be 12 digits, was 12345678901a",
        "listen.prot | 1 | unknown configuration key listen.prot",
        "store.url | x | unknown configuration key store.url",
        "rotation.domain.so.pin | x | unknown configuration key rotation.domain.so.pin",
        "tasks.interval.ms | 99 | tasks.interval.ms must be 100-3600000, was 99",
        "tasks.interval.ms | 3600001 | tasks.interval.ms must be 100-3600000, was 3600001",
        "tasks.interval | 1 | unknown configuration key tasks.interval",
      })
  void fromProperties_invalidValue_namesKeyAndRule(String key, String value, String message) {
    assertInvalid(message, key, value);
  }

  @Test
  void tokenLabel_missing_fails() {
    assertInvalid("hsm.token.label is required", "hsm.token.label", null);
    assertInvalid("hsm.token.label is required", "hsm.token.label", "   ");
  }

  @Test
  void pin_neither_fails() {
    assertInvalid(
        "exactly one of hsm.pin.file and hsm.pin.env is required, neither given",
        "hsm.pin.env",
        null);
  }

  @Test
  void pin_both_fails() {
    assertInvalid(
        "exactly one of hsm.pin.file and hsm.pin.env is required, both given",
        "hsm.pin.file",
        "/etc/pin");
  }

  @Test
  void pinEnv_notAVariableName_failsWithoutEchoingIt() {
    assertThatThrownBy(() -> config("hsm.pin.env", "12-34 secret"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("hsm.pin.env must be an environment variable name")
        .hasMessageNotContaining("12-34")
        .hasMessageNotContaining("secret");
  }

  @Test
  void pinGivenDirectly_isRejectedWithoutEchoingIt() {
    assertThatThrownBy(() -> config("hsm.pin", "987654"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("unknown configuration key hsm.pin ")
        .hasMessageContaining("hsm.pin.file")
        .hasMessageNotContaining("987654");
  }

  @Test
  void rotationKeys_areKnown() {
    assertThat(
            config(
                    "rotation.domain.so.pin.file", "/etc/so.pin",
                    "rotation.domain.interval.hours", "24")
                .listen()
                .port())
        .isEqualTo(7443);
  }

  @Test
  void unknownKeysOutsideOwnedPrefixes_areIgnored() {
    assertThat(config("journal.log.file", "audit.log", "journal.cert", "x").listen().port())
        .isEqualTo(7443);
  }

  @Test
  void blankValues_countAsAbsent() {
    ServerConfig c = config("listen.port", "  ", "arn.region", "");
    assertThat(c.listen().port()).isEqualTo(7443);
    assertThat(c.arns().region()).isEqualTo("local-1");
  }

  @Test
  void valuesAreTrimmed() {
    assertThat(config("listen.port", " 8443 ").listen().port()).isEqualTo(8443);
  }

  @Test
  void jdbcUrlWithPassword_isNotEchoedInErrors() {
    assertThatThrownBy(() -> config("store.jdbc.url", "postgresql://u:hunter2@db/kms"))
        .isInstanceOf(ConfigException.class)
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void toRedactedString_namesPinSourceButNeverThePin() throws Exception {
    String pin =
        System.getenv().entrySet().stream()
            .filter(e -> e.getValue().length() >= 4)
            .map(Map.Entry::getKey)
            .findFirst()
            .orElse("PATH");
    ServerConfig c = config("hsm.pin.env", pin);
    String value = System.getenv(pin);
    String s = c.toRedactedString();
    assertThat(s).contains("hsm.pin=env:" + pin + " (not shown)");
    if (value != null) {
      assertThat(s).doesNotContain(value);
    }
    assertThat(c.toString()).isEqualTo(s);
    assertThat(s)
        .contains("listen.port=7443", "hsm.token.label=p11kms", "arn.account=000000000000");
  }

  @Test
  void toRedactedString_pinFile_isNamedNotRead() throws Exception {
    Path pinFile = dir.resolve("pin");
    Files.writeString(pinFile, "s3cr3t-PIN-4711\n");
    ServerConfig c = config("hsm.pin.env", null, "hsm.pin.file", pinFile.toString());
    assertThat(c.toRedactedString())
        .contains("hsm.pin=file:" + pinFile.toAbsolutePath())
        .doesNotContain("s3cr3t");
    assertThat(c.hsm().hsmConfig().toString()).doesNotContain("s3cr3t");
  }

  @Test
  void toRedactedString_masksJdbcPassword() {
    ServerConfig c =
        config(
            "store.jdbc.url",
            "jdbc:postgresql://kms:pw1@db:5432/kms?user=kms&password=pw2&ssl=true");
    assertThat(c.toRedactedString())
        .doesNotContain("pw1")
        .doesNotContain("pw2")
        .contains("password=***")
        .contains("ssl=true");
  }

  @Test
  void constructor_validatesToo() {
    assertThatThrownBy(() -> new ListenConfig("127.0.0.1", 70000))
        .isInstanceOf(ConfigException.class)
        .hasMessage("listen.port must be 0-65535, was 70000");
  }

  @Test
  void storeCredentials_userAndPasswordFile_resolvedAndNamedNotShown() {
    ServerConfig c =
        config(
            "store.jdbc.url", "jdbc:postgresql://db:5432/kms",
            "store.jdbc.user", "kms",
            "store.jdbc.password.file", "db-password");
    assertThat(c.store().settings().jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/kms");
    assertThat(c.store().settings().user()).isEqualTo("kms");
    assertThat(c.store().settings().passwordFile())
        .isEqualTo(dir.toAbsolutePath().normalize().resolve("db-password"));
    assertThat(c.store().settings().passwordEnv()).isNull();
    assertThat(c.toRedactedString())
        .contains("store.jdbc.user=kms")
        .contains("store.jdbc.password=file:" + c.store().passwordFile() + " (not shown)");
  }

  @Test
  void storeCredentials_passwordVariable_isNamed() {
    ServerConfig c =
        config(
            "store.jdbc.url",
            "jdbc:postgresql://db/kms",
            "store.jdbc.password.env",
            "P11KMS_DB_PASSWORD");
    assertThat(c.store().settings().passwordEnv()).isEqualTo("P11KMS_DB_PASSWORD");
    assertThat(c.toRedactedString())
        .contains("store.jdbc.password=env:P11KMS_DB_PASSWORD (not shown)");
  }

  @Test
  void storeCredentials_invalid_refusedWithoutEchoingTheValue() {
    assertInvalid(
        "at most one of store.jdbc.password.file and store.jdbc.password.env",
        "store.jdbc.password.file",
        "f",
        "store.jdbc.password.env",
        "V");
    assertInvalid(
        "store.jdbc.password.env must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
        "store.jdbc.password.env",
        "hunter2 is my password");
    assertInvalid(
        "unknown configuration key store.jdbc.password", "store.jdbc.password", "hunter2");
  }

  @Test
  void storeCredentials_default_none() {
    ServerConfig c = config();
    assertThat(c.store().settings().user()).isNull();
    assertThat(c.store().settings().passwordFile()).isNull();
    assertThat(c.store().settings().passwordEnv()).isNull();
    assertThat(c.toRedactedString()).doesNotContain("store.jdbc.password");
  }
}
