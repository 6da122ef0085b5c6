package io.retina.api.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.retina.api.ApiContext;
import io.retina.api.http.BodyBudget;
import io.retina.api.http.Ids;
import io.retina.api.http.Problem;
import io.retina.api.http.Responses;
import io.retina.api.images.ImageInfo;
import io.retina.api.images.ImageProbe;
import io.retina.api.images.ImageRejectedException;
import io.retina.platform.cluster.Stages;
import io.retina.platform.jobs.ContentDigest;
import io.retina.platform.store.Json;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.training.Dataset;
import io.retina.platform.training.Training;
import io.retina.platform.training.TrainingRepository;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.Multipart;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.Materializer;

/**
 * A tenant's trainings under {@code /v1/trainings}: start one from a labelled dataset, follow it
 * epoch by epoch, cancel it. The dataset is checked here, before anything is stored: a readable zip
 * of class folders, within the plan's image count, every file an image within the size limits. The
 * result is the tenant's private model {@code <tenant>/<name>}; another tenant's training reads as
 * missing.
 */
public final class TrainingRoutes extends AllDirectives {

  /**
   * The largest dataset zip accepted: a job's body limit, within what the server parses at all
   * ({@code pekko.http.server.parsing.max-content-length}, with room for a form's framing).
   */
  public static final long MAX_DATASET_BYTES = 50L << 20;

  /** The largest image of a dataset, encoded and decoded. */
  private static final long MAX_IMAGE_BYTES = 16L << 20;

  private static final long MAX_IMAGE_PIXELS = 25_000_000;

  private static final Duration BODY_TIMEOUT = Duration.ofSeconds(120);

  private static final String NAME_PATTERN = "[a-z][a-z0-9-]{1,62}";

  /** Tries a training gets before it fails: worker deaths, not errors, use them up. */
  private static final int MAX_ATTEMPTS = 5;

  private final ApiContext api;
  private final ActorSystem<?> system;
  private final BodyBudget bodies;

  /** What the HTTP layer reads of any body: the most of an over-limit dataset thrown away. */
  private final long discardAtMost;

  private final TrainingRepository trainings;

  public TrainingRoutes(ApiContext api, ActorSystem<?> system, BodyBudget bodies) {
    this.api = api;
    this.system = system;
    this.discardAtMost = BodyBudget.parsedAtMost(system);
    this.bodies = bodies;
    this.trainings = api.trainings();
  }

  public Route route() {
    return pathPrefix(
        "trainings",
        () ->
            concat(
                pathEndOrSingleSlash(
                    () ->
                        concat(
                            post(
                                () ->
                                    extractRequest(
                                        r ->
                                            extractMaterializer(
                                                mat -> completeWithFuture(start(r, mat))))),
                            get(() -> tenant((r, t) -> list(t))))),
                path(
                    PathMatchers.segment(),
                    id ->
                        concat(
                            get(() -> tenant((r, t) -> show(t, id))),
                            delete(() -> tenant((r, t) -> cancel(t, id)))))));
  }

  // ---- start ----

  /**
   * A dataset declared larger than the HTTP layer reads at all is refused from its headers; one
   * over the limit but within it is refused once its tenant's key is checked and the body has been
   * read and thrown away, so the client sees the 413 rather than a connection reset mid-send.
   */
  private CompletionStage<HttpResponse> start(HttpRequest request, Materializer mat) {
    long declared = request.entity().getContentLengthOption().orElse(0L);
    if (declared > discardAtMost) {
      throw tooLarge(declared);
    }
    return CompletableFuture.supplyAsync(() -> api.auth().tenant(request), api.store())
        .thenCompose(
            tenant ->
                declared > MAX_DATASET_BYTES
                    ? BodyBudget.refuseAfterDiscarding(
                        request, discardAtMost, BODY_TIMEOUT, mat, tooLarge(declared))
                    : bodies.read(
                        request.entity(),
                        MAX_DATASET_BYTES,
                        BODY_TIMEOUT,
                        mat,
                        entity ->
                            form(request, entity, mat)
                                .thenApplyAsync(form -> store(tenant, form), api.store())));
  }

