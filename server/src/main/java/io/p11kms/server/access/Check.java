package io.p11kms.server.access;

import java.util.Map;
import java.util.UUID;

/** One authorisation check: a policy action on a key, with the request's encryption context. */
public record Check(String action, UUID keyId, Map<String, String> context) {}
