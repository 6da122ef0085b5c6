package io.retina.api.jobs;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter.MeterProvider;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.retina.api.ApiContext;
import io.retina.api.http.BodyBudget;
import io.retina.api.http.Ids;
import io.retina.api.http.Problem;
import io.retina.api.http.RequestTracing;
import io.retina.api.http.Responses;
import io.retina.api.quota.RateLimitHeaders;
import io.retina.api.quota.TenantGate;
import io.retina.platform.cluster.RunnerId;
import io.retina.platform.jobs.Job;
import io.retina.platform.jobs.JobCursor;
import io.retina.platform.jobs.JobPage;
import io.retina.platform.jobs.JobStatus;
import io.retina.platform.jobs.Submission;
import io.retina.platform.models.ModelVersion;
import io.retina.platform.tenants.Tenant;
import io.retina.platform.tracing.Tracing;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Location;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;

/**
 * The tenant's job API under {@code /v1/jobs}: submit, poll, fetch the result, cancel, list. Each
 * handler authenticates, calls the store on the store executor, and answers. A submission is
 * admitted by its tenant's rate gate from its headers alone, before its body is read; then by
 * {@link Admission} from its body; then stored. Every refusal of it is a problem from {@link
 * SubmitProblems}.
 *
 * <p>The body is read whole into memory (it is probed and stored as one value), under the node's
 * {@link BodyBudget}: that bound, not the per-request limit, is what keeps many concurrent uploads
 * from exhausting the heap.
 */
public final class JobRoutes extends AllDirectives {
  private static final Duration BODY_TIMEOUT = Duration.ofSeconds(60);

  /**
   * A waited submit looks at its job at least this often, in case a finish announcement was lost
   * (it reads the store once the node's snapshot of the job is older than {@link
   * JobSnapshots#TRUSTED}).
   */
  private static final Duration RECHECK = Duration.ofSeconds(1);

  /**
   * A long poll looks at its job at least this often. Starts, progress and finishes wake it as they
   * are announced; what only a look finds is a queued job's new place in the queue.
   */
  private static final Duration POLL_RECHECK = Duration.ofSeconds(5);

  private final ApiContext api;
  private final ActorSystem<?> system;
  private final MeterProvider<Counter> submitted;
  private final BodyBudget bodies;

  /**
   * The most of a tenant's over-limit body read (and thrown away) so that its 413 is seen rather
   * than a reset connection: what the HTTP layer reads of any body. A larger one is refused at
   * once, before the key is checked.
   */
  private final long discardAtMost;

  private final Admission admission;

  public JobRoutes(ApiContext api, ActorSystem<?> system, BodyBudget bodies) {
    this.api = api;
    this.system = system;
    this.bodies = bodies;
    this.discardAtMost = BodyBudget.parsedAtMost(system);
    this.admission =
        new Admission(
            api.settings(),
            api.models(),
            api.quotas(),
            api.capacity(),
            api.webhookSettings().policy());
    this.submitted =
        Counter.builder("retina.jobs.submitted")
            .description("Jobs stored by this node.")
            .withRegistry(api.metrics().registry());
  }

  public Route route() {
    return pathPrefix(
        "jobs",
        () ->
            concat(
                pathEndOrSingleSlash(
                    () ->
                        concat(
                            post(() -> extractRequest(this::submit)),
                            get(() -> extractRequest(r -> completeWithFuture(list(r)))))),
                pathPrefix(
                    PathMatchers.segment(),
                    id ->
                        concat(
                            pathEnd(
                                () ->
                                    concat(
                                        get(
                                            () ->
                                                extractRequest(
                                                    r -> completeWithFuture(show(r, id)))),
                                        delete(
                                            () ->
                                                extractRequest(
                                                    r -> completeWithFuture(cancel(r, id)))))),
                            path(
                                "result",
                                () ->
                                    get(
                                        () ->
                                            extractRequest(
                                                r -> completeWithFuture(result(r, id))))),
                            path(
                                "data",
                                () ->
                                    delete(
                                        () ->
                                            extractRequest(
                                                r -> completeWithFuture(deleteData(r, id)))))))));
  }

