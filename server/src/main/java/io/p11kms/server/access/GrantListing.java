package io.p11kms.server.access;

import io.p11kms.server.service.KmsError;
import io.p11kms.server.service.KmsException;
import io.p11kms.server.store.GrantRecord;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * One page of ListGrants or ListRetirableGrants, as AWS KMS pages them: {@code Limit} 1-100
 * (default 50) grants in the order they were created, and when more follow, a marker naming the
 * last one listed, from which the next page goes on (a grant retired between two pages does not
 * make the next page skip or repeat others).
 */
public record GrantListing(List<GrantRecord> grants, Optional<String> nextMarker) {
  /** AWS KMS's default page size for grants. */
  public static final int DEFAULT_LIMIT = 50;

  /** AWS KMS's largest page of grants. */
  public static final int MAX_LIMIT = 100;

  private static final Comparator<GrantRecord> ORDER =
      Comparator.comparing(GrantRecord::createdAt).thenComparing(GrantRecord::grantId);

  public boolean truncated() {
    return nextMarker.isPresent();
  }

  /**
   * The page of {@code grants} after {@code marker} (null or empty: the first page).
   *
   * @throws KmsException ValidationException for a limit out of range, InvalidMarkerException for a
   *     marker this server did not make
   */
  public static GrantListing page(List<GrantRecord> grants, Integer limit, String marker) {
    int size = limit == null ? DEFAULT_LIMIT : limit;
    if (size < 1 || size > MAX_LIMIT) {
      throw new KmsException(
          KmsError.VALIDATION, "Limit must be 1-" + MAX_LIMIT + ", was " + limit);
    }
    Optional<Position> after =
        marker == null || marker.isEmpty() ? Optional.empty() : Optional.of(position(marker));
    List<GrantRecord> rest =
        grants.stream()
            .sorted(ORDER)
            .filter(g -> after.isEmpty() || after.get().isBefore(g))
            .toList();
    if (rest.size() <= size) {
      return new GrantListing(rest, Optional.empty());
    }
    List<GrantRecord> page = rest.subList(0, size);
    return new GrantListing(page, Optional.of(marker(page.get(size - 1))));
  }

  private static String marker(GrantRecord last) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString((last.createdAt() + " " + last.grantId()).getBytes(StandardCharsets.UTF_8));
  }

  /** Where a marker points: the creation time and id of the last grant listed. */
  private record Position(Instant createdAt, String grantId) {
    boolean isBefore(GrantRecord g) {
      int byTime = g.createdAt().compareTo(createdAt);
      return byTime > 0 || (byTime == 0 && g.grantId().compareTo(grantId) > 0);
    }
  }

  private static Position position(String marker) {
    try {
      String[] parts =
          new String(Base64.getUrlDecoder().decode(marker), StandardCharsets.UTF_8).split(" ", 2);
      if (parts.length != 2 || parts[1].isEmpty()) {
        throw invalid();
      }
      return new Position(Instant.parse(parts[0]), parts[1]);
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw invalid();
    }
  }

  private static KmsException invalid() {
    return new KmsException(KmsError.INVALID_MARKER, "Marker is not valid");
  }
}
