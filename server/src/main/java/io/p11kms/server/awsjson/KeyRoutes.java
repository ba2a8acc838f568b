package io.p11kms.server.awsjson;

import static io.p11kms.server.awsjson.Members.orEmpty;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.p11kms.server.access.OperationRequest;
import io.p11kms.server.service.KeyListing;
import io.p11kms.server.service.KeyManager;
import io.p11kms.server.service.KeyMetadata;
import io.p11kms.server.service.KeyService;
import io.p11kms.server.service.KeySpec;
import io.p11kms.server.service.KeyUsage;
import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.service.MultiRegionConfiguration;
import io.p11kms.server.service.MultiRegionService;
import io.p11kms.server.service.Operation;
import io.p11kms.server.service.Origin;
import java.time.Instant;
import java.util.List;

/** CreateKey, DescribeKey and ListKeys: their members as the KMS service model names them. */
final class KeyRoutes {
  private KeyRoutes() {}

  record CreateKeyRequest(
      String policy,
      String description,
      String keyUsage,
      String customerMasterKeySpec,
      String keySpec,
      String origin,
      String customKeyStoreId,
      Boolean bypassPolicyLockoutSafetyCheck,
      List<TagJson> tags,
      Boolean multiRegion,
      String xksKeyId)
      implements OperationRequest {
    CreateKeyRequest {
      policy = orEmpty(policy);
      description = orEmpty(description);
      tags = orEmpty(tags);
    }
  }

  record DescribeKeyRequest(String keyId, List<String> grantTokens) implements OperationRequest {
    DescribeKeyRequest {
      keyId = orEmpty(keyId);
      grantTokens = orEmpty(grantTokens);
    }
  }

  record ListKeysRequest(Integer limit, String marker) implements OperationRequest {
    ListKeysRequest {
      marker = orEmpty(marker);
    }
  }

  record ReplicateKeyRequest(
      String keyId,
      String replicaRegion,
      String policy,
      Boolean bypassPolicyLockoutSafetyCheck,
      String description,
      List<TagJson> tags)
      implements OperationRequest {
    ReplicateKeyRequest {
      keyId = orEmpty(keyId);
      replicaRegion = orEmpty(replicaRegion);
      policy = orEmpty(policy);
    }
  }

  record ReplicateKeyResponse(
      KeyMetadataJson replicaKeyMetadata, String replicaPolicy, List<TagJson> replicaTags) {}

  record UpdatePrimaryRegionRequest(String keyId, String primaryRegion)
      implements OperationRequest {
    UpdatePrimaryRegionRequest {
      keyId = orEmpty(keyId);
      primaryRegion = orEmpty(primaryRegion);
    }
  }

  record KeyMetadataResponse(KeyMetadataJson keyMetadata) {}

  /** A multi-Region key's MultiRegionConfiguration. */
  record MultiRegionConfigurationJson(
      String multiRegionKeyType,
      MultiRegionKeyJson primaryKey,
      List<MultiRegionKeyJson> replicaKeys) {

    static MultiRegionConfigurationJson of(MultiRegionConfiguration c) {
      return new MultiRegionConfigurationJson(
          c.keyType(),
          MultiRegionKeyJson.of(c.primaryKey()),
          c.replicaKeys().stream().map(MultiRegionKeyJson::of).toList());
    }
  }

  record MultiRegionKeyJson(String arn, String region) {
    static MultiRegionKeyJson of(MultiRegionConfiguration.RegionKey key) {
      return new MultiRegionKeyJson(key.arn(), key.region());
    }
  }

  record ListKeysResponse(List<KeyEntry> keys, String nextMarker, Boolean truncated) {}

  record KeyEntry(String keyId, String keyArn) {}

  /** A tag, in requests and responses. */
  record TagJson(String tagKey, String tagValue) {}

