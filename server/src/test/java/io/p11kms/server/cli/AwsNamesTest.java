package io.p11kms.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.p11kms.proto.v1.DescribeKeyResponse;
import io.p11kms.proto.v1.EncryptRequest;
import io.p11kms.proto.v1.EncryptionAlgorithmSpec;
import io.p11kms.proto.v1.KeyMetadata;
import io.p11kms.proto.v1.KeyState;
import io.p11kms.proto.v1.KeyUsage;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

class AwsNamesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void awsNames_andProtoNames_parse_caseAndDashesIgnored() {
    var algorithms = EncryptionAlgorithmSpec.getDescriptor();
    assertThat(AwsNames.parse(algorithms, "SYMMETRIC_DEFAULT"))
        .contains(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM.getValueDescriptor());
    assertThat(AwsNames.parse(algorithms, "symmetric-default_algorithm"))
        .contains(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM.getValueDescriptor());
    assertThat(AwsNames.parse(KeyState.getDescriptor(), "PendingDeletion"))
        .contains(KeyState.PENDING_DELETION.getValueDescriptor());
    assertThat(AwsNames.parse(algorithms, "RSAES_OAEP_SHA_256"))
        .contains(EncryptionAlgorithmSpec.RSAES_OAEP_SHA_256.getValueDescriptor());
    assertThat(AwsNames.parse(algorithms, "DEFAULT")).isEmpty();
    assertThat(AwsNames.parse(algorithms, "ENCRYPTION_ALGORITHM_SPEC_UNSPECIFIED")).isEmpty();
  }

  @Test
  void printedJson_usesAwsNames_inNestedAndRepeatedFields_andLeavesTextAlone() throws Exception {
    DescribeKeyResponse response =
        DescribeKeyResponse.newBuilder()
            .setKeyMetadata(
                KeyMetadata.newBuilder()
                    .setKeyId("k")
                    .setDescription("SYMMETRIC_DEFAULT_ALGORITHM")
                    .setKeyState(KeyState.PENDING_DELETION)
                    .setKeyUsage(KeyUsage.ENCRYPT_DECRYPT)
                    .addEncryptionAlgorithms(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM))
            .build();

    JsonNode printed = JSON.readTree(AwsNames.json(response)).path("keyMetadata");

    assertThat(printed.path("keyState").asText()).isEqualTo("PendingDeletion");
    assertThat(printed.path("encryptionAlgorithms").get(0).asText()).isEqualTo("SYMMETRIC_DEFAULT");
    assertThat(printed.path("keyUsage").asText()).isEqualTo("ENCRYPT_DECRYPT");
    assertThat(printed.path("description").asText()).isEqualTo("SYMMETRIC_DEFAULT_ALGORITHM");
  }

  private static EncryptRequest encryptRequest(String... args) {
    CommandLine kms = new CommandLine(new KmsCli());
    ParseResult parsed = kms.parseArgs(args).subcommand();
    RpcCommands.RpcCommand command = parsed.commandSpec().commandLine().getCommand();
    return (EncryptRequest) command.buildRequest(parsed);
  }

  @Test
  void encryptionAlgorithmOption_takesAwsName() {
    EncryptRequest request =
        encryptRequest(
            "encrypt",
            "--key-id",
            "k",
            "--plaintext",
            "AA==",
            "--encryption-algorithm",
            "SYMMETRIC_DEFAULT");

    assertThat(request.getEncryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM);
  }

  @Test
  void cliInputJson_takesAwsName() {
    EncryptRequest request =
        encryptRequest(
            "encrypt",
            "--cli-input-json",
            "{\"keyId\": \"k\", \"encryption_algorithm\": \"SYMMETRIC_DEFAULT\"}");

    assertThat(request.getKeyId()).isEqualTo("k");
    assertThat(request.getEncryptionAlgorithm())
        .isEqualTo(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT_ALGORITHM);
  }

  @Test
  void helpOfAnEnumOption_listsAwsNames() {
    CommandLine encrypt = new CommandLine(new KmsCli()).getSubcommands().get("encrypt");

    String help = encrypt.getCommandSpec().findOption("--encryption-algorithm").description()[0];

    assertThat(help).contains("SYMMETRIC_DEFAULT,").doesNotContain("SYMMETRIC_DEFAULT_ALGORITHM");
  }

  @Test
  void unknownEnumValue_isALocalError_namingTheAwsValues() {
    assertThatThrownBy(
            () ->
                encryptRequest(
                    "encrypt",
                    "--key-id",
                    "k",
                    "--plaintext",
                    "AA==",
                    "--encryption-algorithm",
                    "FOO"))
        .isInstanceOf(CliException.class)
        .hasMessage(
            "--encryption-algorithm: unknown value 'FOO'; one of: SYMMETRIC_DEFAULT,"
                + " RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256");
  }
}
