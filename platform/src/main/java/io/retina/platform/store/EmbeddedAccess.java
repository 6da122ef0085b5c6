package io.retina.platform.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Who may connect to an embedded PostgreSQL: only this node, with a password. The library's initdb
 * trusts every local connection, so any user of the machine could connect as the superuser, past
 * row-level security. At first start a random password is written beside the server's data
 * directory (owner-only, mode 0600); the superuser gets it (hashed with SCRAM-SHA-256), and every
 * {@code trust} line of {@code pg_hba.conf} becomes {@code scram-sha-256}. Every start repeats
 * both, so a crash between the steps leaves nothing open. The server listens on 127.0.0.1 only.
 *
 * <p>Stateless and thread-safe; call it for one data directory from one process at a time.
 */
final class EmbeddedAccess {
  /** The superuser the library's initdb creates. */
  static final String SUPERUSER = "postgres";

  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  /** 32 characters of 62: about 190 bits, beyond guessing. */
  private static final int PASSWORD_LENGTH = 32;

  private static final Pattern TRUST = Pattern.compile("\\btrust\\s*$");

  private EmbeddedAccess() {}

  /** Where the password of the server with data in {@code dataDir} is kept. */
  static Path passwordFile(Path dataDir) {
    Path abs = dataDir.toAbsolutePath();
    return abs.resolveSibling(abs.getFileName() + "-password");
  }

  /** The server's password, made and written (mode 0600) if this is its first start. */
  static String password(Path dataDir) throws IOException {
    Path file = passwordFile(dataDir);
    if (Files.exists(file)) {
      String kept = Files.readString(file, StandardCharsets.US_ASCII).strip();
      if (kept.length() >= PASSWORD_LENGTH
          && kept.chars().allMatch(c -> ALPHABET.indexOf(c) >= 0)) {
        return kept;
      }
      throw new IOException(
          file + " does not hold a password this node wrote; remove it to make one");
    }
    SecureRandom random = new SecureRandom();
    StringBuilder password = new StringBuilder(PASSWORD_LENGTH);
    for (int i = 0; i < PASSWORD_LENGTH; i++) {
      password.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, password + "\n", StandardCharsets.US_ASCII);
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file);
    }
    return password.toString();
  }

  /** The builder's settings for a server that listens on loopback and hashes with SCRAM. */
  static EmbeddedPostgres.Builder configure(EmbeddedPostgres.Builder builder, String password) {
    return builder
        .setServerConfig("listen_addresses", "127.0.0.1")
        .setServerConfig("password_encryption", "scram-sha-256")
        // the library checks the server is up by connecting as the superuser
        .setConnectConfig("password", password);
  }

  /** Gives the superuser the password and stops trusting connections, then reloads the server. */
  static void lockDown(EmbeddedPostgres pg, Path dataDir, String password) throws IOException {
    try (var c = pg.getPostgresDatabase().getConnection();
        var st = c.createStatement()) {
      // the password is of ALPHABET only, so it can't end the literal
      st.execute("alter role " + SUPERUSER + " with password '" + password + "'");
      Path hba = dataDir.resolve("pg_hba.conf");
      List<String> lines = Files.readAllLines(hba, StandardCharsets.UTF_8);
      List<String> locked =
          lines.stream()
              .map(
                  l ->
                      l.stripLeading().startsWith("#")
                          ? l
                          : TRUST.matcher(l).replaceAll("scram-sha-256"))
              .toList();
      if (!locked.equals(lines)) {
        Files.write(hba, locked, StandardCharsets.UTF_8);
        st.execute("select pg_reload_conf()");
      }
    } catch (SQLException e) {
      throw new IOException("the embedded PostgreSQL's access could not be locked down", e);
    }
  }
}
