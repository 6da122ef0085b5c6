package io.retina.api.jobs;

import io.retina.api.ApiSettings;
import io.retina.api.http.Problem;
import io.retina.api.images.ImageInfo;
import io.retina.api.images.ImageProbe;
import io.retina.api.images.ImageRejectedException;
import io.retina.platform.jobs.AdmissionLimits;
import io.retina.platform.jobs.ContentDigest;
import io.retina.platform.jobs.NewJob;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.ModelVersion;
import io.retina.platform.tenants.Quota;
import io.retina.platform.tenants.QuotaRepository;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.webhooks.WebhookTargets;
import io.retina.platform.webhooks.Webhooks;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * Whether a tenant's submission, read whole, may become a job, and the job it becomes: the model
 * version it names and the tenant's right to it, its parameters, its image against the node's and
 * the tenant's size limits, its deadline, its {@code Idempotency-Key} and {@code Prefer: wait}, the
 * tenant's quota, and last the model's {@link Capacity}. A refusal is thrown as the {@link Problem}
 * the client gets. Nothing is stored here; the tenant's limits that need the store's lock are
 * checked when the job is stored. Reads the store, so it runs on the store executor. Thread-safe.
 */
final class Admission {
  /** What separates a {@code Prefer} header's preferences and their parameters. */
  private static final Pattern PREFER_TOKENS = Pattern.compile("[,;]");

  /**
   * A submission that passed admission.
   *
   * @param idempotencyKey null when the request had none
   * @param requestDigest what makes two requests with one key the same request
   * @param preferredWait how long the client asked to wait for the job to finish, cut to the node's
   *     maximum
   */
  record Admitted(
      NewJob job,
      ModelVersion version,
      Quota quota,
      String idempotencyKey,
      String requestDigest,
      Duration preferredWait) {

    /** The tenant limits the store checks as it stores the job. */
    AdmissionLimits limits() {
      return new AdmissionLimits(quota.maxConcurrentJobs(), quota.monthlySpendCapMicros());
    }
  }

  private final ApiSettings settings;
  private final ModelRepository models;
  private final QuotaRepository quotas;
  private final Capacity capacity;
  private final WebhookTargets.Policy webhookPolicy;

  Admission(
      ApiSettings settings,
      ModelRepository models,
      QuotaRepository quotas,
      Capacity capacity,
      WebhookTargets.Policy webhookPolicy) {
    this.settings = settings;
    this.models = models;
    this.quotas = quotas;
    this.capacity = capacity;
    this.webhookPolicy = webhookPolicy;
  }

  /** The parameters that are the job's webhook, not the task's. */
  static final String WEBHOOK = "webhook";

  static final String WEBHOOK_EVENTS = "webhook_events_filter";

  /** Admits the tenant's submission, or throws the problem that refuses it. */
  Admitted admit(HttpRequest request, Tenant tenant, SubmitRequest form) {
    ModelVersion version = resolveModel(SubmitRequest.ModelRef.parse(form.model()), tenant);
    NewJob.Webhook webhook = webhook(form.params());
    Map<String, String> params = resolveParameters(version, form);
    Quota quota =
        quotas
            .recent(tenant.id())
            .orElseThrow(() -> Problem.unauthorized("The tenant no longer exists."));
    ImageInfo image = admitImage(form, quota.maxPixels());
    Duration deadline =
        SubmitDeadline.resolve(
            request, form.params(), quota.maxDeadline(), settings.defaultDeadline());
    String key = idempotencyKey(request);
    Duration wait = preferredWait(request, settings.maxWait());
    capacity
        .check(version)
        .ifPresent(
            refused -> {
              throw refused;
            });

    String inputDigest = ContentDigest.sha256(form.image());
    NewJob job =
        new NewJob(
            tenant.id(),
            version.modelName(),
            version.version(),
            params,
            image.mediaType(),
            image.width(),
            image.height(),
            inputDigest,
            form.image(),
            settings.maxAttempts(),
            deadline,
            webhook);
    return new Admitted(
        job, version, quota, key, requestDigest(version, params, inputDigest, webhook), wait);
  }

  /**
   * The job's own webhook from {@code webhook} (a URL this node may send to) and {@code
   * webhook_events_filter} (events, comma-separated; all without it); null without a URL.
   */
  private NewJob.Webhook webhook(Map<String, String> params) {
    String url = params.get(WEBHOOK);
    String filter = params.get(WEBHOOK_EVENTS);
    if (url == null) {
      if (filter != null) {
        throw Problem.unprocessable(
                "invalid-parameter", "webhook_events_filter needs a webhook URL beside it.")
            .with("parameter", WEBHOOK_EVENTS);
      }
      return null;
    }
    try {
      WebhookTargets.check(url, webhookPolicy);
    } catch (WebhookTargets.Refused e) {
      throw Problem.unprocessable("invalid-webhook", e.getMessage()).with("parameter", WEBHOOK);
    }
    try {
      return new NewJob.Webhook(url, Webhooks.parseEvents(filter));
    } catch (IllegalArgumentException e) {
      throw Problem.unprocessable("invalid-parameter", e.getMessage())
          .with("parameter", WEBHOOK_EVENTS);
    }
  }

