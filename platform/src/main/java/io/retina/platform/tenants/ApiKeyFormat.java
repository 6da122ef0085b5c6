package io.retina.platform.tenants;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.zip.CRC32;

/**
 * The shape of Retina's API keys: {@code rtn_live_<random>_<checksum>}. The random part is 32
 * base-62 characters (about 190 bits); its first 12 are the key's public prefix, indexed for
 * lookup. The 6-character checksum (CRC-32 of everything before it) lets a mistyped or made-up key
 * be refused before any lookup. Thread-safe.
 */
public final class ApiKeyFormat {
  private static final String HEAD = "rtn_live_";
  private static final String ALPHABET =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  private static final int RANDOM_LENGTH = 32;
  private static final int PREFIX_LENGTH = 12;
  private static final int CHECKSUM_LENGTH = 6;
  private static final SecureRandom RANDOM = new SecureRandom();

  private ApiKeyFormat() {}

  /** A new key in clear, to be shown once. */
  public static String generate() {
    StringBuilder body = new StringBuilder(HEAD);
    for (int i = 0; i < RANDOM_LENGTH; i++) {
      body.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return body + "_" + checksum(body.toString());
  }

  /** The key's lookup prefix, if the key is well formed and its checksum holds. */
  public static Optional<String> prefixOf(String key) {
    if (key == null || key.length() != HEAD.length() + RANDOM_LENGTH + 1 + CHECKSUM_LENGTH) {
      return Optional.empty();
    }
    if (!key.startsWith(HEAD) || key.charAt(HEAD.length() + RANDOM_LENGTH) != '_') {
      return Optional.empty();
    }
    String body = key.substring(0, HEAD.length() + RANDOM_LENGTH);
    for (int i = HEAD.length(); i < body.length(); i++) {
      if (ALPHABET.indexOf(body.charAt(i)) < 0) {
        return Optional.empty();
      }
    }
    if (!checksum(body).equals(key.substring(body.length() + 1))) {
      return Optional.empty();
    }
    return Optional.of(key.substring(HEAD.length(), HEAD.length() + PREFIX_LENGTH));
  }

  /** The stored form of a key: its SHA-256. */
  public static byte[] hash(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static String checksum(String body) {
    CRC32 crc = new CRC32();
    crc.update(body.getBytes(StandardCharsets.US_ASCII));
    long value = crc.getValue();
    char[] out = new char[CHECKSUM_LENGTH];
    for (int i = CHECKSUM_LENGTH - 1; i >= 0; i--) {
      out[i] = ALPHABET.charAt((int) (value % ALPHABET.length()));
      value /= ALPHABET.length();
    }
    return new String(out);
  }
}
