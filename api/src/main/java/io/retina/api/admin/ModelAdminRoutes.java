package io.retina.api.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import io.retina.api.ApiContext;
import io.retina.api.http.Problem;
import io.retina.api.http.Responses;
import io.retina.api.models.ModelVersionJson;
import io.retina.platform.cluster.RunnerId;
import io.retina.platform.models.Model;
import io.retina.platform.models.ModelArchive;
import io.retina.platform.models.ModelLoads;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.ModelRepository.Transition;
import io.retina.platform.models.ModelTasks;
import io.retina.platform.models.ModelVersion;
import io.retina.platform.models.ParameterSpec;
import io.retina.platform.store.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.javadsl.FileIO;

/**
 * The model registry under {@code /admin/models}: upload a version (a zip of a SavedModel or of
 * TF.js model files), list every version with its status, promote one to active, roll back to the
 * version active before, retire one. Every change is one transaction and is audited.
 *
 * <p>An upload is checked for structure here (the zip opens safely, every artifact option names a
 * model of its format, every weight file is there) and stored as {@code staged}; TensorFlow stays
 * on the workers, so a model that is well formed but does not import fails its jobs with {@code
 * model-unavailable} and is seen there. A staged upload runs jobs that pin it ({@code name@v}) only
 * for the tenants named as its canaries, so it can be tried before it is promoted; a retired one
 * runs none that were not queued before.
 *
 * <p>An upload is authorized from its headers before its body is read, and the body streams to a
 * temporary file, never whole into the heap.
 */
final class ModelAdminRoutes extends AdminDirectives {
  /** 200 MiB: the largest catalog package zips to about 150 MB. */
  static final long DEFAULT_MAX_UPLOAD_BYTES = 200L * 1024 * 1024;

  private static final String NAME_PATTERN = "[a-z][a-z0-9-]{1,62}";
  private static final Set<String> FORMATS = Set.of("tfjs-graph", "tfjs-layers", "saved-model");
  private static final Set<String> ZIP_TYPES =
      Set.of("application/zip", "application/x-zip-compressed", "application/octet-stream");
  private static final String ARTIFACT_PREFIX = "artifact.";

  /** A canary list names a few tenants to try a version on, not a population. */
  private static final int MAX_CANARIES = 1000;

  private final long maxUploadBytes;

  ModelAdminRoutes(ApiContext api) {
    this(api, DEFAULT_MAX_UPLOAD_BYTES);
  }

  ModelAdminRoutes(ApiContext api, long maxUploadBytes) {
    super(api);
    this.maxUploadBytes = maxUploadBytes;
  }

  Route route() {
    return pathPrefix(
        "models",
        () ->
            concat(
                pathEndOrSingleSlash(() -> get(() -> admin(r -> Responses.ok(listAll())))),
                pathPrefix(PathMatchers.segment(), this::oneModel)));
  }

  private Route oneModel(String name) {
    return concat(
        pathEndOrSingleSlash(() -> get(() -> admin(r -> Responses.ok(model(find(name)))))),
        path("rollback", () -> post(() -> admin(r -> rollback(name)))),
        pathPrefix(
            "versions",
            () ->
                concat(
                    pathEndOrSingleSlash(() -> post(() -> extractRequest(r -> upload(name, r)))),
                    pathPrefix(
                        PathMatchers.integerSegment(),
                        version ->
                            concat(
                                path(
                                    "promote",
                                    () -> post(() -> admin(r -> promote(name, version)))),
                                path("retire", () -> post(() -> admin(r -> retire(name, version)))),
                                path(
                                    "canaries",
                                    () ->
                                        concat(
                                            get(() -> admin(r -> canaries(name, version))),
                                            put(
                                                () ->
                                                    withBody(
                                                        (r, body) ->
                                                            setCanaries(
                                                                name, version, body))))))))));
  }

  // ---- upload ----

