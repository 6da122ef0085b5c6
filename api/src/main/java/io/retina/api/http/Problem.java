package io.retina.api.http;

import io.retina.platform.store.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * An RFC 9457 problem: every error the API gives is one of these, as {@code
 * application/problem+json}. The {@code type} is a stable relative URI ({@code /problems/<slug>})
 * that clients may switch on; the OpenAPI description lists every one.
 */
public final class Problem extends RuntimeException {
  public static final ContentType.WithFixedCharset PROBLEM_JSON =
      ContentTypes.create(
          MediaTypes.applicationWithFixedCharset(
              "problem+json", org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8));

  private final int status;
  private final String slug;
  private final String title;
  private final Map<String, Object> extensions = new LinkedHashMap<>();
  private final List<HttpHeader> headers = new java.util.ArrayList<>();

  public Problem(int status, String slug, String title, String detail) {
    super(detail, null, false, false);
    this.status = status;
    this.slug = slug;
    this.title = title;
  }

  /** Adds a member beside the standard ones, e.g. the parameter that was wrong. */
  public Problem with(String name, Object value) {
    extensions.put(name, value);
    return this;
  }

  public Problem withHeader(HttpHeader header) {
    headers.add(header);
    return this;
  }

  public int status() {
    return status;
  }

  public String type() {
    return "/problems/" + slug;
  }

  public HttpResponse toResponse(String instance) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", type());
    body.put("title", title);
    body.put("status", status);
    body.put("detail", getMessage());
    if (instance != null) {
      body.put("instance", instance);
    }
    body.putAll(extensions);
    return HttpResponse.create()
        .withStatus(StatusCodes.get(status))
        .addHeaders(headers)
        .withEntity(
            PROBLEM_JSON, Json.write(body).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /**
   * The type of an error answered by status alone (Pekko's own refusals, before or after routing);
   * the OpenAPI description lists each.
   */
  public static String slugFor(int status) {
    return switch (status) {
      case 401 -> "unauthorized";
      case 404 -> "not-found";
      case 405 -> "method-not-allowed";
      case 408 -> "body-timeout";
      case 413 -> "payload-too-large";
      case 414 -> "uri-too-long";
      case 415 -> "unsupported-media-type";
      case 417 -> "expectation-failed";
      case 431 -> "headers-too-large";
      case 501 -> "not-implemented";
      case 503 -> "service-unavailable";
      case 505 -> "http-version-not-supported";
      default -> status >= 500 ? "internal-error" : "bad-request";
    };
  }

  public static Problem badRequest(String slug, String detail) {
    return new Problem(400, slug, "The request is malformed", detail);
  }

  public static Problem unauthorized(String detail) {
    return new Problem(401, "unauthorized", "Authentication is required", detail)
        .withHeader(
            org.apache.pekko.http.javadsl.model.HttpHeader.parse(
                "WWW-Authenticate", "Bearer realm=\"retina\""));
  }

  public static Problem notFound(String slug, String detail) {
    return new Problem(404, slug, "Not found", detail);
  }

  public static Problem conflict(String slug, String detail) {
    return new Problem(409, slug, "Conflict with the resource's state", detail);
  }

  public static Problem gone(String slug, String detail) {
    return new Problem(410, slug, "Gone", detail);
  }

  public static Problem tooLarge(String slug, String detail) {
    return new Problem(413, slug, "Content too large", detail);
  }

  public static Problem unsupportedMediaType(String detail) {
    return new Problem(415, "unsupported-media-type", "Unsupported media type", detail);
  }

  public static Problem unprocessable(String slug, String detail) {
    return new Problem(422, slug, "The request cannot be processed", detail);
  }
}
