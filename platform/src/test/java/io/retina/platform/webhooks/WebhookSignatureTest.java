package io.retina.platform.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {

  /** The example in the Standard Webhooks specification's signature section. */
  @Test
  void signsTheSpecificationsExample() {
    String signature =
        WebhookSignature.sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330L,
            "{\"test\": 2432232314}");
    assertEquals("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
  }

  @Test
  void aHeaderSignsWithEverySecretInOrderAndNewSecretsAreRandom() {
    String a = WebhookSignature.newSecret();
    String b = WebhookSignature.newSecret();
    assertNotEquals(a, b);
    assertTrue(a.startsWith("whsec_"));
    assertEquals(24, Base64.getDecoder().decode(a.substring(6)).length);
    String header = WebhookSignature.header(List.of(a, b), "id-1", 1700000000L, "{}");
    assertEquals(
        WebhookSignature.sign(a, "id-1", 1700000000L, "{}")
            + " "
            + WebhookSignature.sign(b, "id-1", 1700000000L, "{}"),
        header);
    assertNotEquals(
        WebhookSignature.sign(a, "id-1", 1700000000L, "{}"),
        WebhookSignature.sign(a, "id-1", 1700000001L, "{}"),
        "the timestamp is signed");
  }
}
