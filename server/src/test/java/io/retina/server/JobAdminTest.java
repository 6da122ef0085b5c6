package io.retina.server;

import static io.retina.server.JobContractTest.assertProblem;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every tenant's jobs through the admin API on a real node: an operator lists them by status,
 * tenant and model, a page at a time, reads why one failed, and cancels one that has not finished,
 * which is audited. Only the admin token opens it.
 */
class JobAdminTest {
  static final String ADMIN = TestNode.ADMIN_TOKEN;
  static TestNode node;
  static Http http;

  @BeforeAll
  static void start() throws Exception {
    node = TestNode.start(Map.of());
    http = new Http(node.base);
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  record Tenant(String id, String name, String key) {}

  static Tenant tenant(String prefix) {
    String name = Http.uniqueName(prefix);
    String key = http.newTenantKey(name);
    for (JsonNode t : http.get("/admin/tenants", ADMIN).json()) {
      if (t.get("name").asText().equals(name)) {
        return new Tenant(t.get("id").asText(), name, key);
      }
    }
    throw new AssertionError("tenant " + name + " is not listed");
  }

  /** A job whose PNG header passes admission and whose pixels the worker can't decode. */
  static String submitUndecodable(Tenant t) {
    Http.Reply r =
        http.submit("model=super-resolution", t.key(), "image/png", Photos.pngHeaderOnly(64, 64));
    assertEquals(202, r.status(), r.toString());
    return r.json().get("id").asText();
  }

  static Http.Reply cancel(String id, String token) {
    return http.send(
        http.to("/admin/jobs/" + id + "/cancel")
            .header("Authorization", "Bearer " + token)
            .POST(HttpRequest.BodyPublishers.noBody()));
  }

  static List<String> ids(JsonNode page) {
    List<String> ids = new ArrayList<>();
    page.get("jobs").forEach(j -> ids.add(j.get("id").asText()));
    return ids;
  }

  @Test
  void listsEveryTenantsJobsWithTheirTenantAndFiltersThem() throws Exception {
    Tenant a = tenant("alpha");
    Tenant b = tenant("beta");
    String failed = submitUndecodable(a);
    Http.Reply ok =
        http.submit(
            "model=super-resolution",
            a.key(),
            "image/png",
            Photos.flowerPng(),
            "Prefer",
            "wait=60");
    assertEquals("succeeded", ok.json().get("status").asText(), ok.toString());
    String succeeded = ok.json().get("id").asText();
    String other = submitUndecodable(b);
    JobContractTest.awaitFinal(http, failed, a.key());
    JobContractTest.awaitFinal(http, other, b.key());

    JsonNode all = http.get("/admin/jobs?limit=100", ADMIN).json();
    List<String> listed = ids(all);
    assertTrue(
        listed.indexOf(other) < listed.indexOf(succeeded)
            && listed.indexOf(succeeded) < listed.indexOf(failed)
            && listed.indexOf(other) >= 0,
        "every tenant's jobs, newest first: " + listed);

    JsonNode ofA = http.get("/admin/jobs?tenant=" + a.id(), ADMIN).json();
    assertEquals(List.of(succeeded, failed), ids(ofA));
    assertEquals(a.id(), ofA.at("/jobs/0/tenantId").asText());
    assertEquals(a.name(), ofA.at("/jobs/0/tenantName").asText());
    assertTrue(ofA.get("nextCursor").isNull());

    JsonNode failedOfA = http.get("/admin/jobs?status=failed&tenant=" + a.id(), ADMIN).json();
    assertEquals(List.of(failed), ids(failedOfA));
    JsonNode job = failedOfA.at("/jobs/0");
    assertEquals("invalid-input", job.at("/error/type").asText(), job.toString());
    assertFalse(job.at("/error/detail").asText().isBlank(), job.toString());
    assertEquals("super-resolution@1", job.get("model").asText());
    assertTrue(job.at("/timings/totalMs").isNumber(), job.toString());

    assertEquals(
        List.of(),
        ids(http.get("/admin/jobs?model=background-removal&tenant=" + b.id(), ADMIN).json()));
    assertEquals(
        List.of(other),
        ids(http.get("/admin/jobs?model=super-resolution&tenant=" + b.id(), ADMIN).json()));
  }

  @Test
  void pagesThroughATenantsJobsWithTheNextLink() throws Exception {
    Tenant t = tenant("pages");
    List<String> submitted = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      submitted.add(0, submitUndecodable(t));
    }
    for (String id : submitted) {
      JobContractTest.awaitFinal(http, id, t.key());
    }
    List<String> seen = new ArrayList<>();
    String path = "/admin/jobs?status=failed&limit=2&tenant=" + t.id();
    int pages = 0;
    while (path != null) {
      Http.Reply page = http.get(path, ADMIN);
      assertEquals(200, page.status(), page.toString());
      seen.addAll(ids(page.json()));
      String link = page.header("Link");
      path = link == null ? null : link.substring(1, link.indexOf('>'));
      assertEquals(page.json().get("nextCursor").isNull(), link == null);
      pages++;
    }
    assertEquals(submitted, seen);
    assertEquals(3, pages);
  }

