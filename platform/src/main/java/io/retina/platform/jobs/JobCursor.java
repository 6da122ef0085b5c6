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

  /** 9999-12-31T23:59:59Z. */
  private static final long LATEST_SECOND = 253_402_300_799L;

  /** The cursor a client sent back, if it is one this server made. */
  public static Optional<JobCursor> decode(String token) {
    try {
      String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      String[] parts = raw.split("\\.", 3);
      if (parts.length != 3) {
        return Optional.empty();
      }
      long seconds = Long.parseLong(parts[0]);
      long nanos = Long.parseLong(parts[1]);
      // a job's creation time: this server never made a cursor outside these, and PostgreSQL's
      // timestamps end long before Instant's do
      if (seconds < 0 || seconds > LATEST_SECOND || nanos < 0 || nanos > 999_999_999) {
        return Optional.empty();
      }
      return Optional.of(
          new JobCursor(Instant.ofEpochSecond(seconds, nanos), UUID.fromString(parts[2])));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
