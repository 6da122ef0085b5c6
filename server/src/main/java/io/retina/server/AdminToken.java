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
 * and kept (owner-readable only) in the data directory, so it stays the same across restarts. A
 * token is at least {@value #MIN_LENGTH} token68 characters, or the node refuses to start.
 */
final class AdminToken {
  /**
   * Shorter tokens are refused: guessable admin access would undo every tenant's isolation. 32
   * characters of base64 carry 192 bits, as many as the generated token.
   */
  static final int MIN_LENGTH = 32;

  /**
   * RFC 9110's token68, the syntax of a bearer credential. A token outside it makes every admin
   * request's {@code Authorization} header unparseable, and HTTP servers log unparseable headers.
   */
  private static final java.util.regex.Pattern TOKEN68 =
      java.util.regex.Pattern.compile("[A-Za-z0-9._~+/-]+=*");

  private AdminToken() {}

  record Resolved(String token, boolean generated, Path file) {}

  static Resolved resolve(String configured, Path dataDir) throws IOException {
    if (!configured.isBlank()) {
      return new Resolved(checked(configured, "RETINA_ADMIN_TOKEN"), false, null);
    }
    Path file = dataDir.resolve("admin-token");
    if (Files.exists(file)) {
      String kept = Files.readString(file, StandardCharsets.UTF_8).trim();
      return new Resolved(checked(kept, "the admin token in " + file), false, file);
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

  /** The token, or a refusal that says what is wrong with it without repeating it. */
  static String checked(String token, String source) {
    if (token.length() < MIN_LENGTH || !TOKEN68.matcher(token).matches()) {
      throw new IllegalArgumentException(
          source
              + " must be at least "
              + MIN_LENGTH
              + " characters of A-Z, a-z, 0-9 and - . _ ~ + / (optionally ending in =);"
              + " generate one with: openssl rand -base64 33 | tr -d '\\n'");
    }
    return token;
  }
}
