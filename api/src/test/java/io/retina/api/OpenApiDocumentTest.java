package io.retina.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI description served at {@code /openapi.yaml} keeps up with the routes: it is OpenAPI
 * 3.1, it has every operation the routes serve, and it documents every problem type the source can
 * give, with its status.
 */
class OpenApiDocumentTest {
  /** Every operation the routes serve, as "METHOD path"; add a line with every new route. */
  private static final List<String> OPERATIONS =
      List.of(
          "POST /v1/jobs",
          "GET /v1/jobs",
          "GET /v1/jobs/{id}",
          "DELETE /v1/jobs/{id}",
          "GET /v1/jobs/{id}/result",
          "DELETE /v1/jobs/{id}/data",
          "GET /v1/models",
          "POST /v1/trainings",
          "GET /v1/trainings",
          "GET /v1/trainings/{trainingId}",
          "DELETE /v1/trainings/{trainingId}",
          "GET /v1/quota",
          "GET /v1/usage",
          "GET /v1/retention",
          "PUT /v1/retention",
          "GET /v1/webhooks/secret",
          "POST /v1/webhooks/secret/rotate",
          "GET /v1/webhooks/endpoints",
          "POST /v1/webhooks/endpoints",
          "GET /v1/webhooks/endpoints/{endpointId}",
          "DELETE /v1/webhooks/endpoints/{endpointId}",
          "GET /v1/webhooks/endpoints/{endpointId}/secret",
          "POST /v1/webhooks/endpoints/{endpointId}/rotate",
          "POST /v1/webhooks/endpoints/{endpointId}/enable",
          "GET /v1/webhooks/deliveries",
          "GET /v1/webhooks/deliveries/{deliveryId}",
          "POST /v1/webhooks/deliveries/{deliveryId}/redeliver",
          "GET /admin/tenants",
          "POST /admin/tenants",
          "GET /admin/tenants/{tenantId}",
          "PATCH /admin/tenants/{tenantId}",
          "DELETE /admin/tenants/{tenantId}",
          "GET /admin/tenants/{tenantId}/quota",
          "PUT /admin/tenants/{tenantId}/quota",
          "GET /admin/tenants/{tenantId}/keys",
          "POST /admin/tenants/{tenantId}/keys",
          "DELETE /admin/tenants/{tenantId}/keys/{keyId}",
          "POST /admin/tenants/{tenantId}/keys/{keyId}/rotate",
          "GET /admin/overview",
          "GET /admin/trainings",
          "GET /admin/trainings/{trainingId}",
          "POST /admin/trainings/{trainingId}/cancel",
          "GET /admin/models",
          "GET /admin/models/{modelName}",
          "POST /admin/models/{modelName}/versions",
          "POST /admin/models/{modelName}/versions/{version}/promote",
          "POST /admin/models/{modelName}/versions/{version}/retire",
          "GET /admin/models/{modelName}/versions/{version}/canaries",
          "PUT /admin/models/{modelName}/versions/{version}/canaries",
          "GET /admin/models/{modelName}/versions/{version}/scaling",
          "PUT /admin/models/{modelName}/versions/{version}/scaling",
          "POST /admin/models/{modelName}/rollback",
          "GET /admin/plans",
          "GET /admin/invoices",
          "GET /admin/invoices/{month}.csv",
          "GET /admin/storage",
          "GET /admin/audit",
          "GET /admin/webhook-endpoints",
          "GET /admin/jobs",
          "GET /admin/jobs/{jobId}",
          "POST /admin/jobs/{jobId}/cancel",
          "GET /admin/workers",
          "GET /health/live",
          "GET /health/ready",
          "GET /metrics",
          "GET /openapi.yaml",
          "GET /",
          "GET /console/",
          "GET /console/{asset}");

  private static final Path SOURCES = Path.of("src/main/java");
  private static final Path PROBLEM_SOURCE = SOURCES.resolve("io/retina/api/http/Problem.java");

  /** {@code new Problem(404, "slug", ...)}, across line breaks. */
  private static final Pattern CONSTRUCTED =
      Pattern.compile("new\\s+Problem\\(\\s*(\\d{3})\\s*,\\s*\"([^\"]+)\"");

  /** {@code Problem.factory("slug", ...)}, across line breaks. */
  private static final Pattern FACTORY_CALL =
      Pattern.compile("Problem\\s*\\.\\s*(\\w+)\\(\\s*\"([^\"]+)\"");