  // ---- submit ----

  private Route submit(HttpRequest request) {
    var declared = request.entity().getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > discardAtMost) {
      throw tooLarge(declared.getAsLong());
    }
    return extractMaterializer(mat -> completeWithFuture(submit(request, mat)));
  }

  private Problem tooLarge(long declared) {
    return Problem.tooLarge(
        "payload-too-large",
        "The body is " + declared + " bytes; the limit is " + api.settings().maxBodyBytes() + ".");
  }

  /**
   * Authenticates and admits from the headers alone, and only then reads the body: a request
   * without a valid key, or over its tenant's rate, is answered before a byte of its body is read
   * (Pekko then closes the connection, the rest unread). A tenant's body declared over the limit is
   * read and thrown away before its 413, so the client sees the 413 rather than a reset. Then:
   * admit the body, store, answer.
   */
  private CompletionStage<HttpResponse> submit(HttpRequest request, Materializer mat) {
    // a key this node knew moments ago is answered here; any other is looked up in the store
    return api.auth()
        .tenantIfKnown(request)
        .map(CompletableFuture::completedFuture)
        .orElseGet(
            () -> CompletableFuture.supplyAsync(() -> api.auth().tenant(request), api.store()))
        .thenCompose(
            tenant -> {
              long declared = request.entity().getContentLengthOption().orElse(0L);
              if (declared > api.settings().maxBodyBytes()) {
                return BodyBudget.refuseAfterDiscarding(
                    request, discardAtMost, BODY_TIMEOUT, mat, tooLarge(declared));
              }
              return gate(tenant)
                  .thenCompose(decision -> readAndStore(request, mat, tenant, decision));
            });
  }

  /** Reads the body, admits it and stores the job; admitting and storing on the store executor. */
  private CompletionStage<HttpResponse> readAndStore(
      HttpRequest request, Materializer mat, Tenant tenant, TenantGate.Decision decision) {
    return bodies.read(
        request.entity(),
        api.settings().maxBodyBytes(),
        BODY_TIMEOUT,
        mat,
        entity ->
            SubmitRequest.read(request, entity, system)
                .thenComposeAsync(
                    form -> {
                      Context traced = RequestTracing.context(request);
                      Admission.Admitted admitted =
                          api.tracing()
                              .inSpan(
                                  "admission",
                                  traced,
                                  () -> admission.admit(request, tenant, form));
                      return store(tenant, admitted, decision, traced);
                    },
                    api.store()));
  }

  /** Takes a token from the tenant's rate gate; fails with the problem if there is none. */
  private CompletionStage<TenantGate.Decision> gate(Tenant tenant) {
    return api.gates()
        .admit(tenant.id())
        .exceptionally(
            e -> {
              throw SubmitProblems.gateUnavailable();
            })
        .thenApply(
            decision -> {
              if (!decision.admitted()) {
                throw SubmitProblems.refusedByGate(decision);
              }
              return decision;
            });
  }

  /**
   * Stores an admitted job and answers: a new job is dispatched to its runner, a replayed one is
   * answered as it now is; a refusal is thrown as its problem.
   */
  private CompletionStage<HttpResponse> store(
      Tenant tenant, Admission.Admitted admitted, TenantGate.Decision decision, Context traced) {
    Submission outcome =
        api.tracing()
            .inSpan(
                "store.submit",
                traced,
                () ->
                    api.submissions()
                        .submit(
                            admitted.job(),
                            admitted.limits(),
                            admitted.idempotencyKey(),
                            admitted.requestDigest(),
                            api.settings().idempotencyLock(),
                            Tracing.traceparent(traced)));
    var rateHeaders = RateLimitHeaders.of(decision);
    if (outcome instanceof Submission.Created created) {
      Span.fromContext(traced).setAttribute("retina.job.id", created.job().id().toString());
      snapshots().read(created.job());
      ModelVersion version = admitted.version();
      submitted.withTags("model", version.ref()).increment();
      api.capacity().admitted(version);
      api.runners()
          .submitted(
              RunnerId.of(version), created.job().id(), tenant.id(), admitted.quota().weight());
      return answer(tenant, created.job(), admitted.preferredWait(), false)
          .thenApply(r -> r.addHeaders(rateHeaders))
          .whenComplete((r, e) -> release(tenant, admitted.idempotencyKey()));
    }
    if (outcome instanceof Submission.Replayed replayed) {
      return answer(tenant, replayed.job(), Duration.ZERO, true)
          .thenApply(r -> r.addHeaders(rateHeaders));
    }
    throw SubmitProblems.refusedByStore(outcome, rateHeaders);
  }

  private void release(Tenant tenant, String key) {
    if (key != null) {
      CompletableFuture.runAsync(() -> api.submissions().releaseKey(tenant.id(), key), api.store());
    }
  }

  /**
   * 200 with the job if it is final (after waiting up to {@code wait}), else 202 with its Location.
   */
  private CompletionStage<HttpResponse> answer(
      Tenant tenant, Job job, Duration wait, boolean replayed) {
    Instant deadline = Instant.now().plus(wait);
    return awaitFinal(tenant, job, deadline)
        .thenCompose(latest -> render(latest).thenApply(json -> Map.entry(latest, json)))
        .thenApply(
            rendered -> {
              Job latest = rendered.getKey();
              HttpResponse response =
                  Responses.json(latest.status().isFinal() ? 200 : 202, rendered.getValue())
                      .addHeader(Location.create(JobJson.location(latest)));
              if (!wait.isZero()) {
                response =
                    response.addHeader(
                        RawHeader.create("Preference-Applied", "wait=" + wait.toSeconds()));
              }
              if (replayed) {
                response = response.addHeader(RawHeader.create("Idempotent-Replayed", "true"));
              }
              return response;
            });
  }

  /**
   * The job's JSON; a queued job's place and estimated start come from its runner's fair queue, or,
   * when the runner does not answer or does not hold it yet, from the store (jobs of the model
   * queued before it).
   */
  private CompletionStage<Map<String, Object>> render(Job job) {
    if (job.status() != JobStatus.QUEUED) {
      return CompletableFuture.completedFuture(JobJson.of(job, null));
    }
    return api.runners()
        .position(RunnerId.parse(job.modelRef()), job.id())
        .handle(
            (p, error) ->
                error == null && p.position() >= 0
                    ? new JobJson.QueueInfo(
                        p.position(), Instant.now().plusMillis(p.estimatedStartMillis()))
                    : null)
        .thenApplyAsync(
            info ->
                JobJson.of(
                    job,
                    info != null
                        ? info
                        : new JobJson.QueueInfo(api.jobs().queuePosition(job), null)),
            api.store());
  }

  private CompletionStage<Job> awaitFinal(Tenant tenant, Job job, Instant deadline) {
    Duration left = Duration.between(Instant.now(), deadline);
    if (job.status().isFinal() || left.isNegative() || left.isZero()) {
      return CompletableFuture.completedFuture(job);
    }
    Duration nap = left.compareTo(RECHECK) < 0 ? left : RECHECK;
    return api.waiters()
        .wakeWhenFinished(job.id(), nap)
        .thenCompose(
            committed -> {
              // the announcement's job as committed, answered where it arrived; else the store's
              Optional<Job> announced = committed.filter(j -> j.tenantId().equals(tenant.id()));
              if (announced.isPresent()) {
                return awaitFinal(tenant, announced.get(), deadline);
              }
              return CompletableFuture.supplyAsync(
                      () -> latest(tenant, job.id()).orElse(job), api.store())
                  .thenCompose(latest -> awaitFinal(tenant, latest, deadline));
            });
  }

  // ---- read, cancel, list ----

  /**
   * The job, with an {@code ETag} of what it says; {@code If-None-Match} with the current tag gets
   * 304 without a body. {@code Prefer: wait=N} holds the answer until the job says something new
   * (status, progress, queue position: a tag other than the one the client sent, or than the one at
   * the start) or N seconds pass. An unfinished job's answer says when to ask again ({@code
   * Retry-After}).
   */
  private CompletionStage<HttpResponse> show(HttpRequest request, String id) {
    Duration wait = Admission.preferredWait(request, api.settings().maxWait());
    String known = request.getHeader("If-None-Match").map(h -> h.value().trim()).orElse(null);
    Instant deadline = Instant.now().plus(wait);
    // as this node last heard of the job, if recently: a poll of an unchanged job skips the store
    return withJob(request, id, this::latest, (tenant, job) -> Map.entry(tenant, job))
        .thenCompose(
            found ->
                render(found.getValue())
                    .thenCompose(
                        json ->
                            awaitChange(
                                found.getKey(),
                                found.getValue(),
                                json,
                                known != null ? known : etag(json),
                                deadline)))
        .thenApply(
            latest -> {
              Job job = latest.getKey();
              String tag = etag(latest.getValue());
              HttpResponse response =
                  tag.equals(known)
                      ? HttpResponse.create().withStatus(StatusCodes.NOT_MODIFIED)
                      : Responses.ok(latest.getValue());
              response = response.addHeader(RawHeader.create("ETag", tag));
              if (!job.status().isFinal()) {
                response =
                    response.addHeader(
                        RawHeader.create("Retry-After", Long.toString(retryAfter(latest))));
              }
              if (!wait.isZero()) {
                response =
                    response.addHeader(
                        RawHeader.create("Preference-Applied", "wait=" + wait.toSeconds()));
              }
              return response;
            });
  }

  /**
   * The job and its JSON once its tag differs from {@code tag}, it is final, or the deadline
   * passes; re-read when its finish is announced, and at least every second.
   */
  private CompletionStage<Map.Entry<Job, Map<String, Object>>> awaitChange(
      Tenant tenant, Job job, Map<String, Object> json, String tag, Instant deadline) {
    Duration left = Duration.between(Instant.now(), deadline);
    if (!etag(json).equals(tag) || job.status().isFinal() || left.isNegative() || left.isZero()) {
      return CompletableFuture.completedFuture(Map.entry(job, json));
    }
    Duration nap = left.compareTo(POLL_RECHECK) < 0 ? left : POLL_RECHECK;
    return api.waiters()
        .wake(job.id(), nap)
        .thenApplyAsync(
            committed ->
                committed
                    .filter(j -> j.tenantId().equals(tenant.id()))
                    .or(() -> latest(tenant, job.id()))
                    .orElse(job),
            api.store())
        .thenCompose(
            latest ->
                render(latest).thenCompose(j -> awaitChange(tenant, latest, j, tag, deadline)));
  }

  /**
   * A weak tag of what the job's JSON says: the same JSON, the same tag. A queued job's estimated
   * start is left out: it is recomputed on every read and moves by milliseconds.
   */
  static String etag(Map<String, Object> json) {
    Map<String, Object> said = json;
    if (json.containsKey("estimatedStartAt")) {
      said = new LinkedHashMap<>(json);
      said.remove("estimatedStartAt");
    }
    byte[] bytes =
        io.retina.platform.store.Json.write(said).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return "W/\"" + io.retina.platform.jobs.ContentDigest.sha256(bytes).substring(7, 23) + "\"";
  }

  /**
   * Seconds until an unfinished job is worth asking about again: a queued one when it should start,
   * a running one when it should end by its progress so far; 1 to 30.
   */
  private static long retryAfter(Map.Entry<Job, Map<String, Object>> latest) {
    Job job = latest.getKey();
    double seconds = 2;
    Object start = latest.getValue().get("estimatedStartAt");
    if (job.status() == JobStatus.QUEUED && start != null) {
      seconds = Duration.between(Instant.now(), Instant.parse(start.toString())).toMillis() / 1e3;
    } else if (job.status() == JobStatus.RUNNING
        && job.progress() != null
        && job.progress() > 0.05
        && job.startedAt() != null) {
      double ran = Duration.between(job.startedAt(), Instant.now()).toMillis() / 1e3;
      seconds = ran * (1 - job.progress()) / job.progress();
    }
    return Math.max(1, Math.min(30, Math.round(seconds)));
  }

  /** The job and its output come in one read. */
  private CompletionStage<HttpResponse> result(HttpRequest request, String id) {
    return CompletableFuture.supplyAsync(
        () -> {
          Tenant tenant = api.auth().tenant(request);
          var found =
              Ids.parse(id)
                  .flatMap(uuid -> api.jobs().withOutput(tenant.id(), uuid))
                  .orElseThrow(() -> Problem.notFound("job-not-found", "No job " + id + "."));
          Job job = found.job();
          snapshots().read(job); // it may say what no announcement does: its images were purged
          if (job.status() == JobStatus.SUCCEEDED && job.outputDeletedAt() != null) {
            boolean byTenant =
                api.retention().deletedBy(tenant.id(), job.id()).orElse("").equals("tenant");
            throw Problem.gone(
                    "result-deleted",
                    "The job's result was deleted at "
                        + job.outputDeletedAt()
                        + (byTenant
                            ? ", as the tenant asked (DELETE /v1/jobs/{id}/data)."
                            : ": the tenant's results are kept "
                                + spoken(api.retention().periods(tenant.id()).results())
                                + " after their job ends (GET /v1/retention)."))
                .with("deletedAt", job.outputDeletedAt().toString());
          }
          if (job.status() != JobStatus.SUCCEEDED) {
            Problem p =
                Problem.conflict(
                        "job-has-no-result",
                        "The job is "
                            + job.status().dbValue()
                            + "; only a succeeded job has a result.")
                    .with("jobStatus", job.status().dbValue());
            if (!job.status().isFinal()) {
              p.withHeader(RawHeader.create("Retry-After", "1"));
            }
            throw p;
          }
          return HttpResponse.create()
              .withStatus(StatusCodes.OK)
              .withEntity(ContentTypes.parse(job.outputMediaType()), found.output());
        },
        api.store());
  }

  /** A period as a person would say it: "24 hours", "90 minutes", "0 seconds". */
  static String spoken(Duration d) {
    long s = d.toSeconds();
    if (s > 0 && s % 3600 == 0) {
      return s / 3600 + (s == 3600 ? " hour" : " hours");
    }
    if (s > 0 && s % 60 == 0) {
      return s / 60 + (s == 60 ? " minute" : " minutes");
    }
    return s + (s == 1 ? " second" : " seconds");
  }

  /** Deletes a finished job's input and result now; the job itself and its bill stay. */
  private CompletionStage<HttpResponse> deleteData(HttpRequest request, String id) {
    return CompletableFuture.supplyAsync(
        () -> {
          Tenant tenant = api.auth().tenant(request);
          var outcome =
              Ids.parse(id)
                  .map(
                      uuid -> {
                        snapshots().forget(uuid);
                        return api.retention().deleteData(tenant.id(), uuid);
                      })
                  .orElse(io.retina.platform.jobs.JobRetention.Deletion.NOT_FOUND);
          switch (outcome) {
            case NOT_FOUND -> throw Problem.notFound("job-not-found", "No job " + id + ".");
            case NOT_FINISHED ->
                throw Problem.conflict(
                    "job-not-finished",
                    "The job has not ended; cancel it first (DELETE /v1/jobs/" + id + ").");
            default -> {
              return HttpResponse.create().withStatus(StatusCodes.NO_CONTENT);
            }
          }
        },
        api.store());
  }

  private CompletionStage<HttpResponse> cancel(HttpRequest request, String id) {
    return withJob(
        request,
        id,
        (tenant, job) -> {
          if (job.status().isFinal()) {
            throw Problem.conflict(
                    "job-already-finished", "The job already " + job.status().dbValue() + ".")
                .with("jobStatus", job.status().dbValue());
          }
          Job canceled = api.jobs().cancel(tenant.id(), job.id()).orElseThrow();
          snapshots().read(canceled);
          if (canceled.status() != JobStatus.CANCELED) {
            throw Problem.conflict(
                    "job-already-finished",
                    "The job " + canceled.status().dbValue() + " meanwhile.")
                .with("jobStatus", canceled.status().dbValue());
          }
          return Responses.ok(JobJson.of(canceled, null));
        });
  }

  private CompletionStage<HttpResponse> list(HttpRequest request) {
    return CompletableFuture.supplyAsync(
        () -> {
          Tenant tenant = api.auth().tenant(request);
          var query = request.getUri().query();
          JobStatus status = query.get("status").map(JobListParams::status).orElse(null);
          JobCursor cursor = JobListParams.cursor(query.get("cursor"));
          int limit =
              query
                  .get("limit")
                  .map(v -> JobListParams.limit(v, api.settings().maxPageSize()))
                  .orElse(api.settings().defaultPageSize());
          JobPage page = api.jobs().list(tenant.id(), status, cursor, limit);
          Map<String, Object> body = new LinkedHashMap<>();
          body.put("jobs", page.jobs().stream().map(j -> JobJson.of(j, null)).toList());
          body.put("nextCursor", page.next() == null ? null : page.next().encode());
          HttpResponse response = Responses.ok(body);
          if (page.next() != null) {
            String next =
                "/v1/jobs?limit="
                    + limit
                    + (status == null ? "" : "&status=" + status.dbValue())
                    + "&cursor="
                    + page.next().encode();
            response = response.addHeader(RawHeader.create("Link", "<" + next + ">; rel=\"next\""));
          }
          return response;
        },
        api.store());
  }

  private interface JobHandler<T> {
    T handle(Tenant tenant, Job job);
  }

  private JobSnapshots snapshots() {
    return api.waiters().snapshots();
  }

  /** The job as recently heard of, else read from the store (and remembered). Blocking. */
  private Optional<Job> latest(Tenant tenant, UUID jobId) {
    Optional<Job> recent = snapshots().recent(tenant.id(), jobId);
    if (recent.isPresent()) {
      return recent;
    }
    Optional<Job> read = api.jobs().find(tenant.id(), jobId);
    read.ifPresent(snapshots()::read);
    return read;
  }

  /** Authenticates, reads the tenant's job from the store and hands it on. */
  private <T> CompletionStage<T> withJob(HttpRequest request, String id, JobHandler<T> handler) {
    return withJob(request, id, (tenant, uuid) -> api.jobs().find(tenant.id(), uuid), handler);
  }

  /**
   * Authenticates, finds the tenant's job with {@code find} (another tenant's reads as missing) and
   * hands it on.
   */
  private <T> CompletionStage<T> withJob(
      HttpRequest request,
      String id,
      java.util.function.BiFunction<Tenant, UUID, Optional<Job>> find,
      JobHandler<T> handler) {
    return CompletableFuture.supplyAsync(
        () -> {
          Tenant tenant = api.auth().tenant(request);
          Job job =
              Ids.parse(id)
                  .flatMap(uuid -> find.apply(tenant, uuid))
                  .orElseThrow(() -> Problem.notFound("job-not-found", "No job " + id + "."));
          return handler.handle(tenant, job);
        },
        api.store());
  }
}
