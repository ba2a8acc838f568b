package io.p11kms.server.service;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What a CreateKey request asks for, as plain values: its description, KeyUsage and KeySpec (null:
 * ENCRYPT_DECRYPT and SYMMETRIC_DEFAULT), its tags, its Origin (null: AWS_KMS) and whether the key
 * is a multi-Region primary key. Who the key belongs to comes from the caller, not from here.
 */
public record CreateKeyRequest(
    String description,
    KeyUsage keyUsage,
    KeySpec keySpec,
    List<Tag> tags,
    Origin origin,
    boolean multiRegion) {

  public CreateKeyRequest {
    tags = tags == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(tags));
  }

  /** A SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key with {@code description}, no tags. */
  public static CreateKeyRequest of(String description) {
    return of(description, null, null);
  }

  /** A key of {@code usage} and {@code spec} (null: the defaults) with no tags. */
  public static CreateKeyRequest of(String description, KeyUsage usage, KeySpec spec) {
    return new CreateKeyRequest(description, usage, spec, List.of(), null, false);
  }
}
