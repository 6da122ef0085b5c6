package io.retina.api.jobs;

import io.retina.api.http.Problem;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * The deadline a submission asks for, counted from when the job is stored: a {@code Cancel-After}
 * header with a duration ({@code 30s}, {@code 5m}, {@code 1h30m}, {@code 1500ms}, as Replicate
 * takes it), or a {@code deadline} query or form parameter in whole seconds. Without either, the
 * node's default applies, cut to the tenant's plan cap; a deadline asked above the cap is refused
 * (422 {@code deadline-too-long}) rather than silently shortened, since the tenant would otherwise
 * learn of the cut only when its job failed. Stateless.
 */
final class SubmitDeadline {
  static final String HEADER = "Cancel-After";
  static final String PARAMETER = "deadline";

  /** The shortest deadline asked for: less can't cover even queueing and decoding a thumbnail. */
  static final Duration MIN = Duration.ofSeconds(1);

  private static final Pattern PART = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

  private SubmitDeadline() {}

  /** The task parameters without the deadline parameter, which is not the model's. */
  static Map<String, String> withoutDeadline(Map<String, String> params) {
    if (!params.containsKey(PARAMETER)) {
      return params;
    }
    Map<String, String> rest = new LinkedHashMap<>(params);
    rest.remove(PARAMETER);
    return rest;
  }

  /** The job's deadline: the one asked for, checked against the plan's cap, or the default. */
  static Duration resolve(
      HttpRequest request, Map<String, String> params, Duration planCap, Duration fallback) {
    Optional<Duration> asked = asked(request, params);
    if (asked.isEmpty()) {
      return fallback.compareTo(planCap) > 0 ? planCap : fallback;
    }
    Duration d = asked.get();
    if (d.compareTo(MIN) < 0) {
      throw Problem.badRequest(
          "bad-deadline",
          "A deadline is at least " + MIN.toSeconds() + " second; asked " + d + ".");
    }
    if (d.compareTo(planCap) > 0) {
      throw Problem.unprocessable(
              "deadline-too-long",
              "The deadline asked, "
                  + d.toSeconds()
                  + " s, is longer than the plan allows, "
                  + planCap.toSeconds()
                  + " s.")
          .with("maxDeadlineSeconds", planCap.toSeconds());
    }
    return d;
  }

  private static Optional<Duration> asked(HttpRequest request, Map<String, String> params) {
    Optional<String> header = request.getHeader(HEADER).map(HttpHeader::value);
    String parameter = params.get(PARAMETER);
    if (header.isPresent() && parameter != null) {
      throw Problem.badRequest(
          "bad-deadline", "Give the deadline once: a Cancel-After header or a deadline parameter.");
    }
    if (header.isPresent()) {
      return Optional.of(duration(header.get().trim()));
    }
    if (parameter != null) {
      try {
        long seconds = Long.parseLong(parameter.trim());
        if (seconds > 0 && seconds <= 1_000_000_000L) {
          return Optional.of(Duration.ofSeconds(seconds));
        }
      } catch (NumberFormatException e) {
        // refused below
      }
      throw Problem.badRequest(
          "bad-deadline", "deadline is a whole number of seconds, e.g. deadline=300.");
    }
    return Optional.empty();
  }

  /** A duration as Cancel-After writes it: one or more number-and-unit parts, e.g. 1h30m. */
  private static Duration duration(String text) {
    Matcher m = PART.matcher(text);
    Duration total = Duration.ZERO;
    int at = 0;
    while (at < text.length() && m.find(at) && m.start() == at) {
      long n = Long.parseLong(m.group(1));
      total =
          total.plus(
              switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
              });
      at = m.end();
    }
    if (at == 0 || at != text.length()) {
      throw Problem.badRequest(
          "bad-deadline",
          "Cancel-After is a duration such as 30s, 5m, 1h30m or 1500ms, not '" + text + "'.");
    }
    return total;
  }
}
