package io.retina.platform.models;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.models.ModelRepository.Transition.Outcome;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.platform.tenants.TenantRepository;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Staging, promoting, rolling back and retiring versions, against a real PostgreSQL. */
class ModelRegistryLifecycleTest {
  static Database db;
  static ModelRepository models;

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    models = new ModelRepository(db.tx());
  }

  @AfterAll
  static void close() {
    db.close();
  }

  /** A model with a built-in active version 1, as the catalog registers it. */
  static String builtIn() {
    return builtIn(models);
  }

  /** The same, in another test's store. */
  static String builtIn(ModelRepository models) {
    String name = "m-" + UUID.randomUUID().toString().substring(0, 8);
    ModelVersion v1 = TestModels.echo(1);
    models.register(
        new ModelVersion(
            name,
            1,
            "upscale",
            v1.format(),
            v1.source(),
            v1.artifactDigest(),
            v1.artifact(),
            v1.parameters(),
            false,
            1,
            0,
            1000,
            500,
            ModelVersion.Status.ACTIVE),
        "a test model");
    return name;
  }

  @Test
  void aStagedUploadRunsOnlyForItsCanariesUntilPromotedAndThenForEveryone() throws Exception {
    TenantRepository tenants = new TenantRepository(db.tx());
    UUID canary = tenants.create("canary-" + UUID.randomUUID()).id();
    UUID other = tenants.create("other-" + UUID.randomUUID()).id();
    String name = builtIn();
    ModelVersion staged = upload(name, bytes("a staged upload"));

    assertTrue(models.findFor(name, 1, other).isPresent(), "the catalog's version is everyone's");
    assertFalse(models.findFor(name, staged.version(), canary).isPresent(), "no canary named yet");
    assertTrue(models.setCanaries(name, staged.version(), Set.of(canary)));
    assertTrue(models.findFor(name, staged.version(), canary).isPresent());
    assertFalse(models.findFor(name, staged.version(), other).isPresent());
    assertTrue(listed(canary, name).contains(staged.ref()));
    assertFalse(listed(other, name).contains(staged.ref()), "nor is it listed for the others");
    assertEquals(List.of(canary), models.canaries(name, staged.version()));

    models.promote(name, staged.version());
    models.rollback(name);
    assertTrue(
        models.findFor(name, staged.version(), other).isPresent(),
        "once active, it stays pinnable after a rollback");
    assertFalse(models.setCanaries(name, 99, Set.of(canary)), "no such version");
  }

  private static List<String> listed(UUID tenant, String name) {
    return models.listFor(tenant).stream()
        .filter(v -> v.modelName().equals(name))
        .map(ModelVersion::ref)
        .toList();
  }

  static ModelVersion upload(String name, byte[] zip) throws Exception {
    String digest =
        "sha256:"
            + HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(zip));
    Path file = Files.createTempFile("artifact", ".zip");
    try {
      Files.write(file, zip);
      return stage(name, digest, file);
    } finally {
      Files.delete(file); // staged into the database: the file was only the upload's carrier
    }
  }

  private static ModelVersion stage(String name, String digest, Path file) {
    Map<String, String> artifact = new LinkedHashMap<>();
    artifact.put("root", ModelArchive.uploadRoot(digest));
    artifact.put(ModelArchive.STORE_OPTION, ModelArchive.IN_DATABASE);
    artifact.put("x2", "model.json");
    return models.stage(
        new ModelVersion(
            name,
            0,
            "upscale",
            "tfjs-layers",
            "upload",
            digest,
            artifact,
            List.of(),
            false,
            1,
            0,
            10,
            20,
            ModelVersion.Status.ACTIVE),
        "uploaded",
        file);
  }

  static byte[] bytes(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static String activeOf(String name) {
    return models.findActive(name).map(ModelVersion::ref).orElse(null);
  }

  @Test
  void anUploadIsStagedUnderTheNextNumberWithItsArtifact() throws Exception {
    String name = builtIn();
    ModelVersion v2 = upload(name, bytes("zip one " + name));
    assertEquals(2, v2.version());
    assertEquals(ModelVersion.Status.STAGED, v2.status());
    assertEquals(name + "@1", activeOf(name), "an upload does not change the active version");
    var out = new ByteArrayOutputStream();
    assertTrue(models.readArtifact(v2.artifactDigest(), out));
    assertEquals("zip one " + name, out.toString());
    assertEquals(3, upload(name, bytes("zip two " + name)).version());
  }

  @Test
  void theSameArtifactUploadedTwiceIsKeptOnce() throws Exception {
    String name = builtIn();
    ModelVersion a = upload(name, bytes("same " + name));
    ModelVersion b = upload(name, bytes("same " + name));
    assertEquals(a.artifactDigest(), b.artifactDigest());
    int rows =
        db.tx()
            .call(
                c -> {
                  try (var st =
                      c.prepareStatement("select count(*) from model_artifacts where digest = ?")) {
                    st.setString(1, a.artifactDigest());
                    try (var rs = st.executeQuery()) {
                      rs.next();
                      return rs.getInt(1);
                    }
                  }
                });
    assertEquals(1, rows);
  }

  @Test
  void promotingMakesTheVersionActiveAndRollbackRestoresThePreviousOne() throws Exception {
    String name = builtIn();
    upload(name, bytes("p " + name));
    var promoted = models.promote(name, 2);
    assertEquals(Outcome.CHANGED, promoted.outcome());
    assertEquals(1, promoted.from());
    assertEquals(name + "@2", activeOf(name));
    assertEquals(ModelVersion.Status.STAGED, models.find(name, 1).orElseThrow().status());
    assertEquals(1, models.model(name).orElseThrow().previousVersion());

    var back = models.rollback(name);
    assertEquals(Outcome.CHANGED, back.outcome());
    assertEquals(name + "@1", activeOf(name));
    assertEquals(2, models.model(name).orElseThrow().previousVersion(), "rollback is undoable");
    assertEquals(Outcome.CHANGED, models.rollback(name).outcome());
    assertEquals(name + "@2", activeOf(name));
  }

  @Test
  void promotingTheActiveVersionChangesNothing() {
    String name = builtIn();
    assertEquals(Outcome.UNCHANGED, models.promote(name, 1).outcome());
    assertNull(models.model(name).orElseThrow().previousVersion());
  }

  @Test
  void rollbackWithNothingBeforeIsRefused() {
    assertEquals(Outcome.NO_PREVIOUS, models.rollback(builtIn()).outcome());
    assertEquals(Outcome.NO_SUCH_MODEL, models.rollback("no-such-model").outcome());
  }

  @Test
  void theActiveVersionCannotBeRetiredAndARetiredOneNeverReturns() throws Exception {
    String name = builtIn();
    upload(name, bytes("r " + name));
    assertEquals(Outcome.ACTIVE, models.retire(name, 1).outcome());
    models.promote(name, 2);
    assertEquals(Outcome.CHANGED, models.retire(name, 1).outcome());
    assertEquals(ModelVersion.Status.RETIRED, models.find(name, 1).orElseThrow().status());
    assertEquals(Outcome.UNCHANGED, models.retire(name, 1).outcome());
    assertEquals(Outcome.RETIRED, models.promote(name, 1).outcome());
    assertEquals(Outcome.NO_PREVIOUS, models.rollback(name).outcome());
    assertEquals(name + "@2", activeOf(name));
    assertEquals(Outcome.NO_SUCH_VERSION, models.promote(name, 9).outcome());
  }

  @Test
  void anUploadOfAnotherTaskThanItsModelsIsRefused() throws Exception {
    String name = "m-" + UUID.randomUUID().toString().substring(0, 8);
    TestModels.echo(1); // the echo task
    models.register(
        new ModelVersion(
            name,
            1,
            "pose",
            "tfjs-graph",
            "test",
            "sha256-test",
            Map.of("root", "none"),
            List.of(),
            false,
            1,
            0,
            1,
            1,
            ModelVersion.Status.ACTIVE),
        "pose");
    assertThrows(
        ModelRepository.TaskMismatchException.class, () -> upload(name, bytes("t " + name)));
    assertEquals(1, models.listAll().stream().filter(v -> v.modelName().equals(name)).count());
  }

  /** A release whose catalog adds version 2 as the default, to a store where 1 is active. */
  @Test
  void aNewActiveBuiltInTakesOverAndTheFormerDefaultCanBeRolledBackTo() {
    String name = builtIn();
    ModelVersion v1 = models.find(name, 1).orElseThrow();
    ModelVersion v2 =
        new ModelVersion(
            name,
            2,
            v1.task(),
            v1.format(),
            v1.source(),
            "sha512-another-package",
            v1.artifact(),
            v1.parameters(),
            false,
            1,
            0,
            1000,
            500,
            ModelVersion.Status.ACTIVE);
    models.register(v1.withStatus(ModelVersion.Status.STAGED), "a test model");
    models.register(v2, "a test model");
    assertEquals(name + "@2", activeOf(name));
    assertEquals(ModelVersion.Status.STAGED, models.find(name, 1).orElseThrow().status());
    assertEquals(1, models.model(name).orElseThrow().previousVersion());

    assertEquals(Outcome.CHANGED, models.rollback(name).outcome());
    models.register(v1.withStatus(ModelVersion.Status.STAGED), "a test model");
    models.register(v2, "a test model");
    assertEquals(name + "@1", activeOf(name), "the next start leaves the admin's choice alone");
  }

  @Test
  void reRegisteringABuiltInUpdatesHowItUsesItsPackageButNotItsStatus() {
    String name = builtIn();
    ModelVersion v1 = models.find(name, 1).orElseThrow();
    Map<String, String> artifact = new LinkedHashMap<>(v1.artifact());
    artifact.put("x8", "models/x8/model.json");
    ModelVersion v2 =
        new ModelVersion(
            name,
            2,
            "remove-background-two-class",
            v1.format(),
            v1.source(),
            v1.artifactDigest(),
            artifact,
            v1.parameters(),
            false,
            1,
            0,
            1000,
            500,
            ModelVersion.Status.STAGED);
    models.register(v2, "a test model");
    assertEquals("remove-background-two-class", models.find(name, 2).orElseThrow().task());
    assertEquals("upscale", models.find(name, 1).orElseThrow().task(), "each version its own");

    models.promote(name, 2);
    ModelVersion shipped =
        new ModelVersion(
            name,
            2,
            "upscale",
            v1.format(),
            v1.source(),
            v1.artifactDigest(),
            artifact,
            v1.parameters(),
            false,
            1,
            0,
            1500,
            500,
            ModelVersion.Status.STAGED);
    models.register(shipped, "a test model");
    ModelVersion now = models.find(name, 2).orElseThrow();
    assertEquals(shipped.withStatus(ModelVersion.Status.ACTIVE), now, "all but the status");
    assertThrows(
        IllegalStateException.class,
        () ->
            models.register(
                new ModelVersion(
                    name,
                    2,
                    "upscale",
                    v1.format(),
                    v1.source(),
                    "sha256:" + "0".repeat(64),
                    artifact,
                    v1.parameters(),
                    false,
                    1,
                    0,
                    1000,
                    500,
                    ModelVersion.Status.STAGED),
                "a test model"),
        "a shipped version's package never changes");
  }

  @Test
  void eachVersionKeepsItsOwnDescriptionAndTheModelShowsTheActiveOnes() {
    String name = builtIn(); // @1 active, "a test model"
    ModelVersion v1 = models.find(name, 1).orElseThrow();
    ModelVersion v2 =
        new ModelVersion(
            name,
            2,
            v1.task(),
            v1.format(),
            v1.source(),
            v1.artifactDigest(),
            v1.artifact(),
            v1.parameters(),
            false,
            1,
            0,
            1000,
            500,
            ModelVersion.Status.STAGED);
    models.register(v2, "the second network");
    assertEquals("a test model", models.descriptions().get(name + "@1"), "not overwritten by @2");
    assertEquals("the second network", models.descriptions().get(name + "@2"));
    assertEquals("a test model", models.model(name).orElseThrow().description());

    models.register(v1, "the first network, described better");
    assertEquals("the first network, described better", models.descriptions().get(name + "@1"));
    models.promote(name, 2);
    assertEquals("the second network", models.model(name).orElseThrow().description());
    assertEquals(
        "the second network",
        models.models().stream()
            .filter(m -> m.name().equals(name))
            .findFirst()
            .orElseThrow()
            .description());
  }
}