  /** A factory in Problem.java that takes the slug first, and the status it gives. */
  private static final Pattern SLUG_FACTORY =
      Pattern.compile(
          "public\\s+static\\s+Problem\\s+(\\w+)\\(\\s*String\\s+slug\\b[^)]*\\)\\s*\\{\\s*"
              + "return\\s+new\\s+Problem\\(\\s*(\\d{3})\\s*,\\s*slug\\b");

  /**
   * {@code catch (X.RefusedException e) { throw Problem.conflict(e.type(), ...) }}: a route that
   * answers a platform refusal with the problem type the refusal names.
   */
  private static final Pattern PASSED_ON =
      Pattern.compile(
          "catch\\s*\\(\\s*(\\w+)\\.RefusedException\\s+(\\w+)\\s*\\)\\s*\\{\\s*"
              + "throw\\s+Problem\\s*\\.\\s*(\\w+)\\(\\s*\\2\\.type\\(\\)");

  /** {@code new RefusedException("slug", ...)} in the platform: the type of a refusal. */
  private static final Pattern REFUSED =
      Pattern.compile("new\\s+RefusedException\\(\\s*\"([^\"]+)\"");

  /** The platform's sources, where the refusals the routes pass on are named. */
  private static final Path PLATFORM_SOURCES = Path.of("../platform/src/main/java");

  /**
   * {@code case 414 -> "slug";} in Problem.slugFor: the types of refusals known by status alone.
   */
  private static final Pattern BY_STATUS =
      Pattern.compile("case\\s+(\\d{3})\\s*->\\s*\"([^\"]+)\"");