  @Test
  void showsOneJobOfAnyTenantAndNoneThatDoesNotExist() {
    Tenant t = tenant("one");
    String id = submitUndecodable(t);

    JsonNode job = http.get("/admin/jobs/" + id, ADMIN).json();
    assertEquals(id, job.get("id").asText());
    assertEquals(t.id(), job.get("tenantId").asText());
    assertEquals(t.name(), job.get("tenantName").asText());

    assertProblem(http.get("/admin/jobs/" + UUID.randomUUID(), ADMIN), 404, "job-not-found");
    assertProblem(http.get("/admin/jobs/not-a-job", ADMIN), 404, "job-not-found");
  }

  @Test
  void cancelsAnUnfinishedJobOnceAuditsItAndRefusesAFinishedOne() throws Exception {
    Tenant t = tenant("cancel");
    byte[] photo = JobContractTest.shrink(Photos.peopleJpeg(1), 480);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Http.Reply r = http.submit("model=super-resolution&scale=4", t.key(), "image/png", photo);
      assertEquals(202, r.status(), r.toString());
      ids.add(r.json().get("id").asText());
    }
    String last = ids.get(ids.size() - 1);
    try {
      Http.Reply canceled = cancel(last, ADMIN);
      assertEquals(200, canceled.status(), canceled.toString());
      assertEquals("canceled", canceled.json().get("status").asText());
      assertEquals("canceled by an operator", canceled.json().at("/error/detail").asText());
      assertEquals(t.name(), canceled.json().get("tenantName").asText());
      assertEquals(
          "canceled", JobContractTest.awaitFinal(http, last, t.key()).get("status").asText());

      Http.Reply again = cancel(last, ADMIN);
      assertProblem(again, 409, "job-already-finished");
      assertEquals("canceled", again.json().get("jobStatus").asText());
      assertProblem(cancel(UUID.randomUUID().toString(), ADMIN), 404, "job-not-found");

      boolean audited = false;
      for (JsonNode e : http.get("/admin/audit", ADMIN).json().get("entries")) {
        audited |=
            e.get("action").asText().equals("job.cancel")
                && e.get("targetId").asText().equals(last)
                && e.at("/details/tenant").asText().equals(t.id());
      }
      assertTrue(audited, "the cancel is in the audit trail");
    } finally {
      // the node's workers are shared by this class's tests: leave them nothing slow to run
      ids.forEach(id -> cancel(id, ADMIN));
    }
  }

  @Test
  void refusesTenantKeysAndRequestsWithoutTheAdminToken() {
    Tenant t = tenant("intruder");
    String id = submitUndecodable(t);

    assertProblem(http.send(http.to("/admin/jobs").GET()), 401, "unauthorized");
    assertProblem(http.get("/admin/jobs", t.key()), 401, "unauthorized");
    assertProblem(http.get("/admin/jobs/" + id, t.key()), 401, "unauthorized");
    assertProblem(cancel(id, t.key()), 401, "unauthorized");
    assertProblem(cancel(id, "not-the-admin-token"), 401, "unauthorized");
  }

  @Test
  void refusesMalformedFilters() {
    assertProblem(http.get("/admin/jobs?status=stuck", ADMIN), 400, "bad-status");
    assertProblem(http.get("/admin/jobs?tenant=acme", ADMIN), 400, "bad-filter");
    assertProblem(http.get("/admin/jobs?model=super-resolution@1", ADMIN), 400, "bad-filter");
    assertProblem(http.get("/admin/jobs?limit=0", ADMIN), 400, "bad-limit");
    assertProblem(http.get("/admin/jobs?limit=101", ADMIN), 400, "bad-limit");
    assertProblem(http.get("/admin/jobs?cursor=not-ours", ADMIN), 400, "bad-cursor");
  }
}
