package io.p11kms.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.p11kms.server.http.HttpListener;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The AWS JSON 1.1 protocol on the wire, with a plain HTTP client: what an SDK never sends (an
 * unknown target, malformed JSON, a member of the wrong type, an oversized body, another method or
 * path) is each a 400 with its precise AWS name and a message, never a 500 or a stack trace; every
 * response carries x-amzn-RequestId and the JSON 1.1 content type; members are named, encoded and
 * typed as AWS does (base64 blobs, epoch-second timestamps, AWS's enum values).
 */
class AwsJsonWireIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  private static KmsTestServer server;
  private static URI endpoint;

  @BeforeAll
  static void start() throws Exception {
    server = KmsTestServer.startWithAwsApi();
    endpoint = URI.create("http://127.0.0.1:" + server.awsApiPort() + "/");
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void createKeyAndEncrypt_membersAsAwsNamesThem() throws Exception {
    HttpResponse<String> created = post("TrentService.CreateKey", "{\"Description\":\"wire\"}");
    assertThat(created.statusCode()).isEqualTo(200);
    assertThat(created.headers().firstValue("Content-Type")).hasValue("application/x-amz-json-1.1");
    assertThat(created.headers().firstValue("x-amzn-RequestId")).isPresent();
    JsonNode metadata = JSON.readTree(created.body()).get("KeyMetadata");
    assertThat(metadata.get("KeyState").asText()).isEqualTo("Enabled");
    assertThat(metadata.get("KeyUsage").asText()).isEqualTo("ENCRYPT_DECRYPT");
    assertThat(metadata.get("KeySpec").asText()).isEqualTo("SYMMETRIC_DEFAULT");
    assertThat(metadata.get("EncryptionAlgorithms").get(0).asText()).isEqualTo("SYMMETRIC_DEFAULT");
    assertThat(metadata.get("AWSAccountId").asText()).isEqualTo("111122223333");
    // Epoch seconds, a number.
    assertThat(metadata.get("CreationDate").isNumber()).isTrue();
    assertThat(metadata.get("CreationDate").asDouble())
        .isCloseTo(System.currentTimeMillis() / 1000.0, org.assertj.core.data.Offset.offset(60.0));
    assertThat(metadata.has("DeletionDate")).isFalse();
    String keyId = metadata.get("KeyId").asText();

    String plaintext = Base64.getEncoder().encodeToString("wire secret".getBytes());
    HttpResponse<String> encrypted =
        post(
            "TrentService.Encrypt",
            "{\"KeyId\":\"" + keyId + "\",\"Plaintext\":\"" + plaintext + "\"}");
    assertThat(encrypted.statusCode()).isEqualTo(200);
    JsonNode body = JSON.readTree(encrypted.body());
    assertThat(Base64.getDecoder().decode(body.get("CiphertextBlob").asText())).isNotEmpty();
    assertThat(body.get("EncryptionAlgorithm").asText()).isEqualTo("SYMMETRIC_DEFAULT");
    assertThat(body.get("KeyId").asText()).endsWith(keyId);

    HttpResponse<String> decrypted =
        post(
            "TrentService.Decrypt",
            "{\"CiphertextBlob\":\"" + body.get("CiphertextBlob").asText() + "\"}");
    assertThat(JSON.readTree(decrypted.body()).get("Plaintext").asText()).isEqualTo(plaintext);
  }

  @Test
  void operationsWithoutMembers_takeAnEmptyBody() throws Exception {
    HttpResponse<String> listed = post("TrentService.ListKeys", "");
    assertThat(listed.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(listed.body()).get("Truncated").asBoolean()).isFalse();
    HttpResponse<String> enabled = post("TrentService.EnableKey", "{\"KeyId\":\"" + key() + "\"}");
    assertThat(enabled.statusCode()).isEqualTo(200);
    assertThat(enabled.body()).isEqualTo("{}");
  }

  @Test
  void unknownTarget_400UnknownOperation() throws Exception {
    assertError(post("TrentService.DeleteEverything", "{}"), "UnknownOperationException");
    assertError(post("OtherService.Encrypt", "{}"), "UnknownOperationException");
    assertError(post(null, "{}"), "UnknownOperationException");
    // This service's own batch operations are gRPC only.
    assertError(post("TrentService.BatchEncrypt", "{}"), "UnknownOperationException");
  }

  @Test
  void refusedTarget_bodySentAfterTheHeaders_connectionServesTheNextRequest() throws Exception {
    // An HTTP client writes the headers, then the body. Were the refusal sent before the body
    // arrived, the server would close the connection under the client's next request on it
    // ("header parser received no bytes"); it reads the body first and keeps the connection.
    String request =
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: TrentService.DeleteEverything\r\n"
            + "Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n";
    try (Socket socket = new Socket("127.0.0.1", server.awsApiPort())) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = new BufferedInputStream(socket.getInputStream());
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // Long enough for the server to have the headers alone, as a client's body write is late.
      Thread.sleep(300);
      out.write("{}".getBytes(StandardCharsets.US_ASCII));
      out.write((request + "{}").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      for (int i = 0; i < 2; i++) {
        RawHttpResponse response = RawHttpResponse.read(in);
        assertThat(response.statusLine()).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(response.headers()).doesNotContain("connection: close");
        assertThat(response.body()).contains("UnknownOperationException");
      }
    }
  }

  @Test
  void bodiesOverTheListenersBudget_throttlingException_connectionClosed() throws Exception {
    // Each connection declares a body of the largest size and sends none of it: the listener holds
    // a buffer of that size for each, until its budget of bodies is spent.
    String largest =
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: TrentService.Encrypt\r\n"
            + "Content-Type: application/x-amz-json-1.1\r\nContent-Length: "
            + HttpListener.MAX_BODY_BYTES
            + "\r\n\r\n";
    List<Socket> holding = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < HttpListener.BODY_BUDGET_BYTES / HttpListener.MAX_BODY_BYTES; i++) {
        Socket socket = new Socket("127.0.0.1", server.awsApiPort());
        holding.add(socket);
        socket.getOutputStream().write(largest.getBytes(StandardCharsets.US_ASCII));
      }
      Thread.sleep(300);
      try (Socket over = new Socket("127.0.0.1", server.awsApiPort())) {
        over.setSoTimeout(30_000);
        over.getOutputStream().write(largest.getBytes(StandardCharsets.US_ASCII));
        RawHttpResponse response =
            RawHttpResponse.read(new BufferedInputStream(over.getInputStream()));
        assertThat(response.statusLine()).isEqualTo("HTTP/1.1 400 Bad Request");
        assertThat(response.headers()).contains("connection: close");
        assertThat(JSON.readTree(response.body()).path("__type").asText())
            .isEqualTo("ThrottlingException");
      }
    } finally {
      for (Socket socket : holding) {
        socket.close();
      }
    }
  }

  @Test
  void anotherMethodOrPath_400UnknownOperation() throws Exception {
    HttpResponse<String> get =
        HTTP.send(
            HttpRequest.newBuilder(endpoint).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertError(get, "UnknownOperationException");
    HttpResponse<String> elsewhere =
        HTTP.send(
            HttpRequest.newBuilder(endpoint.resolve("/admin"))
                .header("X-Amz-Target", "TrentService.ListKeys")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertError(elsewhere, "UnknownOperationException");
  }

  @Test
  void malformedJson_400Serialization() throws Exception {
    for (String body : List.of("{", "not json", "[1,2]", "{\"KeyId\":\"a\"} trailing", "null")) {
      assertError(post("TrentService.DescribeKey", body), "SerializationException");
    }
    assertError(
        post("TrentService.DescribeKey", "{\"KeyId\":\"a\",\"KeyId\":\"b\"}"),
        "SerializationException");
  }

  @Test
  void memberOfTheWrongType_400Serialization_namesTheMember() throws Exception {
    HttpResponse<String> number = post("TrentService.DescribeKey", "{\"KeyId\":5}");
    assertError(number, "SerializationException");
    assertThat(message(number)).contains("KeyId");
    assertError(post("TrentService.ListKeys", "{\"Limit\":\"5\"}"), "SerializationException");
    assertError(post("TrentService.ListKeys", "{\"Limit\":2.5}"), "SerializationException");
    assertError(
        post("TrentService.Encrypt", "{\"KeyId\":\"k\",\"Plaintext\":\"%%% not base64\"}"),
        "SerializationException");
    assertError(
        post("TrentService.Encrypt", "{\"KeyId\":\"k\",\"EncryptionContext\":[\"a\"]}"),
        "SerializationException");
    assertError(
        post("TrentService.Encrypt", "{\"KeyId\":\"k\",\"EncryptionContext\":{\"a\":1}}"),
        "SerializationException");
    assertError(
        post("TrentService.CreateGrant", "{\"KeyId\":\"k\",\"Operations\":\"Encrypt\"}"),
        "SerializationException");
  }

  @Test
  void enumValueNotOfTheModel_400Validation() throws Exception {
    HttpResponse<String> response =
        post(
            "TrentService.CreateKey", "{\"KeySpec\":\"AES_512\",\"KeyUsage\":\"ENCRYPT_DECRYPT\"}");
    assertError(response, "ValidationException");
    assertThat(message(response)).isEqualTo("KeySpec has a value that is not valid");
  }

  @Test
  void whatThisServiceCannotDo_refusedNotDropped() throws Exception {
    assertError(
        post("TrentService.CreateKey", "{\"CustomKeyStoreId\":\"cks-1\"}"),
        "UnsupportedOperationException");
    assertError(
        post(
            "TrentService.Decrypt",
            "{\"CiphertextBlob\":\"AAAA\",\"Recipient\":{\"KeyEncryptionAlgorithm\":\"RSAES_OAEP_SHA_256\"}}"),
        "UnsupportedOperationException");
    assertError(
        post("TrentService.GenerateRandom", "{\"NumberOfBytes\":8,\"CustomKeyStoreId\":\"c\"}"),
        "UnsupportedOperationException");
  }

  @Test
  void oversizedBody_400Validation() throws Exception {
    String big = "{\"KeyId\":\"" + "a".repeat(300 * 1024) + "\"}";
    HttpResponse<String> response = post("TrentService.DescribeKey", big);
    assertError(response, "ValidationException");
    assertThat(message(response)).contains("262144");
  }

  @Test
  void bodyOfMegabytes_isAnsweredWithTheError_notAConnectionReset() throws Exception {
    // The server reads an oversized body on before it answers, so a client still sending it
    // reads the 400 instead of a reset connection.
    String big = "{\"KeyId\":\"" + "a".repeat(3 * 1024 * 1024) + "\"}";
    for (int i = 0; i < 5; i++) {
      assertError(post("TrentService.DescribeKey", big), "ValidationException");
    }
  }

  @Test
  void serviceErrors_keepTheirNames() throws Exception {
    assertError(
        post("TrentService.DescribeKey", "{\"KeyId\":\"" + java.util.UUID.randomUUID() + "\"}"),
        "NotFoundException");
    assertError(post("TrentService.DescribeKey", "{}"), "ValidationException");
  }

  private static String key() throws Exception {
    return JSON.readTree(post("TrentService.CreateKey", "{}").body())
        .get("KeyMetadata")
        .get("KeyId")
        .asText();
  }

  private static HttpResponse<String> post(String target, String body) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(endpoint)
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/x-amz-json-1.1")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (target != null) {
      request.header("X-Amz-Target", target);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String message(HttpResponse<String> response) throws Exception {
    return JSON.readTree(response.body()).get("message").asText();
  }

  /** A 400 whose body is exactly {"__type": awsName, "message": ...}, with a request id. */
  private static void assertError(HttpResponse<String> response, String awsName) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(response.headers().firstValue("x-amzn-RequestId")).isPresent();
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/x-amz-json-1.1");
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("__type").asText()).isEqualTo(awsName);
    assertThat(body.get("message").asText()).isNotBlank();
    assertThat(body.size()).isEqualTo(2);
    assertThat(response.body()).doesNotContain("Exception:").doesNotContain("\tat ");
  }
}
