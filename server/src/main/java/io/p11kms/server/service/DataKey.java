package io.p11kms.server.service;

/** A data key: its plaintext (absent for the WithoutPlaintext variant) and its ciphertext. */
public record DataKey(Ciphertext ciphertext, Plaintext plaintext) {}
