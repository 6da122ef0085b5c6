package io.retina.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.jobs.JobSubmissions;
import io.retina.platform.jobs.NewJob;
import io.retina.platform.jobs.Submission;
import io.retina.platform.tenants.TenantRepository;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The job contract, end to end, against one real node: real store, real cluster, real models, over
 * HTTP as a tenant's developer would call it.
 */
class JobContractTest {
  static TestNode node;
  static Http http;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    node =
        TestNode.start(
            Map.of(
                "retina.http.max-body-bytes", 3_000_000,
                "retina.workers.sweeper.interval", "1s",
                "retina.workers.sweeper.unclaimed-after", "2s",
                "retina.retention.purge-every", "1s"));
    http = new Http(node.base);
    key = http.newTenantKey(Http.uniqueName("contract"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static JsonNode awaitFinal(String jobId, String token) throws InterruptedException {
    return awaitFinal(http, jobId, token);
  }

  static JsonNode awaitFinal(Http http, String jobId, String token) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(90);
    while (Instant.now().isBefore(deadline)) {
      JsonNode job = http.get("/v1/jobs/" + jobId, token).json();
      String status = job.get("status").asText();
      if (Set.of("succeeded", "failed", "canceled").contains(status)) {
        return job;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("job " + jobId + " did not finish in time");
  }

  static void assertProblem(Http.Reply reply, int status, String type) {
    assertEquals(status, reply.status(), reply.toString());
    assertTrue(reply.contentType().startsWith("application/problem+json"), reply.contentType());
    assertEquals("/problems/" + type, reply.json().get("type").asText(), reply.toString());
    assertEquals(status, reply.json().get("status").asInt());
    assertFalse(reply.json().get("detail").asText().isBlank());
  }

  @Test
  void upscalesPhotoToExactlyScaleTimesItsSize() {
    for (int scale : new int[] {2, 3, 4, 8}) {
      Http.Reply reply =
          http.submit(
              "model=super-resolution&scale=" + scale,
              key,
              "image/png",
              Photos.flowerPng(),
              "Prefer",
              "wait=60");
      assertEquals(200, reply.status(), reply.toString());
      JsonNode job = reply.json();
      assertEquals("succeeded", job.get("status").asText());
      assertEquals("super-resolution@1", job.get("model").asText());
      Http.Reply result = http.get(job.at("/output/url").asText(), key);
      assertEquals(200, result.status());
      assertEquals("image/png", result.contentType());
      BufferedImage out = Photos.decode(result.body());
      assertEquals(128 * scale, out.getWidth());
      assertEquals(128 * scale, out.getHeight());
    }
  }

  /**
   * Polling that scales: an unchanged job answers 304 to its ETag; a long poll returns as soon as
   * the job says something new, and an unfinished job says when to ask again.
   */
  @Test
  void aPollAnswersNotModifiedUntilTheJobChangesAndALongPollReturnsOnTheChange() throws Exception {
    Http.Reply submitted =
        http.submit("model=super-resolution&scale=4", key, "image/png", Photos.flowerPng());
    assertEquals(202, submitted.status(), submitted.toString());
    String path = "/v1/jobs/" + submitted.json().get("id").asText();
    Http.Reply first = http.get(path, key);
    String tag = first.header("ETag");
    assertNotNull(tag, first.headers().toString());
    assertNotNull(first.header("Retry-After"), "an unfinished job says when to ask again");

    long t0 = System.nanoTime();
    Http.Reply changed =
        http.send(
            http.to(path)
                .header("Authorization", "Bearer " + key)
                .header("If-None-Match", tag)
                .header("Prefer", "wait=50"));
    double waited = (System.nanoTime() - t0) / 1e9;
    assertEquals(200, changed.status(), changed.toString());
    assertNotEquals(tag, changed.header("ETag"), "a new tag for what changed");
    assertTrue(waited < 45, "returned on the change, after " + waited + " s");
    assertEquals("wait=50", changed.header("Preference-Applied"));

    JsonNode done = awaitFinal(submitted.json().get("id").asText(), key);
    assertEquals("succeeded", done.get("status").asText());
    Http.Reply finished = http.get(path, key);
    // polls of a job that has not changed are answered by the node, not the store
    var counts = node.node.database().statementCounts();
    counts.start();
    Http.Reply again = null;
    for (int i = 0; i < 20; i++) {
      again =
          http.send(
              http.to(path)
                  .header("Authorization", "Bearer " + key)
                  .header("If-None-Match", finished.header("ETag")));
    }
    long jobReads =
        counts.stop().entrySet().stream()
            .filter(e -> e.getKey().contains(" from jobs where id = ? and tenant_id = ?"))
            .mapToLong(java.util.Map.Entry::getValue)
            .sum();
    assertTrue(jobReads <= 1, "20 polls read the job " + jobReads + " times");
    assertEquals(304, again.status(), again.toString());
    assertEquals(0, again.body().length);
    assertEquals(finished.header("ETag"), again.header("ETag"));
    assertNull(again.header("Retry-After"), "a finished job has nothing more to say");
  }

  /**
   * Retention: a tenant that keeps results 0 s finds its result gone (410) at the next purge, the
   * job and its bill still there; one that asks deletes a finished job's images at once.
   */
  @Test
  void resultsGoWhenTheirRetentionEndsOrWhenTheTenantAsksAndTheJobStays() throws Exception {
    String own = http.newTenantKey(Http.uniqueName("retention"));
    JsonNode periods = http.get("/v1/retention", own).json();
    assertEquals(86400, periods.get("resultsSeconds").asLong(), periods.toString());
    assertEquals(0, periods.get("inputsSeconds").asLong());
    assertEquals("plan", periods.get("resultsFrom").asText());
    byte[] png = Photos.png(new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB));

    // deleted at the tenant's request
    Http.Reply first =
        http.submit("model=resize&width=32&height=32", own, "image/png", png, "Prefer", "wait=30");
    String asked = first.json().get("id").asText();
    assertEquals(200, first.status(), first.toString());
    assertTrue(
        first.json().at("/input/deletedAt").isTextual(),
        "the input went in the commit that ended the job, as the waited answer says: " + first);
    assertEquals(200, http.get("/v1/jobs/" + asked + "/result", own).status());
    String stranger = http.newTenantKey(Http.uniqueName("retention-other"));
    assertEquals(404, http.delete("/v1/jobs/" + asked + "/data", stranger).status());
    assertEquals(204, http.delete("/v1/jobs/" + asked + "/data", own).status());
    Http.Reply gone = http.get("/v1/jobs/" + asked + "/result", own);
    assertProblem(gone, 410, "result-deleted");
    assertTrue(gone.json().get("detail").asText().contains("as the tenant asked"), gone.toString());

    // deleted by the purge once results are kept 0 s
    Http.Reply set =
        send("PUT", "/v1/retention", own, "{\"resultsSeconds\":0,\"inputsSeconds\":null}");
    assertEquals(200, set.status(), set.toString());
    assertEquals("tenant", set.json().get("resultsFrom").asText());
    assertProblem(
        send("PUT", "/v1/retention", own, "{\"resultsSeconds\":99999999}"), 422, "invalid-field");
    Http.Reply second =
        http.submit("model=resize&width=32&height=32", own, "image/png", png, "Prefer", "wait=30");
    String purged = second.json().get("id").asText();
    Instant deadline = Instant.now().plusSeconds(30);
    Http.Reply result;
    do {
      Thread.sleep(200);
      result = http.get("/v1/jobs/" + purged + "/result", own);
    } while (result.status() == 200 && Instant.now().isBefore(deadline));
    assertProblem(result, 410, "result-deleted");
    JsonNode job = http.get("/v1/jobs/" + purged, own).json();
    assertEquals("succeeded", job.get("status").asText(), "the job stays");
    assertTrue(job.at("/output/deletedAt").isTextual(), job.toString());
    assertTrue(job.at("/input/deletedAt").isTextual(), "inputs go when the job ends: " + job);
    assertEquals(2, http.get("/v1/usage", own).json().at("/total/jobs").asInt(), "billed still");
  }

  private static Http.Reply send(String method, String path, String token, String json) {
    return http.send(
        http.to(path)
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .method(method, java.net.http.HttpRequest.BodyPublishers.ofString(json)));
  }

  /**
   * A phone photo's metadata (GPS position, comments) never reaches a result: outputs are encoded
   * from pixels alone, whatever the model and format.
   */
  @Test
  void resultsCarryNoMetadataFromTheInput() {
    String comment = "taken at home by Jane Doe";
    byte[] tagged = Photos.withGpsAndComment(Photos.peopleJpeg(1), comment);
    assertTrue(Photos.contains(tagged, "Exif".getBytes()), "the input carries EXIF");
    byte[] gpsRational = {0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 51};
    for (String query :
        List.of(
            "model=resize&width=256&height=256&format=jpeg",
            "model=resize&width=256&height=256",
            "model=anonymize&format=jpeg")) {
      Http.Reply reply = http.submit(query, key, "image/jpeg", tagged, "Prefer", "wait=60");
      assertEquals(200, reply.status(), reply.toString());
      assertEquals("succeeded", reply.json().get("status").asText(), reply.toString());
      byte[] out = http.get(reply.json().at("/output/url").asText(), key).body();
      Photos.decode(out);
      assertFalse(Photos.contains(out, "Exif".getBytes()), query + ": EXIF in the result");
      assertFalse(Photos.contains(out, gpsRational), query + ": GPS values in the result");
      assertFalse(Photos.contains(out, comment.getBytes()), query + ": the comment in the result");
    }
  }

  @Test
  void removesBackgroundOfPeoplePhotoWithPartialAlpha() {
    Http.Reply reply =
        http.submit(
            "model=background-removal",
            key,
            "image/jpeg",
            Photos.peopleJpeg(2),
            "Prefer",
            "wait=60");
    assertEquals(200, reply.status(), reply.toString());
    Http.Reply result = http.get(reply.json().at("/output/url").asText(), key);
    BufferedImage cutout = Photos.decode(result.body());
    assertEquals(1920, cutout.getWidth());
    assertEquals(1367, cutout.getHeight());
    assertTrue(cutout.getColorModel().hasAlpha());
    int opaque = 0;
    int clear = 0;
    for (int y = 0; y < cutout.getHeight(); y += 8) {
      for (int x = 0; x < cutout.getWidth(); x += 8) {
        int alpha = cutout.getRGB(x, y) >>> 24;
        opaque += alpha > 200 ? 1 : 0;
        clear += alpha < 50 ? 1 : 0;
      }
    }
    int samples = (1920 / 8) * (1367 / 8 + 1);
    assertTrue(opaque > samples / 10, "people are kept: " + opaque + " of " + samples);
    assertTrue(clear > samples / 20, "background is cut: " + clear + " of " + samples);
  }

  @Test
  void submissionWithoutWaitAnswers202WithLocationAndFinishesLater() throws Exception {
    Http.Reply reply = http.submit("model=super-resolution", key, "image/png", Photos.flowerPng());
    assertEquals(202, reply.status(), reply.toString());
    String location = reply.header("Location");
    assertEquals("/v1/jobs/" + reply.json().get("id").asText(), location);
    assertTrue(Set.of("queued", "running").contains(reply.json().get("status").asText()));
    JsonNode done = awaitFinal(reply.json().get("id").asText(), key);
    assertEquals("succeeded", done.get("status").asText());
    assertEquals(1, done.get("attempts").asInt());
    assertNotNull(done.at("/timings/finishedAt").asText(null));
  }

  @Test
  void multipartSubmissionTakesImagePartAndFields() {
    String boundary = "retina-test-boundary";
    var body = new java.io.ByteArrayOutputStream();
    body.writeBytes(
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nsuper-resolution\r\n"
                + "--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"scale\"\r\n\r\n4\r\n"
                + "--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"f.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n")
            .getBytes());
    body.writeBytes(Photos.flowerPng());
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes());
    Http.Reply reply =
        http.send(
            http.to("/v1/jobs")
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .header("Prefer", "wait=60")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())));
    assertEquals(200, reply.status(), reply.toString());
    assertEquals("4", reply.json().at("/params/scale").asText());
    BufferedImage out =
        Photos.decode(http.get(reply.json().at("/output/url").asText(), key).body());
    assertEquals(512, out.getWidth());
  }

  @Test
  void sameIdempotencyKeyAndRequestGiveTheSameJob() {
    String k = "idem-" + UUID.randomUUID();
    Http.Reply first =
        http.submit(
            "model=super-resolution", key, "image/png", Photos.flowerPng(), "Idempotency-Key", k);
    assertEquals(202, first.status(), first.toString());
    Http.Reply again =
        http.submit(
            "model=super-resolution", key, "image/png", Photos.flowerPng(), "Idempotency-Key", k);
    assertTrue(again.status() == 200 || again.status() == 202, again.toString());
    assertEquals(first.json().get("id").asText(), again.json().get("id").asText());
    assertEquals("true", again.header("Idempotent-Replayed"));

    Http.Reply different =
        http.submit(
            "model=super-resolution&scale=4",
            key,
            "image/png",
            Photos.flowerPng(),
            "Idempotency-Key",
            k);
    assertProblem(different, 422, "idempotency-key-reused");
  }

  @Test
  void repeatWhileFirstRequestIsStillWaitingIsAConflict() throws Exception {
    String k = "inflight-" + UUID.randomUUID();
    byte[] photo = shrink(Photos.peopleJpeg(5), 400);
    var first =
        CompletableFuture.supplyAsync(
            () ->
                http.submit(
                    "model=super-resolution&scale=4",
                    key,
                    "image/png",
                    photo,
                    "Idempotency-Key",
                    k,
                    "Prefer",
                    "wait=30"));
    Thread.sleep(300);
    Http.Reply second =
        http.submit(
            "model=super-resolution&scale=4", key, "image/png", photo, "Idempotency-Key", k);
    assertProblem(second, 409, "idempotency-key-in-flight");
    assertNotNull(second.header("Retry-After"));
    assertEquals(200, first.get().status(), first.get().toString());
  }

  static byte[] shrink(byte[] jpeg, int width) {
    BufferedImage src = Photos.decode(jpeg);
    int height = src.getHeight() * width / src.getWidth();
    BufferedImage small = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    var g = small.createGraphics();
    g.drawImage(src, 0, 0, width, height, null);
    g.dispose();
    return Photos.png(small);
  }

  @Test
  void cancelsQueuedJobAndRefusesToCancelFinishedOne() throws Exception {
    byte[] image = shrink(Photos.peopleJpeg(1), 480);
    String last = null;
    for (int i = 0; i < 6; i++) {
      last =
          http.submit("model=super-resolution&scale=4", key, "image/png", image)
              .json()
              .get("id")
              .asText();
    }
    Http.Reply canceled = http.delete("/v1/jobs/" + last, key);
    assertEquals(200, canceled.status(), canceled.toString());
    assertEquals("canceled", canceled.json().get("status").asText());
    assertProblem(http.get("/v1/jobs/" + last + "/result", key), 409, "job-has-no-result");
    assertProblem(http.delete("/v1/jobs/" + last, key), 409, "job-already-finished");
    assertEquals("canceled", awaitFinal(last, key).get("status").asText());
  }

  @Test
  void listsJobsNewestFirstWithCursorPagingAndStatusFilter() {
    String tenant = http.newTenantKey(Http.uniqueName("pager"));
    Set<String> submitted = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      submitted.add(
          http.submit("model=super-resolution", tenant, "image/png", Photos.flowerPng())
              .json()
              .get("id")
              .asText());
    }
    Set<String> seen = new HashSet<>();
    Http.Reply page = http.get("/v1/jobs?limit=2", tenant);
    int pages = 0;
    while (true) {
      assertEquals(200, page.status(), page.toString());
      pages++;
      page.json().get("jobs").forEach(j -> seen.add(j.get("id").asText()));
      JsonNode next = page.json().get("nextCursor");
      if (next.isNull()) {
        break;
      }
      assertNotNull(page.header("Link"));
      page = http.get("/v1/jobs?limit=2&cursor=" + next.asText(), tenant);
    }
    assertEquals(3, pages);
    assertEquals(submitted, seen);
    Http.Reply filtered = http.get("/v1/jobs?status=failed", tenant);
    assertEquals(0, filtered.json().get("jobs").size());
    assertProblem(http.get("/v1/jobs?status=done", tenant), 400, "bad-status");
    assertProblem(http.get("/v1/jobs?cursor=garbage", tenant), 400, "bad-cursor");
    assertProblem(http.get("/v1/jobs?limit=1000", tenant), 400, "bad-limit");
  }

  @Test
  void anotherTenantsJobAnswersExactlyLikeAMissingOne() {
    String jobId =
        http.submit("model=super-resolution", key, "image/png", Photos.flowerPng())
            .json()
            .get("id")
            .asText();
    String intruder = http.newTenantKey(Http.uniqueName("intruder"));
    String missing = UUID.randomUUID().toString();
    for (String suffix : new String[] {"", "/result"}) {
      Http.Reply theirs = http.get("/v1/jobs/" + jobId + suffix, intruder);
      Http.Reply none = http.get("/v1/jobs/" + missing + suffix, intruder);
      assertProblem(theirs, 404, "job-not-found");
      assertProblem(none, 404, "job-not-found");
      assertEquals(
          none.json().get("title").asText()
              + none.json().get("detail").asText().replace(missing, "ID"),
          theirs.json().get("title").asText()
              + theirs.json().get("detail").asText().replace(jobId, "ID"));
    }
    assertProblem(http.delete("/v1/jobs/" + jobId, intruder), 404, "job-not-found");
    assertEquals(0, http.get("/v1/jobs", intruder).json().get("jobs").size());
  }

  @Test
  void badInputGetsClearProblemsAndTheNodeStaysReady() {
    byte[] flower = Photos.flowerPng();
    byte[] jpeg = Photos.peopleJpeg(3);
    assertProblem(
        http.submit(
            "model=super-resolution", key, "image/jpeg", Arrays.copyOf(jpeg, jpeg.length / 2)),
        422,
        "invalid-image");
    assertProblem(
        http.submit("model=super-resolution", key, "image/png", Photos.pngHeaderOnly(20000, 20000)),
        413,
        "image-too-large");
    assertProblem(
        http.submit("model=super-resolution", key, "image/png", new byte[3_100_000]),
        413,
        "payload-too-large");
    assertProblem(
        http.submit("model=super-resolution", key, "text/plain", "hello".getBytes()),
        415,
        "unsupported-media-type");
    assertProblem(
        http.submit("model=super-resolution", key, "image/png", "GIF89a....".getBytes()),
        415,
        "unsupported-media-type");
    assertProblem(
        http.submit("model=super-resolution", key, "image/jpeg", flower),
        415,
        "unsupported-media-type");
    assertProblem(
        http.submit("model=super-resolution&scale=5", key, "image/png", flower),
        422,
        "invalid-parameter");
    assertProblem(
        http.submit("model=super-resolution&colour=red", key, "image/png", flower),
        422,
        "invalid-parameter");
    assertProblem(
        http.submit("model=no-such-model", key, "image/png", flower), 404, "model-not-found");
    assertProblem(
        http.submit("model=super-resolution@99", key, "image/png", flower), 404, "model-not-found");
    assertProblem(http.submit("scale=2", key, "image/png", flower), 400, "missing-model");
    assertProblem(
        http.submit("model=super-resolution", "rtn_live_wrong", "image/png", flower),
        401,
        "unauthorized");
    assertProblem(
        http.submit("model=super-resolution", key, "image/png", new byte[0]), 400, "missing-image");
    assertProblem(
        http.submit("model=super-resolution", key, "image/png", flower, "Prefer", "wait=soon"),
        400,
        "bad-prefer");
    assertProblem(http.get("/v1/jobs/not-a-uuid", key), 404, "job-not-found");
    assertProblem(http.get("/admin/tenants", key), 401, "unauthorized");
    Http.Reply ready = http.get("/health/ready", key);
    assertEquals(200, ready.status(), ready.toString());
  }

  @Test
  void jobWhoseDispatchWasLostIsRunByTheSweeper() throws Exception {
    TenantRepository tenants = new TenantRepository(node.node.database().tx());
    JobSubmissions submissions = new JobSubmissions(node.node.database().tx());
    var tenant = tenants.create(Http.uniqueName("lost"));
    String token = tenants.issueKey(tenant.id(), "k").secret();
    byte[] png = Photos.flowerPng();
    var created =
        submissions.submit(
            new NewJob(
                tenant.id(),
                "super-resolution",
                1,
                Map.of("scale", "2"),
                "image/png",
                128,
                128,
                "sha256:test",
                png,
                3),
            io.retina.platform.jobs.AdmissionLimits.NONE,
            null,
            null,
            Duration.ofSeconds(30));
    String id = ((Submission.Created) created).job().id().toString();
    JsonNode done = awaitFinal(id, token);
    assertEquals("succeeded", done.get("status").asText());
  }

  @Test
  void aLongJobShowsItsProgressWhileRunning() throws Exception {
    // x8 in 84-pixel tiles: a dozen model runs of about a second each on a CPU
    BufferedImage photo = Photos.decode(shrink(Photos.peopleJpeg(1), 300));
    byte[] png = Photos.png(photo.getSubimage(0, 0, 300, 200));
    Http.Reply r = http.submit("model=super-resolution&scale=8", key, "image/png", png);
    assertEquals(202, r.status(), r.toString());
    String id = r.json().get("id").asText();
    List<Double> seen = new ArrayList<>();
    Instant deadline = Instant.now().plusSeconds(120);
    JsonNode job = r.json();
    while (!Set.of("succeeded", "failed", "canceled").contains(job.get("status").asText())
        && Instant.now().isBefore(deadline)) {
      Thread.sleep(100);
      job = http.get("/v1/jobs/" + id, key).json();
      if (job.has("progress")) {
        assertEquals("running", job.get("status").asText(), "progress only while running");
        seen.add(job.get("progress").asDouble());
      }
    }
    assertEquals("succeeded", job.get("status").asText(), job.toString());
    assertFalse(job.has("progress"), "a finished job shows its outcome instead");
    assertFalse(seen.isEmpty(), "a dozen-run job showed no progress");
    for (int i = 0; i < seen.size(); i++) {
      assertTrue(seen.get(i) > 0 && seen.get(i) < 1, "progress " + seen);
      assertTrue(i == 0 || seen.get(i) >= seen.get(i - 1), "progress only rises: " + seen);
    }
  }

  @Test
  void metricsCountJobsAndTimeThemByModel() {
    http.submit(
        "model=super-resolution", key, "image/png", Photos.flowerPng(), "Prefer", "wait=60");
    Http.Reply metrics = http.get("/metrics", key);
    assertEquals(200, metrics.status());
    assertEquals(
        "text/plain; version=0.0.4; charset=UTF-8",
        metrics.contentType(),
        "Prometheus's text format, versioned");
    String text = new String(metrics.body());
    assertTrue(text.contains("retina_jobs_submitted_total{model=\"super-resolution@1\"}"), text);
    assertTrue(
        text.contains(
            "retina_jobs_finished_total{model=\"super-resolution@1\",status=\"succeeded\"}"));
    assertTrue(
        text.contains(
            "retina_job_latency_seconds_bucket{model=\"super-resolution@1\",le=\"+Inf\"}"));
    assertTrue(
        text.contains("retina_job_queue_wait_seconds_count{model=\"super-resolution@1\"}"), text);
    assertTrue(
        text.contains("retina_model_load_seconds_count{model=\"super-resolution@1\"}"), text);
  }

  @Test
  void metricsShowTheJvmTheStorePoolAndTheCluster() {
    String text = new String(http.get("/metrics", key).body());

    assertTrue(text.contains("\njvm_memory_used_bytes{area=\"heap\""), text);
    assertTrue(text.contains("\njvm_threads_live_threads "), text);
    assertTrue(text.contains("\nhikaricp_connections_active{pool=\"retina-store\"} "), text);
    assertTrue(text.contains("\nretina_cluster_members{status=\"up\"} 1.0\n"), text);
    assertTrue(text.contains("\nretina_cluster_unreachable_members 0.0\n"), text);
    assertTrue(text.contains("\nretina_sharding_shards{entity_type=\"ModelRunner\"} "), text);
  }

  @Test
  void modelCatalogListsBothModelsWithTheirParameters() {
    JsonNode models = http.get("/v1/models", key).json().get("models");
    Set<String> refs = new HashSet<>();
    models.forEach(m -> refs.add(m.get("ref").asText()));
    assertTrue(
        refs.containsAll(Set.of("super-resolution@1", "background-removal@1")), refs.toString());
    assertTrue(models.toString().contains("sha512-"), "digest recorded");
  }
}