  private static Problem tooLarge(long declared) {
    return Problem.tooLarge(
        "payload-too-large",
        "The dataset is " + declared + " bytes; the limit is " + MAX_DATASET_BYTES + ".");
  }

  /** The dataset and the settings: a multipart form, or a zip body with the settings as query. */
  private record Form(byte[] zip, Map<String, String> fields) {}

  private CompletionStage<Form> form(
      HttpRequest request, HttpEntity.Strict entity, Materializer mat) {
    Map<String, String> query = new TreeMap<>(request.getUri().query().toMap());
    var type = entity.getContentType().mediaType();
    String essence = (type.mainType() + "/" + type.subType()).toLowerCase(Locale.ROOT);
    if (essence.equals("application/zip") || essence.equals("application/octet-stream")) {
      return CompletableFuture.completedFuture(new Form(entity.getData().toArray(), query));
    }
    if (!essence.equals("multipart/form-data")) {
      throw Problem.unsupportedMediaType(
          "Send the dataset as a zip (application/zip, settings in the query) or as the 'dataset'"
              + " part of a multipart/form-data form, not "
              + essence
              + ".");
    }
    return Stages.plain(
            Unmarshaller.entityToMultipartFormData().unmarshal(entity, mat),
            system.executionContext())
        .thenCompose(f -> Stages.plain(f.toStrict(60_000, mat), system.executionContext()))
        .exceptionally(
            e -> {
              throw Problem.badRequest(
                  "bad-form", "The multipart/form-data body is malformed; it could not be read.");
            })
        .thenApply(
            f -> {
              Map<String, String> fields = new TreeMap<>(query);
              byte[] zip = null;
              for (Multipart.FormData.BodyPart.Strict part : f.getStrictParts()) {
                if (part.getName().equals("dataset")) {
                  if (zip != null) {
                    throw Problem.badRequest("bad-form", "The form has more than one 'dataset'.");
                  }
                  zip = part.getEntity().getData().toArray();
                } else if (part.getFilename().isPresent()) {
                  throw Problem.badRequest(
                      "bad-form",
                      "Unexpected file part '" + part.getName() + "': send the zip as 'dataset'.");
                } else {
                  fields.put(part.getName(), part.getEntity().getData().utf8String());
                }
              }
              if (zip == null) {
                throw Problem.badRequest("missing-dataset", "The form has no 'dataset' part.");
              }
              return new Form(zip, fields);
            });
  }

  private HttpResponse store(Tenant tenant, Form form) {
    Map<String, String> fields = new TreeMap<>(form.fields());
    TrainingRepository.Limits limits = trainings.limits(tenant.id());
    String name = fields.remove("name");
    if (name == null || !name.matches(NAME_PATTERN)) {
      throw Problem.unprocessable(
              "invalid-field",
              "name is the model's name: a lowercase letter, then letters, digits or '-', 2 to 63"
                  + " long. The model becomes "
                  + privatePrefix(tenant)
                  + "<name>.")
          .with("field", "name");
    }
    String task = fields.getOrDefault("task", "classify");
    fields.remove("task");
    if (!task.equals("classify") && !task.equals("denoise")) {
      throw Problem.unprocessable("invalid-field", "task is 'classify' (the default) or 'denoise'.")
          .with("field", "task");
    }
    boolean classify = task.equals("classify");
    ObjectNode settings = Json.MAPPER.createObjectNode();
    settings.put("epochs", intField(fields, "epochs", classify ? 20 : 30, 1, limits.maxEpochs()));
    settings.put("patience", intField(fields, "patience", classify ? 3 : 4, 1, 50));
    settings.put("validationFraction", doubleField(fields, "validationFraction", 0.2, 0.05, 0.5));
    settings.put(
        "learningRate", doubleField(fields, "learningRate", classify ? 0.01 : 0.002, 1e-5, 1.0));
    if (classify) {
      settings.put("augment", boolField(fields, "augment", true));
    } else {
      settings.put("noise", doubleField(fields, "noise", 25, 1, 75));
    }
    settings.put("seed", intField(fields, "seed", 42, 0, Integer.MAX_VALUE));
    if (!fields.isEmpty()) {
      throw Problem.unprocessable(
              "invalid-field",
              "Unknown field(s) "
                  + fields.keySet()
                  + "; a training takes name, task, epochs, patience, validationFraction,"
                  + " learningRate and seed, and "
                  + (classify ? "augment (classify)." : "noise (denoise)."))
          .with("field", fields.keySet().iterator().next());
    }
    List<Dataset.Item> items;
    var dataLimits = new Dataset.Limits(limits.maxImages(), MAX_IMAGE_BYTES, MAX_DATASET_BYTES * 4);
    try {
      items =
          classify
              ? Dataset.read(form.zip(), dataLimits)
              : Dataset.readUnlabelled(form.zip(), dataLimits);
    } catch (Dataset.InvalidDatasetException e) {
      throw Problem.unprocessable("invalid-dataset", e.getMessage());
    }
    checkImages(items);
    List<String> classes = classify ? Dataset.classes(items) : List.of();
    if (classify) {
      checkClasses(items, classes);
    } else if (items.size() < 2) {
      throw Problem.unprocessable(
          "invalid-dataset", "A denoiser needs at least two images: one to train, one to judge.");
    }
    try {
      Training t =
          trainings.create(
              tenant.id(),
              privatePrefix(tenant) + name,
              task,
              settings,
              classes,
              items.size(),
              ContentDigest.sha256(form.zip()),
              form.zip(),
              MAX_ATTEMPTS);
      return Responses.json(202, json(t, limits))
          .addHeader(Location.create("/v1/trainings/" + t.id()));
    } catch (TrainingRepository.RefusedException e) {
      throw Problem.conflict(e.type(), e.getMessage());
    }
  }

