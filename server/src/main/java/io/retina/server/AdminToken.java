package io.retina.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The admin bearer token: {@code RETINA_ADMIN_TOKEN} when set, else one generated on first start
 * and kept (owner-readable only) in the data directory, so it stays the same across restarts.
 */
final class AdminToken {
  /** Shorter tokens are refused: guessable admin access would undo every tenant's isolation. */
  static final int MIN_LENGTH = 16;

  private AdminToken() {}

  record Resolved(String token, boolean generated, Path file) {}

  static Resolved resolve(String configured, Path dataDir) throws IOException {
    if (!configured.isBlank()) {
      if (configured.length() < MIN_LENGTH) {
        throw new IllegalArgumentException(
            "RETINA_ADMIN_TOKEN must be at least " + MIN_LENGTH + " characters");
      }
      return new Resolved(configured, false, null);
    }
    Path file = dataDir.resolve("admin-token");
    if (Files.exists(file)) {
      return new Resolved(Files.readString(file, StandardCharsets.UTF_8).trim(), false, file);
    }
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    String token = "rtn_admin_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // not a POSIX file system; the data directory's own permissions apply
    }
    return new Resolved(token, true, file);
  }
}