  /**
   * What makes two requests with one Idempotency-Key the same request: the version, the resolved
   * parameters and the image.
   */
  private static String requestDigest(
      ModelVersion version, Map<String, String> params, String inputDigest, NewJob.Webhook hook) {
    return ContentDigest.sha256(
        (version.ref()
                + "\n"
                + new TreeMap<>(params)
                + "\n"
                + inputDigest
                + (hook == null ? "" : "\n" + hook.url() + "\n" + hook.events()))
            .getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The task parameters with the version's defaults filled in, the deadline and the webhook taken
   * out.
   */
  private static Map<String, String> resolveParameters(ModelVersion version, SubmitRequest form) {
    Map<String, String> task = SubmitDeadline.withoutDeadline(form.params());
    if (task.containsKey(WEBHOOK) || task.containsKey(WEBHOOK_EVENTS)) {
      task = new java.util.LinkedHashMap<>(task);
      task.remove(WEBHOOK);
      task.remove(WEBHOOK_EVENTS);
    }
    try {
      return version.resolveParameters(task);
    } catch (ModelVersion.InvalidParametersException e) {
      throw Problem.unprocessable("invalid-parameter", e.getMessage())
          .with("parameter", e.parameter());
    }
  }

  /**
   * The version a job names: the active one, or a pinned one the tenant may run (published, or
   * staged with the tenant as a canary). Any other is not found, as if it didn't exist.
   */
  private ModelVersion resolveModel(SubmitRequest.ModelRef ref, Tenant tenant) {
    Optional<ModelVersion> found =
        ref.version().isPresent()
            ? models.findFor(ref.name(), ref.version().get(), tenant.id())
            : ModelRepository.isPrivateName(ref.name())
                ? models.findActiveFor(ref.name(), tenant.id())
                : models.recentActive(ref.name());
    return found.orElseThrow(
        () ->
            Problem.notFound(
                "model-not-found",
                "No servable model '"
                    + ref.name()
                    + ref.version().map(v -> "@" + v).orElse("")
                    + "'; GET /v1/models lists them."));
  }

  /** The image's format and size, within the node's limits and the tenant's. */
  private ImageInfo admitImage(SubmitRequest form, long tenantMaxPixels) {
    if (form.image().length == 0) {
      throw Problem.badRequest("missing-image", "The image is empty.");
    }
    ImageInfo info;
    try {
      info = ImageProbe.probe(form.image());
    } catch (ImageRejectedException e) {
      if (e.reason() == ImageRejectedException.Reason.UNSUPPORTED_FORMAT) {
        throw Problem.unsupportedMediaType(e.getMessage() + " Send PNG, JPEG or WebP.");
      }
      if (e.reason() == ImageRejectedException.Reason.TOO_MANY_SCANS) {
        throw Problem.unprocessable("image-too-complex", e.getMessage())
            .with("maxScans", ImageProbe.MAX_JPEG_SCANS);
      }
      throw Problem.unprocessable("invalid-image", e.getMessage())
          .with("reason", e.reason().name().toLowerCase());
    }
    String declared = form.declaredType();
    if (declared != null && declared.startsWith("image/") && !declared.equals(info.mediaType())) {
      throw Problem.unsupportedMediaType(
          "The body was declared " + declared + " but is " + info.mediaType() + ".");
    }
    int maxSide = settings.maxSide();
    long maxPixels = Math.min(settings.maxPixels(), tenantMaxPixels);
    if (info.width() > maxSide || info.height() > maxSide || info.pixels() > maxPixels) {
      throw Problem.tooLarge(
              "image-too-large",
              "The image is "
                  + info.width()
                  + "x"
                  + info.height()
                  + "; the limits are "
                  + maxSide
                  + " pixels a side and "
                  + maxPixels
                  + " pixels in all.")
          .with("width", info.width())
          .with("height", info.height());
    }
    return info;
  }

  /** The request's {@code Idempotency-Key}, or null without one. */
  private static String idempotencyKey(HttpRequest request) {
    Optional<String> key = request.getHeader("Idempotency-Key").map(HttpHeader::value);
    if (key.isEmpty()) {
      return null;
    }
    String k = key.get().trim();
    if (k.isEmpty() || k.length() > 255 || !k.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw Problem.badRequest(
          "bad-idempotency-key", "An Idempotency-Key is 1 to 255 printable ASCII characters.");
    }
    return k;
  }

  /** The wait asked for with {@code Prefer: wait=N}, cut to {@code max}. */
  static Duration preferredWait(HttpRequest request, Duration max) {
    Optional<String> prefer = request.getHeader("Prefer").map(HttpHeader::value);
    if (prefer.isEmpty()) {
      return Duration.ZERO;
    }
    for (String token : PREFER_TOKENS.split(prefer.get())) {
      String t = token.trim().toLowerCase();
      if (t.startsWith("wait=")) {
        try {
          long seconds = Long.parseLong(t.substring(5).trim());
          if (seconds < 0) {
            throw new NumberFormatException();
          }
          Duration asked = Duration.ofSeconds(seconds);
          return asked.compareTo(max) > 0 ? max : asked;
        } catch (NumberFormatException e) {
          throw Problem.badRequest(
              "bad-prefer", "Prefer: wait takes whole seconds, e.g. 'wait=10'.");
        }
      }
    }
    return Duration.ZERO;
  }
}