  /** Every file decodes as far as its header says: a known format within the size limits. */
  private static void checkImages(List<Dataset.Item> items) {
    for (Dataset.Item item : items) {
      ImageInfo info;
      try {
        info = ImageProbe.probe(item.bytes());
      } catch (ImageRejectedException e) {
        throw Problem.unprocessable(
                "invalid-dataset", "'" + item.file() + "' is not a usable image: " + e.getMessage())
            .with("file", item.file());
      }
      if ((long) info.width() * info.height() > MAX_IMAGE_PIXELS) {
        throw Problem.unprocessable(
                "invalid-dataset",
                "'" + item.file() + "' has more than " + MAX_IMAGE_PIXELS + " pixels.")
            .with("file", item.file());
      }
    }
  }

  /** At least two classes, each with at least two images (one to train, one to validate). */
  private static void checkClasses(List<Dataset.Item> items, List<String> classes) {
    if (classes.size() < 2) {
      throw Problem.unprocessable(
          "invalid-dataset",
          "A classifier needs at least two classes: one folder per class, found "
              + classes.size()
              + ".");
    }
    Map<String, Integer> counts = new TreeMap<>();
    items.forEach(i -> counts.merge(i.label(), 1, Integer::sum));
    counts.forEach(
        (label, n) -> {
          if (n < 2) {
            throw Problem.unprocessable(
                "invalid-dataset",
                "Class '" + label + "' has " + n + " image; each class needs at least two.");
          }
        });
  }

  // ---- read, list, cancel ----

  private HttpResponse show(Tenant tenant, String id) {
    return Responses.ok(json(find(tenant, id, (t, u) -> trainings.find(t, u)), null));
  }

  private HttpResponse list(Tenant tenant) {
    return Responses.ok(
        Map.of(
            "trainings",
            trainings.list(tenant.id(), 100).stream().map(t -> json(t, null)).toList()));
  }

  private HttpResponse cancel(Tenant tenant, String id) {
    return Responses.ok(json(find(tenant, id, (t, u) -> trainings.cancel(t, u)), null));
  }

  private static Training find(
      Tenant tenant, String id, BiFunction<UUID, UUID, java.util.Optional<Training>> lookup) {
    return Ids.parse(id)
        .flatMap(u -> lookup.apply(tenant.id(), u))
        .orElseThrow(
            () -> Problem.notFound("training-not-found", "No training " + id + " of yours."));
  }

