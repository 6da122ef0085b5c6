package io.retina.api.http;

import java.util.List;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The headers every response carries so that a browser treats it as what it is: no framing, no
 * content sniffing, no referrer, and a Content-Security-Policy. The console's policy lets its own
 * ES modules, styles and API calls through and nothing else (it has no inline script or style);
 * every other response is data, and its policy allows nothing at all. Stateless.
 */
public final class SecurityHeaders {
  static final String CONSOLE_POLICY =
      "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none';"
          + " form-action 'self'; frame-ancestors 'none'";
  static final String DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

  private static final List<HttpHeader> COMMON =
      List.of(
          RawHeader.create("X-Frame-Options", "DENY"),
          RawHeader.create("X-Content-Type-Options", "nosniff"),
          RawHeader.create("Referrer-Policy", "no-referrer"));

  private SecurityHeaders() {}

  /** The response with the headers for a request to {@code path} added. */
  public static HttpResponse apply(String path, HttpResponse response) {
    String policy =
        path.equals("/console") || path.startsWith("/console/") ? CONSOLE_POLICY : DATA_POLICY;
    return response
        .addHeaders(COMMON)
        .addHeader(RawHeader.create("Content-Security-Policy", policy));
  }
}
