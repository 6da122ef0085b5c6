package io.retina.platform.webhooks;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which webhook URLs are refused; IP literals only, so that no test needs a resolver. */
class WebhookTargetsTest {
  static final WebhookTargets.Policy STRICT = new WebhookTargets.Policy(false, false);
  static final WebhookTargets.Policy DEV = new WebhookTargets.Policy(true, true);

  @ParameterizedTest
  @ValueSource(
      strings = {
        "https://127.0.0.1/hook",
        "https://127.8.9.10:8443/hook",
        "https://[::1]/hook",
        "https://0.0.0.0/",
        "https://10.1.2.3/",
        "https://172.16.0.1/",
        "https://172.31.255.255/",
        "https://192.168.1.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/",
        "https://[fd00:ec2::254]/",
        "https://[fe80::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:10.0.0.1]/",
        "https://[64:ff9b::a00:1]/",
        "https://224.0.0.1/",
        "https://255.255.255.255/",
        "https://2130706433/",
      })
  void privateLoopbackLinkLocalAndMetadataAddressesAreRefused(String url) {
    var refused =
        assertThrows(WebhookTargets.Refused.class, () -> WebhookTargets.check(url, STRICT));
    assertTrue(
        refused.getMessage().contains("not a public address")
            || refused.getMessage().contains("does not resolve"),
        refused.getMessage());
    assertDoesNotThrow(() -> WebhookTargets.check(url.replace("https", "http"), DEV));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "http://93.184.216.34/hook",
        "ftp://93.184.216.34/",
        "https://user:pw@93.184.216.34/",
        "https://93.184.216.34/#frag",
        "https:///nohost",
        "not a url",
        ""
      })
  void otherSchemesCredentialsAndMalformedUrlsAreRefused(String url) {
    assertThrows(WebhookTargets.Refused.class, () -> WebhookTargets.check(url, STRICT));
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://93.184.216.34/hook?x=1", "https://[2606:4700::1111]:8443/"})
  void publicAddressesPass(String url) {
    assertDoesNotThrow(() -> WebhookTargets.check(url, STRICT));
  }
}
