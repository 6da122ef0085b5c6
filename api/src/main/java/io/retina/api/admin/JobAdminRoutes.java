package io.retina.api.admin;

import io.retina.api.ApiContext;
import io.retina.api.http.Problem;
import io.retina.api.http.Responses;
import io.retina.api.jobs.JobJson;
import io.retina.api.jobs.JobListParams;
import io.retina.platform.jobs.Job;
import io.retina.platform.jobs.JobAdminQueries;
import io.retina.platform.jobs.JobAdminQueries.Cancellation;
import io.retina.platform.jobs.JobAdminQueries.TenantJob;
import io.retina.platform.jobs.JobCursor;
import io.retina.platform.jobs.JobStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Every tenant's jobs under {@code /admin/jobs}, for operators: list them newest first by status,
 * tenant and model, read one with its tenant and lease, and cancel one that has not finished. A job
 * reads as the tenant sees it (schema {@code Job}) plus what only an operator sees. Cancels are
 * audited.
 */
final class JobAdminRoutes extends AdminDirectives {
  private static final String MODEL_NAME = "[a-z][a-z0-9-]{1,62}";

  JobAdminRoutes(ApiContext api) {
    super(api);
  }

  Route route() {
    return pathPrefix(
        "jobs",
        () ->
            concat(
                pathEndOrSingleSlash(() -> get(() -> admin(this::list))),
                pathPrefix(
                    PathMatchers.segment(),
                    id ->
                        concat(
                            pathEnd(() -> get(() -> admin(r -> Responses.ok(json(find(id)))))),
                            path("cancel", () -> post(() -> admin(r -> cancel(id))))))));
  }

  private HttpResponse list(HttpRequest request) {
    var query = request.getUri().query();
    JobStatus status = query.get("status").map(JobListParams::status).orElse(null);
    UUID tenant =
        query
            .get("tenant")
            .map(
                t ->
                    uuid(t)
                        .orElseThrow(
                            () ->
                                Problem.badRequest("bad-filter", "tenant is a tenant's id.")
                                    .with("field", "tenant")))
            .orElse(null);
    String model = query.get("model").orElse(null);
    if (model != null && !model.matches(MODEL_NAME)) {
      throw Problem.badRequest(
              "bad-filter", "model is a model's name (without @version), e.g. super-resolution.")
          .with("field", "model");
    }
    JobCursor cursor = JobListParams.cursor(query.get("cursor"));
    int limit =
        query
            .get("limit")
            .map(v -> JobListParams.limit(v, maxLimit()))
            .orElse(api.settings().defaultPageSize());
    var page =
        api.jobAdmin().list(new JobAdminQueries.Filter(status, tenant, model), cursor, limit);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("jobs", page.jobs().stream().map(JobAdminRoutes::json).toList());
    body.put("nextCursor", page.next() == null ? null : page.next().encode());
    HttpResponse response = Responses.ok(body);
    if (page.next() != null) {
      StringBuilder next = new StringBuilder("/admin/jobs?limit=").append(limit);
      if (status != null) next.append("&status=").append(status.dbValue());
      if (tenant != null) next.append("&tenant=").append(tenant);
      if (model != null) next.append("&model=").append(model); // [a-z0-9-]: nothing to escape
      next.append("&cursor=").append(page.next().encode());
      response = response.addHeader(RawHeader.create("Link", "<" + next + ">; rel=\"next\""));
    }
    return response;
  }

  private HttpResponse cancel(String id) {
    Cancellation outcome =
        uuid(id).map(api.jobAdmin()::cancel).orElse(Cancellation.NotFound.INSTANCE);
    if (outcome instanceof Cancellation.Canceled canceled) {
      Job job = canceled.job().job();
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("tenant", job.tenantId().toString());
      details.put("model", job.modelRef());
      api.audit().record(ACTOR, "job.cancel", "job", job.id().toString(), details);
      return Responses.ok(json(canceled.job()));
    }
    if (outcome instanceof Cancellation.AlreadyFinished finished) {
      String was = finished.job().job().status().dbValue();
      throw Problem.conflict("job-already-finished", "The job already " + was + ".")
          .with("jobStatus", was);
    }
    throw notFound(id);
  }

  private TenantJob find(String id) {
    return uuid(id).flatMap(api.jobAdmin()::find).orElseThrow(() -> notFound(id));
  }

  private static Problem notFound(String id) {
    return Problem.notFound("job-not-found", "No job " + id + ".");
  }

  /** The job as its tenant sees it, with its tenant, and its lease while it runs. */
  static Map<String, Object> json(TenantJob t) {
    Job job = t.job();
    Map<String, Object> m = new LinkedHashMap<>(JobJson.of(job, null));
    m.put("tenantId", job.tenantId().toString());
    m.put("tenantName", t.tenantName());
    if (job.status() == JobStatus.RUNNING && t.leaseOwner() != null) {
      Map<String, Object> lease = new LinkedHashMap<>();
      lease.put("owner", t.leaseOwner());
      lease.put("expiresAt", t.leaseExpiresAt() == null ? null : t.leaseExpiresAt().toString());
      m.put("lease", lease);
    }
    return m;
  }

  /** The largest admin page: the API's page limit, within what the store serves in one query. */
  private int maxLimit() {
    return Math.min(api.settings().maxPageSize(), JobAdminQueries.MAX_LIMIT);
  }
}
