package io.retina.platform.webhooks;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signatures as the Standard Webhooks specification defines them. A secret is {@code whsec_}
 * followed by the base64 of its key bytes. A message is signed with HMAC-SHA256 over {@code
 * id.timestamp.body} (the {@code webhook-id} header, the {@code webhook-timestamp} header in
 * seconds, the raw body), and the {@code webhook-signature} header holds {@code v1,} and the base64
 * of each signature, separated by spaces: one per secret in use, so that a receiver that has not
 * yet switched to a rotated secret still finds one it can check.
 */
public final class WebhookSignature {
  /** What every secret starts with. */
  public static final String PREFIX = "whsec_";

  /** Key bytes in a new secret: 192 bits, within the 24 to 64 bytes the specification allows. */
  private static final int KEY_BYTES = 24;

  private static final SecureRandom RANDOM = new SecureRandom();

  private WebhookSignature() {}

  /** A new random secret. */
  public static String newSecret() {
    byte[] key = new byte[KEY_BYTES];
    RANDOM.nextBytes(key);
    return PREFIX + Base64.getEncoder().encodeToString(key);
  }

  /** {@code v1,} and the base64 HMAC-SHA256 of {@code id.timestamp.body} under {@code secret}. */
  public static String sign(String secret, String id, long timestampSeconds, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key(secret), "HmacSHA256"));
      byte[] digest =
          mac.doFinal((id + "." + timestampSeconds + "." + body).getBytes(StandardCharsets.UTF_8));
      return "v1," + Base64.getEncoder().encodeToString(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  /** The {@code webhook-signature} header's value: a signature under each secret, in order. */
  public static String header(List<String> secrets, String id, long timestampSeconds, String body) {
    return secrets.stream()
        .map(s -> sign(s, id, timestampSeconds, body))
        .collect(Collectors.joining(" "));
  }

  private static byte[] key(String secret) {
    String encoded = secret.startsWith(PREFIX) ? secret.substring(PREFIX.length()) : secret;
    return Base64.getDecoder().decode(encoded);
  }
}
