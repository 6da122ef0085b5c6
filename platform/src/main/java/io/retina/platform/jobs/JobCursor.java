package io.retina.platform.jobs;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;

/** An opaque position in a tenant's job list (newest first): the last job of the previous page. */
public record JobCursor(Instant createdAt, UUID id) {

  public String encode() {
    String raw = createdAt.getEpochSecond() + "." + createdAt.getNano() + "." + id;
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** The cursor a client sent back, if it is one this server made. */
  public static Optional<JobCursor> decode(String token) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      String[] parts = raw.split("\\.", 3);
      if (parts.length != 3) {
        return Optional.empty();
      }
      Instant at = Instant.ofEpochSecond(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
      return Optional.of(new JobCursor(at, UUID.fromString(parts[2])));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