  /**
   * A training as the API shows it: its model, state, progress (with an estimate of the time left,
   * from the epochs so far, for a run to its last epoch) and, at the end, its report.
   */
  public static Map<String, Object> json(Training t, TrainingRepository.Limits limits) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", t.id().toString());
    m.put("model", t.ref());
    m.put("task", t.task());
    m.put("status", t.status().dbValue());
    m.put("classes", t.classes());
    m.put("images", t.images());
    m.put("trainImages", t.trainImages());
    m.put("settings", t.settings());
    int maxEpochs = t.settings().path("epochs").asInt();
    Map<String, Object> progress = new LinkedHashMap<>();
    progress.put("epoch", t.epochsDone());
    progress.put("epochs", maxEpochs);
    JsonNode last = t.history().isEmpty() ? null : t.history().get(t.history().size() - 1);
    if (last != null) {
      // a classifier's epochs have validationAccuracy, a denoiser's validationPsnr
      for (String field :
          List.of("trainLoss", "validationLoss", "validationAccuracy", "validationPsnr")) {
        if (last.has(field)) {
          progress.put(field, last.get(field).asDouble());
        }
      }
    }
    if (t.status() == Training.Status.RUNNING && t.epochsDone() > 0) {
      long total = 0;
      for (JsonNode e : t.history()) {
        total += e.path("millis").asLong();
      }
      long perEpoch = total / t.history().size();
      progress.put("etaSeconds", Math.max(0, (maxEpochs - t.epochsDone()) * perEpoch / 1000));
    }
    m.put("progress", progress);
    m.put("history", t.history());
    if (t.report() != null) {
      m.put("report", t.report());
    }
    if (t.errorType() != null) {
      m.put("error", Map.of("type", t.errorType(), "detail", t.errorDetail()));
    }
    m.put("attempts", t.attempts());
    m.put("createdAt", t.createdAt().toString());
    m.put("startedAt", text(t.startedAt()));
    m.put("finishedAt", text(t.finishedAt()));
    if (limits != null) {
      m.put("pricePerImageEpochMicros", limits.pricePerImageEpochMicros());
    }
    return m;
  }

  private static String text(Instant at) {
    return at == null ? null : at.toString();
  }

  /**
   * The prefix of the tenant's private model names: its name in lowercase, runs of other characters
   * as one '-'; a tenant whose name leaves nothing gets its id's first block.
   */
  static String privatePrefix(Tenant tenant) {
    String slug =
        tenant
            .name()
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9]+", "-")
            .replaceAll("^-+|-+$", "");
    if (slug.length() > 40) {
      slug = slug.substring(0, 40).replaceAll("-+$", "");
    }
    if (slug.isEmpty()) {
      slug = tenant.id().toString().substring(0, 8);
    }
    return slug + "/";
  }

  private static int intField(Map<String, String> f, String name, int def, int min, int max) {
    String v = f.remove(name);
    if (v == null) {
      return Math.min(def, max);
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n < min || n > max) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw Problem.unprocessable(
              "invalid-field", name + " is a whole number from " + min + " to " + max + ".")
          .with("field", name);
    }
  }

  private static double doubleField(
      Map<String, String> f, String name, double def, double min, double max) {
    String v = f.remove(name);
    if (v == null) {
      return def;
    }
    try {
      double d = Double.parseDouble(v.trim());
      if (!(d >= min && d <= max)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw Problem.unprocessable(
              "invalid-field", name + " is a number from " + min + " to " + max + ".")
          .with("field", name);
    }
  }

  private static boolean boolField(Map<String, String> f, String name, boolean def) {
    String v = f.remove(name);
    if (v == null) {
      return def;
    }
    if (!v.equals("true") && !v.equals("false")) {
      throw Problem.unprocessable("invalid-field", name + " is true or false.").with("field", name);
    }
    return Boolean.parseBoolean(v);
  }

  // ---- plumbing ----

  @FunctionalInterface
  private interface TenantHandler {
    HttpResponse handle(HttpRequest request, Tenant tenant);
  }

  private Route tenant(TenantHandler handler) {
    return extractRequest(
        request ->
            completeWithFuture(
                CompletableFuture.supplyAsync(
                    () -> handler.handle(request, api.auth().tenant(request)), api.store())));
  }
}