  private static String text;
  private static JsonNode doc;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in =
        OpenApiDocumentTest.class.getClassLoader().getResourceAsStream("openapi/openapi.yaml")) {
      assertNotNull(in, "openapi/openapi.yaml is not on the classpath");
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    doc = new ObjectMapper(new YAMLFactory()).readTree(text);
  }

  @Test
  void isOpenApi31() {
    assertTrue(doc.path("openapi").asText().startsWith("3.1."), doc.path("openapi").asText());
    assertTrue(doc.path("info").hasNonNull("title"));
    assertTrue(doc.path("info").hasNonNull("version"));
  }

  @Test
  void describesEveryOperationTheRoutesServe() {
    List<String> missing = new ArrayList<>();
    for (String operation : OPERATIONS) {
      String[] parts = operation.split(" ", 2);
      JsonNode op = doc.path("paths").path(parts[1]).path(parts[0].toLowerCase());
      if (op.isMissingNode() || !op.path("responses").isObject()) {
        missing.add(operation);
      }
    }
    assertEquals(List.of(), missing, "operations served but not described");
  }

  @Test
  void securesTheTenantAndAdminApis() {
    JsonNode schemes = doc.path("components").path("securitySchemes");
    assertEquals("bearer", schemes.path("tenantKey").path("scheme").asText());
    assertEquals("bearer", schemes.path("adminToken").path("scheme").asText());
    for (String operation : OPERATIONS) {
      String[] parts = operation.split(" ", 2);
      String expected =
          parts[1].startsWith("/v1/")
              ? "tenantKey"
              : parts[1].startsWith("/admin/") ? "adminToken" : null;
      JsonNode security =
          doc.path("paths").path(parts[1]).path(parts[0].toLowerCase()).path("security");
      if (expected == null) {
        assertTrue(security.isMissingNode(), operation + " is open and should say no security");
      } else {
        assertTrue(security.toString().contains("\"" + expected + "\""), operation);
      }
    }
  }

  @Test
  void resolvesEveryLocalReference() {
    List<String> dangling = new ArrayList<>();
    collectRefs(doc)
        .forEach(
            ref -> {
              if (!ref.startsWith("#/") || doc.at(ref.substring(1)).isMissingNode()) {
                dangling.add(ref);
              }
            });
    assertEquals(List.of(), dangling);
  }

  @Test
  void documentsEveryProblemTheSourceGives() {
    Map<String, Integer> used = problemsInSource();
    assertTrue(
        used.containsKey("job-not-found") && used.containsKey("unauthorized"),
        "the source scan found too little: " + used);
    JsonNode documented = problemTypes();
    String description = doc.at("/components/schemas/Problem/description").asText();
    List<String> wrong = new ArrayList<>();
    used.forEach(
        (slug, status) -> {
          JsonNode entry = documented.path(slug);
          if (entry.path("status").asInt() != status
              || !description.contains("| `" + slug + "` | " + status + " |")) {
            wrong.add(slug + " (" + status + ")");
          }
        });
    assertEquals(List.of(), wrong, "problems given but not documented with their status");
  }

  @Test
  void refusalsToRetrySayWhenAndSubmissionsCarryTheRateLimit() {
    List<String> missing = new ArrayList<>();
    doc.path("paths")
        .fields()
        .forEachRemaining(
            path ->
                path.getValue()
                    .fields()
                    .forEachRemaining(
                        op ->
                            op.getValue()
                                .path("responses")
                                .fields()
                                .forEachRemaining(
                                    r -> {
                                      boolean problem =
                                          r.getValue()
                                              .path("content")
                                              .has("application/problem+json");
                                      if ((r.getKey().equals("429") || r.getKey().equals("503"))
                                          && problem
                                          && !r.getValue().path("headers").has("Retry-After")) {
                                        missing.add(
                                            op.getKey() + " " + path.getKey() + " " + r.getKey());
                                      }
                                    })));
    JsonNode submit = doc.at("/paths/~1v1~1jobs/post/responses");
    for (String status : List.of("200", "202", "429")) {
      for (String header : List.of("RateLimit", "RateLimit-Policy")) {
        if (!submit.path(status).path("headers").has(header)) {
          missing.add("post /v1/jobs " + status + " " + header);
        }
      }
    }
    assertEquals(List.of(), missing, "responses without the headers the routes send");
  }

  @Test
  void documentsNoProblemTheSourceNeverGives() {
    Map<String, Integer> used = problemsInSource();
    List<String> stale = new ArrayList<>();
    problemTypes()
        .fieldNames()
        .forEachRemaining(
            slug -> {
              if (!used.containsKey(slug)) {
                stale.add(slug);
              }
            });
    assertEquals(List.of(), stale, "problems documented but never given");
  }

  private static JsonNode problemTypes() {
    JsonNode types = doc.at("/components/schemas/Problem/x-problem-types");
    assertTrue(types.isObject(), "the Problem schema has no x-problem-types");
    return types;
  }

  /** Every problem slug in the module's source, with its status. */
  private static Map<String, Integer> problemsInSource() {
    Map<String, Integer> factories = new TreeMap<>();
    Matcher f = SLUG_FACTORY.matcher(read(PROBLEM_SOURCE));
    while (f.find()) {
      factories.put(f.group(1), Integer.parseInt(f.group(2)));
    }
    assertTrue(factories.containsKey("notFound"), "Problem.java's factories were not found");

    Map<String, Integer> slugs = new TreeMap<>();
    Matcher b = BY_STATUS.matcher(read(PROBLEM_SOURCE));
    while (b.find()) {
      slugs.put(b.group(2), Integer.parseInt(b.group(1)));
    }
    assertTrue(slugs.containsKey("uri-too-long"), "Problem.slugFor's cases were not found");
    try (Stream<Path> files = Files.walk(SOURCES)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String source = read(file);
        Matcher c = CONSTRUCTED.matcher(source);
        while (c.find()) {
          slugs.put(c.group(2), Integer.parseInt(c.group(1)));
        }
        Matcher m = FACTORY_CALL.matcher(source);
        while (m.find()) {
          Integer status = factories.get(m.group(1));
          if (status != null) {
            slugs.put(m.group(2), status);
          }
        }
        Matcher p = PASSED_ON.matcher(source);
        while (p.find()) {
          Integer status = factories.get(p.group(3));
          assertNotNull(status, "Problem." + p.group(3) + " does not take a slug");
          for (String slug : refusals(p.group(1))) {
            slugs.put(slug, status);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return slugs;
  }

  /** The refusal types named in the platform class {@code className}'s source. */
  private static List<String> refusals(String className) {
    try (Stream<Path> files = Files.walk(PLATFORM_SOURCES)) {
      Path file =
          files
              .filter(f -> f.getFileName().toString().equals(className + ".java"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no platform source for " + className));
      List<String> types = new ArrayList<>();
      Matcher r = REFUSED.matcher(read(file));
      while (r.find()) {
        types.add(r.group(1));
      }
      assertTrue(!types.isEmpty(), className + " names no refusal types");
      return types;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> collectRefs(JsonNode node) {
    List<String> refs = new ArrayList<>();
    if (node.isObject()) {
      node.fields()
          .forEachRemaining(
              e -> {
                if (e.getKey().equals("$ref") && e.getValue().isTextual()) {
                  refs.add(e.getValue().asText());
                } else {
                  refs.addAll(collectRefs(e.getValue()));
                }
              });
    } else if (node.isArray()) {
      node.forEach(child -> refs.addAll(collectRefs(child)));
    }
    return refs;
  }
}
