package io.retina.api.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import java.io.IOException;
import org.apache.pekko.http.javadsl.model.HttpEntity;

/** Reading small JSON request bodies, with a clear 400 or 415 for what isn't one. */
public final class JsonBodies {
  /** Admin and settings bodies are small; anything larger is a mistake. */
  public static final long MAX_BYTES = 64 * 1024;

  private JsonBodies() {}

  public static JsonNode object(HttpEntity.Strict entity) {
    String type = entity.getContentType().mediaType().toString();
    if (!type.equals("application/json")) {
      throw Problem.unsupportedMediaType("Send the body as application/json, not " + type + ".");
    }
    try {
      JsonNode node = Json.MAPPER.readTree(entity.getData().toArray());
      if (node == null || !node.isObject()) {
        throw Problem.badRequest("bad-json", "The body must be a JSON object.");
      }
      if (hasNul(node)) {
        // PostgreSQL text cannot hold it: refused here rather than failing in the store
        throw Problem.badRequest(
            "invalid-character", "Names, parameters and text may not contain U+0000 (NUL).");
      }
      return node;
    } catch (IOException e) {
      throw Problem.badRequest(
          "bad-json",
          "The body is not valid JSON: "
              + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j
                  ? j.getOriginalMessage()
                  : e.getMessage()));
    }
  }

  private static boolean hasNul(JsonNode node) {
    if (node.isTextual()) {
      return node.asText().indexOf('\u0000') >= 0;
    }
    var names = node.fieldNames();
    while (names.hasNext()) {
      if (names.next().indexOf('\u0000') >= 0) {
        return true;
      }
    }
    for (JsonNode child : node) {
      if (hasNul(child)) {
        return true;
      }
    }
    return false;
  }

  /** A required string member, 1 to {@code max} characters. */
  public static String text(JsonNode body, String field, int max) {
    JsonNode v = body.get(field);
    if (v == null || !v.isTextual() || v.asText().isBlank() || v.asText().length() > max) {
      throw Problem.unprocessable(
              "invalid-field",
              "'" + field + "' is required: a string of 1 to " + max + " characters.")
          .with("field", field);
    }
    return v.asText().trim();
  }
}
