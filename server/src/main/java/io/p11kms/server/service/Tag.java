package io.p11kms.server.service;

/** A tag of a key: a key of 1-128 characters and a value of 0-256. */
public record Tag(String key, String value) {}
