package io.retina.workers.models;

import io.retina.platform.models.ModelArchive;
import io.retina.platform.models.ModelLoads;
import io.retina.platform.models.ModelRepository;
import io.retina.platform.models.ModelVersion;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Where a model version's files are on this node. A built-in version's package is in the model
 * cache already, where the build put it; an uploaded version's zip is in the store and is unpacked
 * once per node into {@code <modelCache>/uploads/<sha256>/}, after its digest is checked.
 *
 * <p>Thread-safe, and safe across processes sharing one cache: a version is unpacked into a private
 * directory and moved into place whole, so a reader sees all of it or none. Blocking (store and
 * disk): call it on the blocking dispatcher.
 */
public final class ArtifactStore {
  /** The file, in an unpacked artifact, holding the digest it was verified against. */
  private static final String VERIFIED = ".verified";

  /** An unpack that hasn't finished in this long was cut short (a crash): it takes seconds. */
  private static final Duration ABANDONED_AFTER = Duration.ofHours(1);

  /** A failed load this old is not being retried right now, so its files may go. */
  private static final Duration FAILED_SETTLED_AFTER = Duration.ofMinutes(10);

  private final ModelRepository models;
  private final ModelArchive.Limits limits;

  public ArtifactStore(ModelRepository models) {
    this(models, ModelArchive.Limits.DEFAULT);
  }

  public ArtifactStore(ModelRepository models, ModelArchive.Limits limits) {
    this.models = models;
    this.limits = limits;
  }

  /** Whether the version's artifact is kept in the store rather than shipped with the build. */
  public static boolean isStored(ModelVersion v) {
    return ModelArchive.isStored(v);
  }

  /** The cache directory an uploaded artifact of this digest unpacks to. */
  public static Path uploadDir(Path modelCache, String digest) {
    return modelCache.resolve(ModelArchive.uploadRoot(digest));
  }

  /**
   * The directory to load the version from: for a built-in, its package directory in the cache (its
   * {@code root} option); for an upload, the unpacked artifact, fetched and unpacked first if this
   * node has not done it yet.
   *
   * @throws IOException if the artifact is missing from the store, does not match its digest, or
   *     cannot be unpacked safely
   */
  public Path materialize(ModelVersion v, Path modelCache) throws IOException {
    if (ModelArchive.hasNoArtifact(v)) {
      return null; // a task that needs no model file
    }
    if (!isStored(v)) {
      return modelCache.resolve(v.artifact().get("root"));
    }
    String digest = v.artifactDigest();
    Path dir = uploadDir(modelCache, digest);
    if (verified(dir, digest)) {
      return dir;
    }
    Path uploads = Files.createDirectories(dir.getParent());
    String tmp = ".tmp-" + UUID.randomUUID();
    Path zip = uploads.resolve(tmp + ".zip");
    Path unpacked = uploads.resolve(tmp);
    try {
      fetch(digest, zip, v);
      ModelArchive.unpack(zip, unpacked, limits);
      Files.writeString(unpacked.resolve(VERIFIED), digest, StandardCharsets.US_ASCII);
      try {
        Files.move(unpacked, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
        if (!verified(dir, digest)) {
          throw e;
        }
        // another runner unpacked the same artifact first; its copy is as good as ours
      } catch (IOException e) {
        // a non-empty target reads as "directory not empty" on some systems
        if (!verified(dir, digest)) {
          throw e;
        }
      }
      return dir;
    } finally {
      Files.deleteIfExists(zip);
      ModelFiles.deleteTree(unpacked);
    }
  }

  /**
   * Removes the unpacked uploads this node no longer needs: those of versions that are retired or
   * gone, those whose last load on {@code node} failed ten minutes ago or more (fetched again from
   * the store if they are tried again), and what an unpack cut short left behind. Returns how many
   * were removed.
   */
  public int prune(Path modelCache, String node) throws IOException {
    Path uploads = modelCache.resolve("uploads");
    if (!Files.isDirectory(uploads)) {
      return 0;
    }
    Set<String> failedHere = new HashSet<>();
    Instant settled = Instant.now().minus(FAILED_SETTLED_AFTER);
    for (ModelLoads.Load l : models.loads().all()) {
      if (!l.loaded() && l.node().equals(node) && l.at().isBefore(settled)) {
        failedHere.add(l.modelName() + "@" + l.version());
      }
    }
    Set<String> keep = new HashSet<>();
    for (ModelVersion v : models.listServable()) {
      if (isStored(v) && !failedHere.contains(v.ref())) {
        keep.add(uploadDir(modelCache, v.artifactDigest()).getFileName().toString());
      }
    }
    Instant abandoned = Instant.now().minus(ABANDONED_AFTER);
    int removed = 0;
    try (Stream<Path> dirs = Files.list(uploads)) {
      for (Path d : dirs.toList()) {
        String name = d.getFileName().toString();
        boolean stale =
            name.startsWith(".tmp-")
                ? Files.getLastModifiedTime(d).toInstant().isBefore(abandoned)
                : !keep.contains(name);
        if (stale) {
          ModelFiles.deleteTree(d);
          removed++;
        }
      }
    }
    return removed;
  }

  private void fetch(String digest, Path zip, ModelVersion v) throws IOException {
    MessageDigest sha256 = ModelFiles.sha256();
    boolean found;
    try (OutputStream out = new DigestOutputStream(Files.newOutputStream(zip), sha256)) {
      found = models.readArtifact(digest, out);
    }
    if (!found) {
      throw new IOException("the artifact of " + v.ref() + " (" + digest + ") is not in the store");
    }
    String actual = "sha256:" + HexFormat.of().formatHex(sha256.digest());
    if (!actual.equals(digest)) {
      throw new IOException(
          "the artifact of " + v.ref() + " does not match its digest: " + actual + " stored");
    }
  }

  private static boolean verified(Path dir, String digest) {
    try {
      return Files.readString(dir.resolve(VERIFIED), StandardCharsets.US_ASCII)
          .trim()
          .equals(digest);
    } catch (IOException e) {
      return false;
    }
  }
}