  private Route upload(String name, HttpRequest request) {
    var declared = request.entity().getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > maxUploadBytes) {
      throw Problem.tooLarge(
          "payload-too-large",
          "The artifact is "
              + declared.getAsLong()
              + " bytes; the limit is "
              + maxUploadBytes
              + ".");
    }
    // from the headers alone: a refused upload is answered before a byte of its body is read, and
    // Pekko closes the connection with the rest unread. A client that sends a large body should
    // send Expect: 100-continue (curl does above 1 MB) to hear of the refusal before sending it.
    api.auth().admin(request);
    String type = request.entity().getContentType().mediaType().toString();
    if (!ZIP_TYPES.contains(type)) {
      throw Problem.unsupportedMediaType(
          "Send the artifact as the body, Content-Type: application/zip; not " + type + ".");
    }
    return withSizeLimit(
        maxUploadBytes,
        () ->
            extractRequestEntity(
                entity ->
                    extractMaterializer(
                        mat -> {
                          Path zip = tempFile();
                          CompletionStage<HttpResponse> answer =
                              entity
                                  .getDataBytes()
                                  .runWith(FileIO.toPath(zip), mat)
                                  .exceptionally(
                                      e -> {
                                        throw tooLargeOrFailed(e);
                                      })
                                  .thenApplyAsync(done -> stage(name, request, zip), api.store())
                                  .whenComplete((r, e) -> deleteQuietly(zip));
                          return completeWithFuture(answer);
                        })));
  }

  private HttpResponse stage(String name, HttpRequest request, Path zip) {
    Map<String, String> query = request.getUri().query().toMap();
    Optional<Model> model = api.models().model(name);
    if (model.isEmpty() && !name.matches(NAME_PATTERN)) {
      throw invalid("name", "A model name is 2 to 63 of a-z, 0-9 and '-', starting with a letter.");
    }
    Optional<ModelVersion> base = model.flatMap(m -> baseVersion(m.name()));
    String task = query.getOrDefault("task", model.map(Model::task).orElse(null));
    if (task == null) {
      throw invalid("task", "A new model needs its task, one of " + ModelTasks.ALL + ".");
    }
    if (model.isPresent() && !model.get().task().equals(task)) {
      throw invalid("task", name + " is a " + model.get().task() + " model; its versions are too.");
    }
    String format = query.getOrDefault("format", base.map(ModelVersion::format).orElse(null));
    if (format == null || !FORMATS.contains(format)) {
      throw invalid("format", "format is one of " + FORMATS + ".");
    }
    Map<String, String> options = artifactOptions(query, base);
    ModelTasks.checkOptions(task, options)
        .ifPresent(
            why -> {
              throw invalid("artifact", why + ".");
            });
    try {
      ModelArchive.check(
          zip, format, ModelTasks.modelFiles(task, options), ModelArchive.Limits.DEFAULT);
    } catch (ModelArchive.InvalidArchiveException e) {
      throw Problem.unprocessable("invalid-model-artifact", e.getMessage() + ".");
    }
    Optional<String> refused;
    try {
      refused = api.inspector().refusal(zip, format, options);
    } catch (IOException e) {
      throw Problem.unprocessable("invalid-model-artifact", e.getMessage() + ".");
    }
    refused.ifPresent(
        why -> {
          throw Problem.unprocessable("model-op-not-allowed", why + ".");
        });
    String digest = sha256(zip);
    Map<String, String> artifact = new LinkedHashMap<>();
    artifact.put("root", ModelArchive.uploadRoot(digest));
    artifact.put(ModelArchive.STORE_OPTION, ModelArchive.IN_DATABASE);
    artifact.putAll(options);
    boolean batchSafe = Boolean.parseBoolean(query.getOrDefault("batchSafe", "false"));
    ModelVersion draft;
    try {
      draft =
          new ModelVersion(
              name,
              0, // numbered by the registry
              task,
              format,
              query.getOrDefault("source", "upload"),
              digest,
              artifact,
              parameters(query, base),
              batchSafe,
              (int) number(query, "maxBatchSize", 1, 64, 1),
              (int) number(query, "maxBatchDelayMs", 0, 1000, 0),
              price(query, "pricePerImageMicros", base.map(ModelVersion::pricePerImageMicros)),
              price(
                  query,
                  "pricePerMegapixelMicros",
                  base.map(ModelVersion::pricePerMegapixelMicros)),
              ModelVersion.Status.STAGED);
    } catch (IllegalArgumentException e) {
      throw invalid("maxBatchSize", e.getMessage() + ".");
    }
    ModelVersion stored;
    try {
      stored =
          api.models()
              .stage(
                  draft, query.getOrDefault("description", "An uploaded " + task + " model."), zip);
    } catch (ModelRepository.TaskMismatchException e) {
      throw invalid("task", e.getMessage() + "; its versions are too.");
    }
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("digest", digest);
    details.put("bytes", size(zip));
    details.put("format", format);
    details.put("task", task);
    api.audit().record(ACTOR, "model.upload", "model_version", stored.ref(), details);
    // its load's outcome reaches the registry in moments, with no job needed to find out
    api.runners().prepare(RunnerId.of(stored), "uploaded");
    return Responses.json(201, version(stored, List.of()))
        .addHeader(Location.create("/admin/models/" + name));
  }

  /** The version an upload takes its defaults from: the active one, else the newest. */
  private Optional<ModelVersion> baseVersion(String name) {
    List<ModelVersion> versions =
        api.models().listAll().stream().filter(v -> v.modelName().equals(name)).toList();
    return versions.stream()
        .filter(v -> v.status() == ModelVersion.Status.ACTIVE)
        .findFirst()
        .or(() -> versions.stream().max(Comparator.comparingInt(ModelVersion::version)));
  }

  /**
   * {@code artifact.<option>=<path>} query parameters, or {@code entry=<path>} for a task's one
   * {@code model}; when none is given, the base version's options (the same layout again).
   */
  private static Map<String, String> artifactOptions(
      Map<String, String> query, Optional<ModelVersion> base) {
    Map<String, String> options = new LinkedHashMap<>();
    query.forEach(
        (k, v) -> {
          if (k.startsWith(ARTIFACT_PREFIX) && k.length() > ARTIFACT_PREFIX.length()) {
            options.put(k.substring(ARTIFACT_PREFIX.length()), v);
          }
        });
    if (query.containsKey("entry")) {
      options.put("model", query.get("entry"));
    }
    if (options.isEmpty() && base.isPresent()) {
      base.get()
          .artifact()
          .forEach(
              (k, v) -> {
                if (!ModelTasks.RESERVED_OPTIONS.contains(k)) {
                  options.put(k, v);
                }
              });
    }
    return options;
  }

  private static List<ParameterSpec> parameters(
      Map<String, String> query, Optional<ModelVersion> base) {
    String json = query.get("parameters");
    if (json == null) {
      return base.map(ModelVersion::parameters).orElse(List.of());
    }
    try {
      List<ParameterSpec> specs =
          Json.MAPPER.readValue(json, new TypeReference<List<ParameterSpec>>() {});
      if (specs == null || specs.stream().anyMatch(p -> p == null || p.name() == null)) {
        throw new IllegalArgumentException("a parameter has no name");
      }
      return specs;
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw invalid(
          "parameters",
          "parameters is a JSON array of {name, description, defaultValue} with either allowed"
              + " (a list of values) or min and max (whole numbers, 0 <= min <= max), the default"
              + " among the values they allow: "
              + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
    }
  }

  private static long price(Map<String, String> query, String field, Optional<Long> inherited) {
    if (!query.containsKey(field) && inherited.isPresent()) {
      return inherited.get();
    }
    if (!query.containsKey(field)) {
      throw invalid(field, "A new model needs its price: " + field + ".");
    }
    return number(query, field, 0, Long.MAX_VALUE, 0);
  }

  private static long number(
      Map<String, String> query, String field, long min, long max, long absent) {
    String value = query.get(field);
    if (value == null) {
      return absent;
    }
    try {
      long n = Long.parseLong(value);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw invalid(field, field + " is a whole number from " + min + " to " + max + ".");
  }

  private static Problem invalid(String field, String detail) {
    return Problem.unprocessable("invalid-model-metadata", detail).with("field", field);
  }

  // ---- lifecycle ----

  private HttpResponse promote(String name, int version) {
    Transition t = api.models().promote(name, version);
    return answer(name, t, "model.promote", name + "@" + version);
  }

  private HttpResponse rollback(String name) {
    Transition t = api.models().rollback(name);
    return answer(name, t, "model.rollback", t.to() == null ? name : name + "@" + t.to());
  }

  private HttpResponse retire(String name, int version) {
    Transition t = api.models().retire(name, version);
    return answer(name, t, "model.retire", name + "@" + version);
  }

  /** The model after a change, or the problem that refused it; a change is audited. */
  private HttpResponse answer(String name, Transition t, String action, String target) {
    switch (t.outcome()) {
      case NO_SUCH_MODEL -> throw modelNotFound(name);
      case NO_SUCH_VERSION ->
          throw Problem.notFound(
              "model-version-not-found", "Model " + name + " has no version " + target + ".");
      case RETIRED ->
          throw Problem.conflict(
              "model-version-retired", target + " is retired; it can never be active again.");
      case ACTIVE ->
          throw Problem.conflict(
              "model-version-active",
              target + " is the active version; promote another before retiring it.");
      case NO_PREVIOUS ->
          throw Problem.conflict(
              "no-previous-version",
              "No version of " + name + " was active before this one, or it was retired.");
      case CHANGED -> {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("from", t.from() == null ? null : name + "@" + t.from());
        details.put("to", t.to() == null ? null : name + "@" + t.to());
        api.audit().record(ACTOR, action, "model_version", target, details);
        if (t.to() != null && !action.equals("model.retire")) {
          // the version that now takes the model's jobs: loaded before most of them arrive
          api.runners().prepare(new RunnerId(name, t.to()), action);
        }
      }
      case UNCHANGED -> {
        // already so: nothing to record
      }
    }
    return Responses.ok(model(find(name)));
  }

  // ---- canaries ----

  /** Who may run the version: everyone once it is published, else only its canaries. */
  private HttpResponse canaries(String name, int version) {
    find(name);
    if (api.models().find(name, version).isEmpty()) {
      throw Problem.notFound(
          "model-version-not-found", "Model " + name + " has no version " + version + ".");
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("ref", name + "@" + version);
    json.put("published", api.models().isPublished(name, version));
    json.put(
        "canaries", api.models().canaries(name, version).stream().map(UUID::toString).toList());
    return Responses.ok(json);
  }

  /** Replaces the version's canaries with the tenants in {@code {"tenants": [id, ...]}}. */
  private HttpResponse setCanaries(String name, int version, JsonNode body) {
    JsonNode list = body.get("tenants");
    if (list == null || !list.isArray() || list.size() > MAX_CANARIES) {
      throw Problem.unprocessable(
              "invalid-field", "tenants is a list of at most " + MAX_CANARIES + " tenant ids.")
          .with("field", "tenants");
    }
    Set<UUID> tenants = new java.util.LinkedHashSet<>();
    for (JsonNode id : list) {
      UUID tenant =
          uuid(id.asText())
              .filter(t -> api.tenants().find(t).isPresent())
              .orElseThrow(
                  () ->
                      Problem.unprocessable("invalid-field", "No tenant " + id.asText() + ".")
                          .with("field", "tenants"));
      tenants.add(tenant);
    }
    find(name);
    if (!api.models().setCanaries(name, version, tenants)) {
      throw Problem.notFound(
          "model-version-not-found", "Model " + name + " has no version " + version + ".");
    }
    api.audit()
        .record(
            ACTOR,
            "model.canaries",
            "model_version",
            name + "@" + version,
            Map.of("tenants", tenants.stream().map(UUID::toString).toList()));
    return canaries(name, version);
  }

  // ---- views ----

  private Map<String, Object> listAll() {
    List<ModelVersion> versions = api.models().listAll();
    List<ModelLoads.Load> loads = api.models().loads().all();
    List<Map<String, Object>> models =
        api.models().models().stream()
            .map(
                m ->
                    model(
                        m,
                        versions.stream().filter(v -> v.modelName().equals(m.name())).toList(),
                        loads))
            .toList();
    return Map.of("models", models);
  }

  private Model find(String name) {
    return api.models().model(name).orElseThrow(() -> modelNotFound(name));
  }

  private Map<String, Object> model(Model m) {
    return model(
        m,
        api.models().listAll().stream().filter(v -> v.modelName().equals(m.name())).toList(),
        api.models().loads().all());
  }

  private static Map<String, Object> model(
      Model m, List<ModelVersion> versions, List<ModelLoads.Load> loads) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("name", m.name());
    json.put("task", m.task());
    json.put("description", m.description());
    json.put(
        "activeVersion",
        versions.stream()
            .filter(v -> v.status() == ModelVersion.Status.ACTIVE)
            .map(ModelVersion::version)
            .findFirst()
            .orElse(null));
    json.put("previousVersion", m.previousVersion());
    json.put("versions", versions.stream().map(v -> version(v, loads)).toList());
    return json;
  }

  static Map<String, Object> version(ModelVersion v, List<ModelLoads.Load> loads) {
    Map<String, Object> m = ModelVersionJson.common(v);
    m.put("uploaded", ModelArchive.isStored(v));
    Map<String, String> options = new LinkedHashMap<>(v.artifact());
    ModelTasks.RESERVED_OPTIONS.forEach(options::remove);
    m.put("artifact", options);
    m.put("parameters", v.parameters());
    m.put("batchSafe", v.batchSafe());
    m.put("maxBatchSize", v.maxBatchSize());
    m.put("maxBatchDelayMs", v.maxBatchDelayMs());
    m.put("price", ModelVersionJson.price(v));
    m.put(
        "loads",
        loads.stream()
            .filter(l -> l.modelName().equals(v.modelName()) && l.version() == v.version())
            .map(ModelAdminRoutes::load)
            .toList());
    return m;
  }

  /** One node's last load of a version: what the registry says about why it does not serve. */
  private static Map<String, Object> load(ModelLoads.Load l) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("node", l.node());
    m.put("outcome", l.loaded() ? "loaded" : "failed");
    m.put("detail", l.detail());
    m.put(
        "forms",
        l.forms().stream()
            .map(
                f ->
                    Map.of(
                        "file", f.file(),
                        "sourceDigest", f.sourceDigest(),
                        "canonicalDigest", f.canonicalDigest()))
            .toList());
    m.put("at", l.at().toString());
    return m;
  }

  private static Problem modelNotFound(String name) {
    return Problem.notFound(
        "model-not-found", "No model " + name + "; GET /admin/models lists them.");
  }

  // ---- files ----

  private static Problem tooLargeOrFailed(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof org.apache.pekko.http.scaladsl.model.EntityStreamSizeException) {
        return Problem.tooLarge("payload-too-large", "The artifact is over the upload limit.");
      }
      if (c instanceof Problem p) {
        return p;
      }
    }
    throw e instanceof CompletionException ce ? ce : new CompletionException(e);
  }

  private static Path tempFile() {
    try {
      return Files.createTempFile("retina-upload-", ".zip");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      // a temporary file; the OS cleans its temp folder
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha256(Path file) {
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha256())) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      return "sha256:"
          + java.util.HexFormat.of()
              .formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
