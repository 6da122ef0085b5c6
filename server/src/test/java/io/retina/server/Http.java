package io.retina.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;

/** A small HTTP client for tests that speak to a node as a tenant's developer or an admin would. */
final class Http {
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final String base;

  Http(String base) {
    this.base = base;
  }

  record Reply(int status, java.net.http.HttpHeaders headers, byte[] body) {
    JsonNode json() {
      try {
        return Json.MAPPER.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + new String(body), e);
      }
    }

    String contentType() {
      return headers.firstValue("Content-Type").orElse("");
    }

    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    @Override
    public String toString() {
      return status + " " + new String(body, 0, Math.min(body.length, 500));
    }
  }

  Reply send(HttpRequest.Builder request) {
    try {
      HttpResponse<byte[]> r =
          CLIENT.send(
              request.timeout(Duration.ofSeconds(120)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      return new Reply(r.statusCode(), r.headers(), r.body());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  HttpRequest.Builder to(String path) {
    return HttpRequest.newBuilder(URI.create(base + path));
  }

  Reply get(String path, String token) {
    return send(to(path).header("Authorization", "Bearer " + token).GET());
  }

  Reply delete(String path, String token) {
    return send(to(path).header("Authorization", "Bearer " + token).DELETE());
  }

  Reply postJson(String path, String token, String json) {
    return send(
        to(path)
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** Submits an image as the raw body; extra headers come in name, value pairs. */
  Reply submit(String query, String token, String mediaType, byte[] image, String... headers) {
    HttpRequest.Builder r =
        to("/v1/jobs?" + query)
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", mediaType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(image));
    for (int i = 0; i < headers.length; i += 2) {
      r.header(headers[i], headers[i + 1]);
    }
    return send(r);
  }

  /** Creates a tenant through the admin API and returns a fresh API key of it. */
  /** A tenant the admin created, and an API key of its. */
  record TenantKey(String id, String key) {}

  String newTenantKey(String name) {
    return newTenant(name).key();
  }

  /** Makes a tenant and issues it a key, as the admin would. */
  TenantKey newTenant(String name) {
    Reply tenant = postJson("/admin/tenants", TestNode.ADMIN_TOKEN, "{\"name\":\"" + name + "\"}");
    if (tenant.status() != 201) {
      throw new AssertionError("tenant not created: " + tenant);
    }
    String id = tenant.json().get("id").asText();
    Reply key =
        postJson("/admin/tenants/" + id + "/keys", TestNode.ADMIN_TOKEN, "{\"name\":\"test\"}");
    if (key.status() != 201) {
      throw new AssertionError("key not issued: " + key);
    }
    return new TenantKey(id, key.json().get("secret").asText());
  }

  /** Names the tenants as the canaries of a staged version, so that they may run it. */
  void canaries(String model, int version, String... tenantIds) {
    String ids = String.join("\",\"", tenantIds);
    Reply r =
        send(
            to("/admin/models/" + model + "/versions/" + version + "/canaries")
                .header("Authorization", "Bearer " + TestNode.ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .PUT(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"tenants\":[" + (ids.isEmpty() ? "" : "\"" + ids + "\"") + "]}")));
    if (r.status() != 200) {
      throw new AssertionError("canaries not set: " + r);
    }
  }

  /** The texts of a JSON array, in order. */
  static java.util.List<String> texts(JsonNode array) {
    java.util.List<String> out = new java.util.ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  static String uniqueName(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
