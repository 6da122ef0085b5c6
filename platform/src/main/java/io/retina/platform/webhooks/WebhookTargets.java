package io.retina.platform.webhooks;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Which URLs a webhook may be sent to. A tenant names the URL, and the request goes out from inside
 * the platform's network, so a URL that reaches the platform's own services (loopback, private and
 * link-local ranges, the cloud metadata address) would let a tenant make requests it could not make
 * itself (server-side request forgery). Such URLs are refused when they are registered and again
 * before each delivery, since the name may resolve elsewhere by then. Only https is allowed unless
 * the node allows http (for development); tests allow private addresses to reach a receiver on
 * 127.0.0.1.
 */
public final class WebhookTargets {
  /** The longest URL kept. */
  public static final int MAX_LENGTH = 2048;

  /** What a node allows beyond public https URLs. */
  public record Policy(boolean allowHttp, boolean allowPrivate) {}

  /** A URL that may not be used, and why (said to the tenant). */
  public static final class Refused extends Exception {
    public Refused(String reason) {
      super(reason);
    }
  }

  private WebhookTargets() {}

  /** The URL, checked: syntax, scheme, and every address its host resolves to. */
  public static URI check(String url, Policy policy) throws Refused {
    URI uri = parse(url, policy);
    addresses(uri, policy);
    return uri;
  }

  /** The URL's syntax and scheme, without resolving its host. */
  public static URI parse(String url, Policy policy) throws Refused {
    if (url == null || url.isBlank()) {
      throw new Refused("The webhook URL is empty.");
    }
    if (url.length() > MAX_LENGTH) {
      throw new Refused("A webhook URL is at most " + MAX_LENGTH + " characters.");
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new Refused("The webhook URL is not a valid URL: " + e.getReason() + ".");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
    if (!scheme.equals("https") && !(scheme.equals("http") && policy.allowHttp())) {
      throw new Refused(
          policy.allowHttp() ? "A webhook URL is http or https." : "A webhook URL must be https.");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new Refused("The webhook URL has no host.");
    }
    if (uri.getRawUserInfo() != null) {
      throw new Refused("A webhook URL may not carry a user name or password.");
    }
    if (uri.getRawFragment() != null) {
      throw new Refused("A webhook URL may not have a fragment (#...).");
    }
    return uri;
  }

  /**
   * Every address the URL's host resolves to, all of them allowed; refused if the name does not
   * resolve or any address is not public (unless the policy allows private ones).
   */
  public static List<InetAddress> addresses(URI uri, Policy policy) throws Refused {
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    InetAddress[] all;
    try {
      all = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw new Refused("The webhook URL's host " + host + " does not resolve.");
    }
    if (!policy.allowPrivate()) {
      for (InetAddress a : all) {
        if (!isPublic(a)) {
          throw new Refused(
              "The webhook URL's host "
                  + host
                  + " resolves to "
                  + a.getHostAddress()
                  + ", which is not a public address.");
        }
      }
    }
    return List.of(all);
  }

  /**
   * Whether an address is on the public internet: not loopback, private, link-local or reserved.
   */
  public static boolean isPublic(InetAddress a) {
    if (a.isAnyLocalAddress()
        || a.isLoopbackAddress()
        || a.isLinkLocalAddress()
        || a.isSiteLocalAddress()
        || a.isMulticastAddress()) {
      return false;
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      return isPublicV4(b);
    }
    if (a instanceof Inet6Address) {
      int first = b[0] & 0xff;
      if ((first & 0xfe) == 0xfc) {
        return false; // fc00::/7, unique local (and the fd00:ec2::254 metadata address)
      }
      if (first == 0x20
          && (b[1] & 0xff) == 0x01
          && (b[2] & 0xff) == 0x0d
          && (b[3] & 0xff) == 0xb8) {
        return false; // 2001:db8::/32, documentation
      }
      boolean zeroPrefix = true;
      for (int i = 0; i < 10; i++) {
        zeroPrefix &= b[i] == 0;
      }
      if (zeroPrefix && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
        return isPublicV4(new byte[] {b[12], b[13], b[14], b[15]}); // ::ffff:a.b.c.d
      }
      if (zeroPrefix && b[10] == 0 && b[11] == 0) {
        return false; // ::/96, the deprecated IPv4-compatible range and :: and ::1
      }
      if ((b[0] & 0xff) == 0x00
          && (b[1] & 0xff) == 0x64
          && (b[2] & 0xff) == 0xff
          && (b[3] & 0xff) == 0x9b) {
        return isPublicV4(new byte[] {b[12], b[13], b[14], b[15]}); // 64:ff9b::/96, NAT64
      }
      return true;
    }
    return false;
  }

  private static boolean isPublicV4(byte[] b) {
    int a0 = b[0] & 0xff;
    int a1 = b[1] & 0xff;
    int a2 = b[2] & 0xff;
    return !(a0 == 0 // this network
        || a0 == 10
        || a0 == 127
        || (a0 == 100 && a1 >= 64 && a1 < 128) // carrier-grade NAT
        || (a0 == 169 && a1 == 254) // link-local, cloud metadata
        || (a0 == 172 && a1 >= 16 && a1 < 32)
        || (a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2)) // protocol assignments, TEST-NET-1
        || (a0 == 192 && a1 == 168)
        || (a0 == 198 && (a1 == 18 || a1 == 19)) // benchmarking
        || (a0 == 198 && a1 == 51 && a2 == 100) // TEST-NET-2
        || (a0 == 203 && a1 == 0 && a2 == 113) // TEST-NET-3
        || a0 >= 224); // multicast, reserved, broadcast
  }
}
