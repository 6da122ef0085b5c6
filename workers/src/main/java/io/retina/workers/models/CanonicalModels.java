package io.retina.workers.models;

import io.retina.workers.tfjs.SavedModels;
import io.retina.workers.tfjs.TfModel;
import io.retina.workers.tfjs.TfjsModels;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Loads every model the same way: from its canonical form, a TensorFlow SavedModel.
 *
 * <p>A SavedModel (an uploaded {@code saved-model} version) is its own canonical form. A TF.js
 * model is imported once per node, exported as a SavedModel into {@code
 * <modelCache>/canonical/r<importer revision>/<hex of its source digest>/}, and loaded from there,
 * now and at every later load. The importer's revision is part of the path so that a node never
 * loads a form an older importer made (one with ops that don't run everywhere, say). A canonical
 * form records its own digest and is checked against it before each load; one that does not match
 * (a crash while writing, a disk fault) is made again from its source.
 *
 * <p>Thread-safe, and safe across processes sharing one cache, like {@link ArtifactStore}: a form
 * is written into a private directory and moved into place whole. Blocking: call it on the blocking
 * dispatcher. Not reusable across loads: {@link #loaded} reports the forms one instance loaded.
 */
public final class CanonicalModels {
  /** The file, in a canonical form, holding its source's digest and its own. */
  private static final String VERIFIED = ".verified";

  /**
   * The revision of what the TF.js importers write. Raise it whenever a change to them changes the
   * graphs they produce. 2: fused ops split into public ops that run with oneDNN off.
   */
  static final int IMPORTER_REVISION = 2;

  /** How a source that is not a SavedModel is imported. */
  @FunctionalInterface
  public interface Importer {
    TfModel importModel(Path source) throws IOException;
  }

  /**
   * One model loaded: where from, the SavedModel it was loaded from, and the digests of its source
   * and of that canonical form.
   */
  public record Loaded(Path source, Path form, String sourceDigest, String canonicalDigest) {}

  private final Path modelCache;
  private final Path root;
  private final List<Loaded> loaded = new ArrayList<>();

  public CanonicalModels(Path modelCache) {
    this.modelCache = modelCache;
    this.root = modelCache.resolve("canonical").resolve("r" + IMPORTER_REVISION);
  }

  /**
   * The node's model cache these forms live in, which also holds the catalog's packages: a task
   * built on a catalog model (a trained classifier's backbone) finds that model here.
   */
  public Path modelCache() {
    return modelCache;
  }

  /** The forms loaded so far, in load order. */
  public synchronized List<Loaded> loaded() {
    return List.copyOf(loaded);
  }

  /** Loads a TF.js {@code model.json} or a SavedModel directory. */
  public TfModel load(Path source) throws IOException {
    return load(source, TfjsModels::load);
  }

  /**
   * Loads {@code source}: a SavedModel directory (or its {@code saved_model.pb}) as it is; anything
   * else through its canonical form, made with {@code importer} if this node has none.
   */
  public TfModel load(Path source, Importer importer) throws IOException {
    Path savedModel =
        source.getFileName().toString().equals("saved_model.pb") ? source.getParent() : source;
    if (Files.isDirectory(savedModel)) {
      String digest = treeDigest(savedModel);
      TfModel model = SavedModels.load(savedModel);
      record(new Loaded(source, savedModel, digest, digest));
      return model;
    }
    String sourceDigest = sourceDigest(source);
    Path dir = root.resolve(sourceDigest.substring("sha256:".length()));
    String canonicalDigest = verifiedDigest(dir, sourceDigest);
    if (canonicalDigest == null) {
      canonicalDigest = make(source, sourceDigest, dir, importer);
    }
    TfModel model = SavedModels.load(dir);
    record(new Loaded(source, dir, sourceDigest, canonicalDigest));
    return model;
  }

  private synchronized void record(Loaded l) {
    loaded.add(l);
  }

  /** Imports the source, exports it and moves it into place; returns the form's digest. */
  private static String make(Path source, String sourceDigest, Path dir, Importer importer)
      throws IOException {
    Files.createDirectories(dir.getParent());
    Path tmp = dir.resolveSibling(".tmp-" + UUID.randomUUID());
    try {
      try (TfModel imported = importer.importModel(source)) {
        SavedModels.export(imported, tmp);
      }
      String digest = treeDigest(tmp);
      Files.writeString(
          tmp.resolve(VERIFIED), sourceDigest + "\n" + digest + "\n", StandardCharsets.US_ASCII);
      if (Files.exists(dir)) {
        ModelFiles.deleteTree(dir); // a form that failed its check
      }
      try {
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
        if (verifiedDigest(dir, sourceDigest) == null) {
          throw e;
        }
        // another process made the same form first; it is as good as ours
      } catch (IOException e) {
        // a non-empty target reads as "directory not empty" on some systems
        if (verifiedDigest(dir, sourceDigest) == null) {
          throw e;
        }
      }
      return verifiedDigest(dir, sourceDigest);
    } finally {
      ModelFiles.deleteTree(tmp);
    }
  }

  /** The form's digest if it is there, made from this source, and still matches it; else null. */
  private static String verifiedDigest(Path dir, String sourceDigest) {
    try {
      List<String> lines = Files.readAllLines(dir.resolve(VERIFIED), StandardCharsets.US_ASCII);
      if (lines.size() < 2 || !lines.get(0).equals(sourceDigest)) {
        return null;
      }
      return lines.get(1).equals(treeDigest(dir)) ? lines.get(1) : null;
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * The digest of a model's source: a TF.js model.json and its weight shards in manifest order, or
   * a single file (a bundle) alone.
   */
  static String sourceDigest(Path source) throws IOException {
    List<Path> files =
        source.getFileName().toString().endsWith(".json")
            ? TfjsModels.files(source)
            : List.of(source);
    MessageDigest sha256 = ModelFiles.sha256();
    for (Path f : files) {
      update(sha256, f);
    }
    return "sha256:" + HexFormat.of().formatHex(sha256.digest());
  }

  /** The digest of a directory's files (but {@value #VERIFIED}), names and contents, by name. */
  static String treeDigest(Path dir) throws IOException {
    MessageDigest sha256 = ModelFiles.sha256();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files =
          walk.filter(Files::isRegularFile)
              .filter(p -> !p.getFileName().toString().equals(VERIFIED))
              .sorted(Comparator.comparing(p -> dir.relativize(p).toString()))
              .toList();
    }
    for (Path f : files) {
      sha256.update(dir.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
      sha256.update((byte) 0);
      update(sha256, f);
    }
    return "sha256:" + HexFormat.of().formatHex(sha256.digest());
  }

  private static void update(MessageDigest sha256, Path file) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = Files.newInputStream(file)) {
      for (int r; (r = in.read(buffer)) > 0; ) {
        sha256.update(buffer, 0, r);
      }
    }
  }
}
