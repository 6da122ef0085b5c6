package io.retina.api.http;

import java.util.Optional;
import java.util.UUID;

/** Ids in request paths. */
public final class Ids {
  private Ids() {}

  /**
   * The UUID a path segment spells in its canonical form (any case); empty for anything else, so
   * that a malformed id reads as a missing resource.
   */
  public static Optional<UUID> parse(String id) {
    try {
      UUID uuid = UUID.fromString(id);
      return uuid.toString().equals(id.toLowerCase()) ? Optional.of(uuid) : Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
