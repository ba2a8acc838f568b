package io.p11kms.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class HttpRequestIdsTest {
  @Test
  void aRequestIdIsARandomUuidAsAwsSendsIt() {
    for (int i = 0; i < 1000; i++) {
      String id = HttpRequestIds.newId();
      assertTrue(
          id.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), id);
      UUID parsed = UUID.fromString(id);
      assertEquals(4, parsed.version());
      assertEquals(2, parsed.variant());
      assertEquals(id, parsed.toString());
    }
  }

  @Test
  void idsDoNotRepeat() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 100_000; i++) {
      assertTrue(seen.add(HttpRequestIds.newId()));
    }
  }
}
