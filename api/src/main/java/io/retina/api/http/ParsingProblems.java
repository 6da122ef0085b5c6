package io.retina.api.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answer to a request too malformed to reach the routes (a bad header, a URI or headers over
 * the limits, an unsupported method or transfer encoding): a problem+json like every other error,
 * named by {@code pekko.http.server.parsing.error-handler}. It logs the status and Pekko's one-line
 * summary only, never the details, which can quote the request's headers. Stateless.
 */
public final class ParsingProblems extends ParsingErrorHandler {
  private static final Logger log = LoggerFactory.getLogger(ParsingProblems.class);

  /** Enough of a summary to tell the kind of error; the rest may be the client's bytes. */
  private static final int MAX_LOGGED_SUMMARY = 120;

  /** Pekko makes one per connection, by reflection: it needs a public no-argument constructor. */
  public ParsingProblems() {}

  @Override
  public HttpResponse handle(
      StatusCode status, ErrorInfo info, LoggingAdapter pekkoLog, ServerSettings settings) {
    int code = status.intValue();
    String summary = info.summary();
    log.info(
        "refused a malformed request with {}: {}",
        code,
        summary.length() > MAX_LOGGED_SUMMARY
            ? summary.substring(0, MAX_LOGGED_SUMMARY) + "..."
            : summary);
    return SecurityHeaders.apply(
        "/", new Problem(code, Problem.slugFor(code), status.reason(), summary).toResponse(null));
  }
}
