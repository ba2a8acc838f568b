package io.p11kms.it;

import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;

/** The AWS SDK for Java v2's KMS client, pointed at a test server: no retries, static keys. */
final class AwsClients {
  private AwsClients() {}

  /** A client of {@code endpoint} signing with the access key {@code id} and {@code secret}. */
  static KmsClient kms(URI endpoint, String region, String id, String secret) {
    return KmsClient.builder()
        .endpointOverride(endpoint)
        .region(Region.of(region))
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret)))
        .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
        .build();
  }

  /** A client of a development-mode server at {@code port}, which takes any access key. */
  static KmsClient developmentMode(int port) {
    return kms(
        URI.create("http://127.0.0.1:" + port),
        KmsTestServer.ARNS.region(),
        "AKIDEVELOPMENT",
        "development-secret");
  }
}
