package io.retina.platform.models;

import static org.junit.jupiter.api.Assertions.*;

import io.retina.platform.models.ModelArchive.InvalidArchiveException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelArchiveTest {
  @TempDir Path dir;

  static final String LAYERS_JSON =
      "{\"format\":\"layers-model\",\"modelTopology\":{\"model_config\":{}},"
          + "\"weightsManifest\":[{\"paths\":[\"group1-shard1of1.bin\"],\"weights\":[]}]}";

  Path zip(Map<String, String> entries) throws IOException {
    var bytes = new ByteArrayOutputStream();
    try (var z = new ZipOutputStream(bytes)) {
      for (var e : entries.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue().getBytes(StandardCharsets.UTF_8));
        z.closeEntry();
      }
    }
    Path file = Files.createTempFile(dir, "a", ".zip");
    Files.write(file, bytes.toByteArray());
    return file;
  }

  static Map<String, String> entries(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void acceptsALayersModelWithItsWeights() throws Exception {
    Path z = zip(entries("x2/model.json", LAYERS_JSON, "x2/group1-shard1of1.bin", "w"));
    ModelArchive.check(
        z, "tfjs-layers", Map.of("x2", "x2/model.json"), ModelArchive.Limits.DEFAULT);
  }

  @Test
  void refusesAModelWhoseWeightFileIsMissing() throws Exception {
    Path z = zip(entries("x2/model.json", LAYERS_JSON));
    var e =
        assertThrows(
            InvalidArchiveException.class,
            () ->
                ModelArchive.check(
                    z, "tfjs-layers", Map.of("x2", "x2/model.json"), ModelArchive.Limits.DEFAULT));
    assertTrue(e.getMessage().contains("group1-shard1of1.bin"), e.getMessage());
  }

  @Test
  void refusesAModelOfAnotherFormatThanDeclared() throws Exception {
    Path z = zip(entries("model.json", LAYERS_JSON, "group1-shard1of1.bin", "w"));
    assertThrows(
        InvalidArchiveException.class,
        () ->
            ModelArchive.check(
                z, "tfjs-graph", Map.of("model", "model.json"), ModelArchive.Limits.DEFAULT));
  }

  @Test
  void refusesAMissingEntryAndNonJson() throws Exception {
    Path z = zip(entries("model.json", "not json"));
    assertThrows(
        InvalidArchiveException.class,
        () ->
            ModelArchive.check(
                z, "tfjs-graph", Map.of("model", "other.json"), ModelArchive.Limits.DEFAULT));
    assertThrows(
        InvalidArchiveException.class,
        () ->
            ModelArchive.check(
                z, "tfjs-graph", Map.of("model", "model.json"), ModelArchive.Limits.DEFAULT));
  }

  @Test
  void acceptsASavedModelDirectory() throws Exception {
    Path z = zip(entries("sm/saved_model.pb", "pb", "sm/variables/variables.index", "i"));
    ModelArchive.check(z, "saved-model", Map.of("model", "sm"), ModelArchive.Limits.DEFAULT);
    assertThrows(
        InvalidArchiveException.class,
        () ->
            ModelArchive.check(
                z, "saved-model", Map.of("model", "x"), ModelArchive.Limits.DEFAULT));
  }

  @Test
  void refusesBodiesThatAreNotZips() throws Exception {
    Path notZip = Files.writeString(dir.resolve("n.zip"), "hello");
    assertThrows(
        InvalidArchiveException.class,
        () ->
            ModelArchive.check(
                notZip, "tfjs-graph", Map.of("model", "m.json"), ModelArchive.Limits.DEFAULT));
  }

  @Test
  void neverUnpacksOutsideTheTarget() throws Exception {
    for (String evil : new String[] {"../evil.txt", "a/../../evil.txt", "/abs.txt", "C:/x.txt"}) {
      Path z = zip(entries("ok.txt", "ok", evil, "evil"));
      Path target = dir.resolve("out-" + Math.abs(evil.hashCode()));
      assertThrows(
          InvalidArchiveException.class,
          () -> ModelArchive.unpack(z, target, ModelArchive.Limits.DEFAULT),
          evil);
      assertFalse(Files.exists(dir.resolve("evil.txt")));
      assertFalse(Files.exists(target.resolve("ok.txt")), "names are checked before writing");
    }
  }

  @Test
  void stopsAtTheEntryAndSizeLimits() throws Exception {
    Path z = zip(entries("a", "12345", "b", "67890"));
    assertThrows(
        InvalidArchiveException.class,
        () -> ModelArchive.unpack(z, dir.resolve("few"), new ModelArchive.Limits(1, 1000)));
    assertThrows(
        InvalidArchiveException.class,
        () -> ModelArchive.unpack(z, dir.resolve("small"), new ModelArchive.Limits(10, 7)));
    ModelArchive.unpack(z, dir.resolve("fits"), new ModelArchive.Limits(10, 10));
    assertEquals("67890", Files.readString(dir.resolve("fits/b")));
  }

  @Test
  void aZipThatExpandsBeyondTheSizesItDeclaresUnpacksNoMoreThanItDeclaredPlusSlack()
      throws Exception {
    // 8 MiB of zeros deflate to a few KB; the directory is then made to say 10 bytes
    var bytes = new ByteArrayOutputStream();
    try (var z = new ZipOutputStream(bytes)) {
      z.putNextEntry(new ZipEntry("bomb.bin"));
      z.write(new byte[8 * 1024 * 1024]);
      z.closeEntry();
    }
    byte[] zip = bytes.toByteArray();
    int cen = lastIndexOf(zip, new byte[] {0x50, 0x4b, 0x01, 0x02});
    ByteBuffer.wrap(zip, cen + 24, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(10);
    Path file = Files.write(dir.resolve("lying.zip"), zip);
    Path target = dir.resolve("lying");

    assertThrows(
        IOException.class, () -> ModelArchive.unpack(file, target, ModelArchive.Limits.DEFAULT));
    long written;
    try (var files = Files.walk(target)) {
      written = files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
    assertTrue(written <= 10 + ModelArchive.SLACK_BYTES, written + " bytes written");
  }

  @Test
  void aZipThatDeclaresMoreThanTheLimitIsRefusedBeforeAnythingIsWritten() throws Exception {
    Path z = zip(entries("a.bin", "0123456789"));
    Path target = dir.resolve("declared");
    assertThrows(
        InvalidArchiveException.class,
        () -> ModelArchive.check(z, "saved-model", Map.of(), new ModelArchive.Limits(10, 5)));
    assertThrows(
        InvalidArchiveException.class,
        () -> ModelArchive.unpack(z, target, new ModelArchive.Limits(10, 5)));
    try (var files = Files.walk(target)) {
      assertEquals(0, files.filter(Files::isRegularFile).count());
    }
  }

  private static int lastIndexOf(byte[] haystack, byte[] needle) {
    for (int i = haystack.length - needle.length; i >= 0; i--) {
      if (java.util.Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }
}