  /** KeyMetadata as AWS returns it. */
  record KeyMetadataJson(
      @JsonProperty("AWSAccountId") String awsAccountId,
      String keyId,
      String arn,
      Instant creationDate,
      Boolean enabled,
      String description,
      String keyUsage,
      String keyState,
      Instant deletionDate,
      String origin,
      String keyManager,
      String customerMasterKeySpec,
      String keySpec,
      List<String> encryptionAlgorithms,
      List<String> signingAlgorithms,
      List<String> macAlgorithms,
      Boolean multiRegion,
      MultiRegionConfigurationJson multiRegionConfiguration,
      Integer pendingDeletionWindowInDays,
      String expirationModel,
      Instant validTo) {

    static KeyMetadataJson of(KeyMetadata m) {
      return new KeyMetadataJson(
          m.account(),
          io.p11kms.server.config.KeyArns.keyIdText(m.keyId()),
          m.arn(),
          m.creationDate(),
          m.enabled(),
          m.description(),
          m.keyUsage().name(),
          AwsEnums.keyState(m.keyState()),
          m.deletionDate().orElse(null),
          m.origin().name(),
          m.keyManager() == KeyManager.CUSTOMER ? "CUSTOMER" : "AWS",
          m.keySpec().name(),
          m.keySpec().name(),
          AwsEnums.names(m.encryptionAlgorithms()),
          AwsEnums.names(m.signingAlgorithms()),
          AwsEnums.names(m.macAlgorithms()),
          m.multiRegion(),
          m.multiRegionConfiguration().map(MultiRegionConfigurationJson::of).orElse(null),
          m.pendingDeletionWindowInDays().orElse(null),
          m.expirationModel().map(Enum::name).orElse(null),
          m.validTo().orElse(null));
    }
  }

  static List<Route<?, ?>> routes(KeyService keys, MultiRegionService multiRegion) {
    return List.of(
        new Route<CreateKeyRequest, KeyMetadata>(
            Operation.CREATE_KEY,
            CreateKeyRequest.class,
            (c, r) ->
                keys.createKey(
                    c.lookup(),
                    new io.p11kms.server.service.CreateKeyRequest(
                        r.description(),
                        AwsEnums.parse(KeyUsage.class, r.keyUsage(), "KeyUsage"),
                        keySpec(r),
                        r.tags().stream().map(KeyRoutes::tag).toList(),
                        AwsEnums.parse(Origin.class, r.origin(), "Origin"),
                        Boolean.TRUE.equals(r.multiRegion()))),
            m -> new KeyMetadataResponse(KeyMetadataJson.of(m))),
        Route.of(
            Operation.REPLICATE_KEY,
            ReplicateKeyRequest.class,
            (c, r) -> {
              MultiRegionService.Replicated replicated =
                  multiRegion.replicate(
                      r.keyId(),
                      r.replicaRegion(),
                      r.policy(),
                      r.tags() == null ? null : r.tags().stream().map(KeyRoutes::tag).toList(),
                      r.description());
              return new ReplicateKeyResponse(
                  KeyMetadataJson.of(replicated.replicaKeyMetadata()),
                  replicated.replicaPolicy(),
                  replicated.replicaTags().stream().map(KeyRoutes::tag).toList());
            }),
        Route.empty(
            Operation.UPDATE_PRIMARY_REGION,
            UpdatePrimaryRegionRequest.class,
            r -> multiRegion.updatePrimaryRegion(r.keyId(), r.primaryRegion())),
        Route.of(
            Operation.DESCRIBE_KEY,
            DescribeKeyRequest.class,
            (c, r) ->
                new KeyMetadataResponse(
                    KeyMetadataJson.of(keys.describeKey(c.lookup(), r.keyId())))),
        Route.of(
            Operation.LIST_KEYS,
            ListKeysRequest.class,
            (c, r) -> {
              KeyListing listing = keys.listKeys(c.lookup().account(), r.limit(), r.marker());
              return new ListKeysResponse(
                  listing.keys().stream()
                      .map(
                          e ->
                              new KeyEntry(
                                  io.p11kms.server.config.KeyArns.keyIdText(e.keyId()), e.arn()))
                      .toList(),
                  listing.nextMarker().orElse(null),
                  listing.truncated());
            }));
  }

  static io.p11kms.server.service.Tag tag(TagJson t) {
    return new io.p11kms.server.service.Tag(orEmpty(t.tagKey()), orEmpty(t.tagValue()));
  }

  static TagJson tag(io.p11kms.server.service.Tag t) {
    return new TagJson(t.key(), t.value());
  }

  /**
   * KeySpec, or the older CustomerMasterKeySpec (the same values); what this service cannot do (a
   * custom key store) is refused, never quietly dropped.
   */
  private static KeySpec keySpec(CreateKeyRequest r) {
    if (r.customKeyStoreId() != null || r.xksKeyId() != null) {
      throw unsupported("A custom key store");
    }
    KeySpec spec = AwsEnums.parse(KeySpec.class, r.keySpec(), "KeySpec");
    KeySpec older =
        AwsEnums.parse(KeySpec.class, r.customerMasterKeySpec(), "CustomerMasterKeySpec");
    if (spec != null && older != null && spec != older) {
      throw new KmsException(
          KmsError.VALIDATION, "KeySpec and CustomerMasterKeySpec name different key specs");
    }
    return spec != null ? spec : older;
  }

  private static KmsException unsupported(String what) {
    return new KmsException(KmsError.UNSUPPORTED_OPERATION, what + " is not supported");
  }
}
