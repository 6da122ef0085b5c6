package io.retina.api.jobs;

import io.retina.platform.jobs.Job;
import io.retina.platform.jobs.JobStatus;
import java.util.LinkedHashMap;
import java.util.Map;

/** The JSON a tenant sees of a job (schema {@code Job} in the OpenAPI description). */
public final class JobJson {
  private JobJson() {}

  public static String location(Job job) {
    return "/v1/jobs/" + job.id();
  }

  /**
   * Where a queued job stands: jobs to start before it, and when it should start (null: unknown).
   */
  public record QueueInfo(long position, java.time.Instant estimatedStartAt) {}

  /** The job's representation; {@code queue} is given for queued jobs only. */
  public static Map<String, Object> of(Job job, QueueInfo queue) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", job.id().toString());
    m.put("model", job.modelRef());
    m.put("status", job.status().dbValue());
    m.put("params", job.params());
    Map<String, Object> input = new LinkedHashMap<>();
    input.put("mediaType", job.inputMediaType());
    input.put("width", job.inputWidth());
    input.put("height", job.inputHeight());
    input.put("bytes", job.inputBytes());
    if (job.inputDeletedAt() != null) {
      input.put("deletedAt", job.inputDeletedAt().toString());
    }
    m.put("input", input);
    if (job.status() == JobStatus.SUCCEEDED) {
      Map<String, Object> output = new LinkedHashMap<>();
      output.put("mediaType", job.outputMediaType());
      output.put("bytes", job.outputBytes());
      output.put("url", location(job) + "/result");
      if (job.outputDeletedAt() != null) {
        output.put("deletedAt", job.outputDeletedAt().toString());
      }
      m.put("output", output);
    }
    if (job.status() == JobStatus.QUEUED && queue != null) {
      m.put("queuePosition", queue.position());
      if (queue.estimatedStartAt() != null) {
        m.put("estimatedStartAt", queue.estimatedStartAt().toString());
      }
    }
    if (job.status() == JobStatus.RUNNING && job.progress() != null) {
      m.put("progress", Math.round(job.progress() * 100) / 100.0);
    }
    m.put("attempts", job.attempts());
    m.put("maxAttempts", job.maxAttempts());
    if (job.errorType() != null
        && (job.status() == JobStatus.FAILED || job.status() == JobStatus.CANCELED)) {
      m.put("error", Map.of("type", job.errorType(), "detail", String.valueOf(job.errorDetail())));
    }
    Map<String, Object> timings = new LinkedHashMap<>();
    timings.put("createdAt", job.createdAt().toString());
    timings.put("startedAt", job.startedAt() == null ? null : job.startedAt().toString());
    timings.put("finishedAt", job.finishedAt() == null ? null : job.finishedAt().toString());
    if (job.deadlineAt() != null) {
      timings.put("deadlineAt", job.deadlineAt().toString());
    }
    if (job.startedAt() != null) {
      timings.put("queuedMs", job.startedAt().toEpochMilli() - job.createdAt().toEpochMilli());
    }
    if (job.finishedAt() != null) {
      timings.put("totalMs", job.finishedAt().toEpochMilli() - job.createdAt().toEpochMilli());
    }
    m.put("timings", timings);
    m.put("links", Map.of("self", location(job), "result", location(job) + "/result"));
    return m;
  }
}
