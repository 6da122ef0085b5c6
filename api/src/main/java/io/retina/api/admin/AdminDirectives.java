package io.retina.api.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.api.ApiContext;
import io.retina.api.http.JsonBodies;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/** What every admin route shares: the admin token check, small JSON bodies, id parsing. */
abstract class AdminDirectives extends AllDirectives {
  /** Who admin actions are recorded as: the holder of the admin token. */
  static final String ACTOR = "admin";

  private static final Duration BODY_TIMEOUT = Duration.ofSeconds(10);

  final ApiContext api;

  AdminDirectives(ApiContext api) {
    this.api = api;
  }

  /** Checks the admin token, then runs the handler on the store executor. */
  Route admin(Function<HttpRequest, HttpResponse> handler) {
    return extractRequest(
        request ->
            completeWithFuture(
                CompletableFuture.supplyAsync(
                    () -> {
                      api.auth().admin(request);
                      return handler.apply(request);
                    },
                    api.store())));
  }

  interface BodyHandler {
    HttpResponse handle(HttpRequest request, JsonNode body);
  }

  /** Like {@link #admin} for requests with a small JSON object body. */
  Route withBody(BodyHandler handler) {
    return withSizeLimit(
        JsonBodies.MAX_BYTES,
        () ->
            extractStrictEntity(
                BODY_TIMEOUT,
                JsonBodies.MAX_BYTES,
                entity -> admin(request -> handler.handle(request, JsonBodies.object(entity)))));
  }

  static Optional<UUID> uuid(String id) {
    try {
      return Optional.of(UUID.fromString(id));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** A query parameter's whole number within bounds, or a 400 that names it. */
  static long number(String value, String name, long min, long max) {
    try {
      long n = Long.parseLong(value);
      if (n < min || n > max) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw io.retina.api.http.Problem.badRequest(
          "bad-request", name + " is a whole number from " + min + " to " + max + ".");
    }
  }
}
