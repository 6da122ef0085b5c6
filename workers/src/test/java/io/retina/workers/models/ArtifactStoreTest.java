package io.retina.workers.models;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.models.ModelArchive;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.ModelVersion;
import io.retina.platform.models.ParameterSpec;
import io.retina.platform.store.Database;
import io.retina.platform.store.TestDatabases;
import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.ImageTask;
import io.retina.workers.tasks.ImageTasks;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Uploaded artifacts reach a worker's cache from the store, whole and verified, and load. */
class ArtifactStoreTest {
  static Database db;
  static ModelRepository models;
  @TempDir Path cache;

  @BeforeAll
  static void open() {
    db = TestDatabases.fresh();
    models = new ModelRepository(db.tx());
  }

  @AfterAll
  static void close() {
    db.close();
  }

  /** ESRGAN-slim's x2 model.json and weights, zipped as an admin would upload them. */
  static byte[] esrganZip() throws Exception {
    Path x2 = ModelCacheFixtures.esrganSlim().resolve("models/x2");
    var bytes = new ByteArrayOutputStream();
    try (var z = new ZipOutputStream(bytes)) {
      for (String f : List.of("model.json", "group1-shard1of1.bin")) {
        z.putNextEntry(new ZipEntry("x2/" + f));
        z.write(Files.readAllBytes(x2.resolve(f)));
        z.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  static ModelVersion stage(String name, byte[] zip, String claimedDigest) throws Exception {
    Path file = Files.createTempFile("upload", ".zip");
    Files.write(file, zip);
    Map<String, String> artifact = new LinkedHashMap<>();
    artifact.put("root", ModelArchive.uploadRoot(claimedDigest));
    artifact.put(ModelArchive.STORE_OPTION, ModelArchive.IN_DATABASE);
    artifact.put("x2", "x2/model.json");
    return models.stage(
        new ModelVersion(
            name,
            0,
            "upscale",
            "tfjs-layers",
            "upload",
            claimedDigest,
            artifact,
            List.of(new ParameterSpec("scale", "factor", List.of("2"), "2")),
            false,
            1,
            0,
            1,
            1,
            ModelVersion.Status.STAGED),
        "test upscaler",
        file);
  }

  static String digest(byte[] bytes) throws Exception {
    return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @Test
  void pruningRemovesARetiredVersionsFilesAndAnAbandonedUnpackButKeepsTheRest() throws Exception {
    byte[] zip = esrganZip();
    ModelVersion kept = stage("pruned-kept", zip, digest(zip));
    byte[] other = Arrays.copyOf(zip, zip.length + 1); // a zip with a trailing byte still opens
    ModelVersion retired = stage("pruned-retired", other, digest(other));
    ArtifactStore store = new ArtifactStore(models);
    Path keptDir = store.materialize(kept, cache);
    Path retiredDir = store.materialize(retired, cache);
    Path abandoned = Files.createDirectories(cache.resolve("uploads/.tmp-crashed"));
    Files.setLastModifiedTime(abandoned, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
    Path unpacking = Files.createDirectories(cache.resolve("uploads/.tmp-in-progress"));

    assertEquals(1, store.prune(cache, "node-a"), "only the abandoned unpack, so far");
    assertFalse(Files.exists(abandoned));
    assertTrue(Files.exists(unpacking), "an unpack in progress is left alone");

    assertEquals(
        ModelRepository.Transition.Outcome.CHANGED,
        models.retire(retired.modelName(), retired.version()).outcome());
    assertEquals(1, store.prune(cache, "node-a"));
    assertFalse(Files.exists(retiredDir), "a retired version's files are gone");
    assertTrue(Files.isRegularFile(keptDir.resolve("x2/model.json")), "a servable one's stay");
  }

  @Test
  void anUploadedVersionIsUnpackedOnceAndLoads() throws Exception {
    byte[] zip = esrganZip();
    ModelVersion v = stage("uploaded-esrgan", zip, digest(zip));
    ArtifactStore store = new ArtifactStore(models);

    Path dir = store.materialize(v, cache);
    assertEquals(cache.resolve(v.artifact().get("root")), dir);
    assertTrue(Files.isRegularFile(dir.resolve("x2/model.json")));
    assertEquals(v.artifactDigest(), Files.readString(dir.resolve(".verified")));
    long modified = Files.getLastModifiedTime(dir.resolve("x2/model.json")).toMillis();
    assertEquals(dir, store.materialize(v, cache));
    assertEquals(
        modified,
        Files.getLastModifiedTime(dir.resolve("x2/model.json")).toMillis(),
        "a second call reuses the unpacked copy");

    Map<String, String> options = new LinkedHashMap<>(v.artifact());
    options.remove("root");
    try (ImageTask task = ImageTasks.load(v.task(), dir, options)) {
      byte[] png =
          Files.readAllBytes(ModelCacheFixtures.esrganSlim().resolve("assets/fixture.png"));
      RgbaImage out = ImageDecoder.decode(task.run(png, Map.of("scale", "2")).body());
      assertEquals(256, out.width());
    }
  }

  @Test
  void aBuiltInVersionResolvesToItsPackageInTheCache() throws Exception {
    ModelVersion builtIn =
        new ModelVersion(
            "super-resolution",
            1,
            "upscale",
            "tfjs-layers",
            "npm",
            "sha512-x",
            Map.of("root", "upscalerjs_esrgan-slim_1.0.0", "x2", "models/x2/model.json"),
            List.of(),
            false,
            1,
            0,
            1,
            1,
            ModelVersion.Status.ACTIVE);
    assertEquals(
        cache.resolve("upscalerjs_esrgan-slim_1.0.0"),
        new ArtifactStore(models).materialize(builtIn, cache));
  }

  @Test
  void anArtifactThatDoesNotMatchItsDigestIsRefused() throws Exception {
    byte[] zip = esrganZip();
    String wrong = "sha256:" + "0".repeat(64);
    ModelVersion v = stage("tampered-esrgan", zip, wrong);
    var e =
        assertThrows(
            java.io.IOException.class, () -> new ArtifactStore(models).materialize(v, cache));
    assertTrue(e.getMessage().contains("does not match its digest"), e.getMessage());
    assertFalse(Files.exists(cache.resolve(v.artifact().get("root"))));
    try (var files = Files.list(cache.resolve("uploads"))) {
      assertEquals(0, files.count(), "nothing half-written is left behind");
    }
  }
}
