package io.retina.api.admin;

import io.retina.api.ApiContext;
import io.retina.api.http.Ids;
import io.retina.api.http.Problem;
import io.retina.api.http.Responses;
import io.retina.api.training.TrainingRoutes;
import io.retina.platform.training.Training;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Every tenant's trainings under {@code /admin/trainings}: the list (newest first, by status), one
 * training with its epochs, and canceling one, which the audit trail records.
 */
final class TrainingAdminRoutes extends AdminDirectives {
  private static final int MAX_LIMIT = 200;

  TrainingAdminRoutes(ApiContext api) {
    super(api);
  }

  Route route() {
    return pathPrefix(
        "trainings",
        () ->
            concat(
                pathEndOrSingleSlash(() -> get(() -> admin(this::list))),
                pathPrefix(
                    PathMatchers.segment(),
                    id ->
                        concat(
                            pathEnd(() -> get(() -> admin(r -> show(id)))),
                            path("cancel", () -> post(() -> admin(r -> cancel(id))))))));
  }

  private HttpResponse list(HttpRequest request) {
    var query = request.getUri().query();
    Training.Status status =
        query
            .get("status")
            .map(
                s -> {
                  try {
                    return Training.Status.valueOf(s.toUpperCase(Locale.ROOT));
                  } catch (IllegalArgumentException e) {
                    throw Problem.badRequest(
                            "bad-filter",
                            "status is one of queued, running, succeeded, failed, canceled.")
                        .with("field", "status");
                  }
                })
            .orElse(null);
    int limit =
        query.get("limit").map(v -> number(v, "limit", 1, MAX_LIMIT)).orElse(50L).intValue();
    return Responses.ok(
        Map.of(
            "trainings",
            api.trainings().all(status, limit).stream()
                .map(l -> json(l.training(), l.tenantName()))
                .toList()));
  }

  private HttpResponse show(String id) {
    Training t = Ids.parse(id).flatMap(api.trainings()::findAny).orElseThrow(() -> notFound(id));
    return Responses.ok(json(t, null));
  }

  private HttpResponse cancel(String id) {
    Training t = Ids.parse(id).flatMap(api.trainings()::cancelAny).orElseThrow(() -> notFound(id));
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("tenant", t.tenantId().toString());
    details.put("model", t.ref());
    details.put("status", t.status().dbValue());
    api.audit().record(ACTOR, "training.cancel", "training", t.id().toString(), details);
    return Responses.ok(json(t, null));
  }

  private static Map<String, Object> json(Training t, String tenantName) {
    Map<String, Object> m = new LinkedHashMap<>(TrainingRoutes.json(t, null));
    m.put("tenantId", t.tenantId().toString());
    if (tenantName != null) {
      m.put("tenantName", tenantName);
    }
    return m;
  }

  private static Problem notFound(String id) {
    return Problem.notFound("training-not-found", "No training " + id + ".");
  }
}
