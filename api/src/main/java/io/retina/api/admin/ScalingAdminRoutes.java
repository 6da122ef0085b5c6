package io.retina.api.admin;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.api.http.Problem;
import io.retina.api.http.Responses;
import io.retina.platform.cluster.RunnerId;
import io.retina.platform.cluster.Scaling;
import io.retina.platform.cluster.ScalingStore;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A version's replica settings under {@code /admin/models/{name}/versions/{v}/scaling}: read them
 * (the version's own, and what applies with the node's defaults filled in), and replace them. A
 * change reaches the version's runner at once (and within 15 s if that hint is lost).
 */
final class ScalingAdminRoutes extends AdminDirectives {
  /** The most replicas one version may ask for: more than any cluster this build has met. */
  static final int MAX_REPLICAS = 64;

  ScalingAdminRoutes(io.retina.api.ApiContext api) {
    super(api);
  }

  Route route() {
    return pathPrefix(
        "models",
        () ->
            pathPrefix(
                PathMatchers.segment().slash("versions").slash(PathMatchers.integerSegment()),
                (name, version) ->
                    path(
                        "scaling",
                        () ->
                            concat(
                                get(() -> admin(r -> show(new RunnerId(name, version)))),
                                put(
                                    () ->
                                        withBody(
                                            (r, body) ->
                                                replace(new RunnerId(name, version), body)))))));
  }

  private HttpResponse show(RunnerId id) {
    Scaling.Overrides own =
        api.scaling()
            .overrides(id)
            .orElseThrow(
                () ->
                    Problem.notFound(
                        "model-version-not-found", "There is no model version " + id + "."));
    Scaling applied = own.over(api.defaultScaling());
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("ref", id.toString());
    json.put("minReplicas", applied.minReplicas());
    json.put("maxReplicas", applied.maxReplicas());
    json.put("targetWaitSeconds", applied.targetWait().toMillis() / 1e3);
    json.put("maxWaitSeconds", applied.maxWait().toMillis() / 1e3);
    json.put("device", applied.device());
    Map<String, Object> set = new LinkedHashMap<>();
    set.put("minReplicas", own.minReplicas());
    set.put("maxReplicas", own.maxReplicas());
    set.put(
        "targetWaitSeconds", own.targetWait() == null ? null : own.targetWait().toMillis() / 1e3);
    set.put("maxWaitSeconds", own.maxWait() == null ? null : own.maxWait().toMillis() / 1e3);
    set.put("device", own.device());
    json.put("own", set);
    json.put(
        "events", api.scaling().recent(id, 20).stream().map(ScalingAdminRoutes::event).toList());
    return Responses.ok(json);
  }

  /**
   * Replaces the version's own settings with the body's: {@code minReplicas}, {@code maxReplicas},
   * {@code targetWaitSeconds}, {@code maxWaitSeconds}, {@code device}; a missing or null field
   * takes the node's default.
   */
  private HttpResponse replace(RunnerId id, JsonNode body) {
    body.fieldNames()
        .forEachRemaining(
            f -> {
              if (!java.util.Set.of(
                      "minReplicas", "maxReplicas", "targetWaitSeconds", "maxWaitSeconds", "device")
                  .contains(f)) {
                throw Problem.unprocessable("unknown-field", "Unknown field '" + f + "'.")
                    .with("field", f);
              }
            });
    Scaling.Overrides o =
        new Scaling.Overrides(
            integer(body, "minReplicas", 0, MAX_REPLICAS),
            integer(body, "maxReplicas", 1, MAX_REPLICAS),
            seconds(body, "targetWaitSeconds", 0.1, 3600),
            seconds(body, "maxWaitSeconds", 1, 86_400),
            device(body));
    try {
      o.over(api.defaultScaling());
    } catch (IllegalArgumentException e) {
      throw Problem.unprocessable("invalid-field", e.getMessage()).with("field", "minReplicas");
    }
    if (!api.scaling().set(id, o)) {
      throw Problem.notFound("model-version-not-found", "There is no model version " + id + ".");
    }
    Map<String, Object> details = new LinkedHashMap<>();
    body.fields().forEachRemaining(e -> details.put(e.getKey(), e.getValue().toString()));
    api.audit().record(ACTOR, "model.scaling", "model_version", id.toString(), details);
    api.runners().settingsChanged(id);
    return show(id);
  }

  static Map<String, Object> event(ScalingStore.Event e) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("at", e.at().toString());
    json.put("version", e.runner());
    json.put("direction", e.direction());
    json.put("from", e.replicasFrom());
    json.put("to", e.replicasTo());
    json.put("node", e.node());
    json.put("reason", e.reason());
    return json;
  }

  private static Integer integer(JsonNode body, String field, int min, int max) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isInt() || v.asInt() < min || v.asInt() > max) {
      throw Problem.unprocessable(
              "invalid-field", field + " is a whole number from " + min + " to " + max + ".")
          .with("field", field);
    }
    return v.asInt();
  }

  private static Duration seconds(JsonNode body, String field, double min, double max) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber() || v.asDouble() < min || v.asDouble() > max) {
      throw Problem.unprocessable(
              "invalid-field", field + " is a number of seconds from " + min + " to " + max + ".")
          .with("field", field);
    }
    return Duration.ofMillis(Math.round(v.asDouble() * 1000));
  }

  private static String device(JsonNode body) {
    JsonNode v = body.get("device");
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual() || !(v.asText().equals("any") || v.asText().equals("gpu"))) {
      throw Problem.unprocessable("invalid-field", "device is \"any\" or \"gpu\".")
          .with("field", "device");
    }
    return v.asText();
  }
}
