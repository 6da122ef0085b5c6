package io.retina.platform.training;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

class DatasetTest {
  static final Dataset.Limits LIMITS = new Dataset.Limits(10, 1 << 20, 4 << 20);

  static byte[] zip(Map<String, byte[]> entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      for (var e : entries.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return out.toByteArray();
  }

  static String refusal(Map<String, byte[]> entries, Dataset.Limits limits) throws IOException {
    byte[] z = zip(entries);
    return assertThrows(Dataset.InvalidDatasetException.class, () -> Dataset.read(z, limits))
        .getMessage();
  }

  @Test
  void labelsByFolderDroppingOneEnclosingFolderAndArchiverLitter() throws Exception {
    Map<String, byte[]> e = new LinkedHashMap<>();
    e.put("pets/cats/1.jpg", new byte[] {1});
    e.put("pets/dogs/2.PNG", new byte[] {2});
    e.put("pets/dogs/.DS_Store", new byte[] {3});
    e.put("__MACOSX/pets/cats/._1.jpg", new byte[] {4});
    List<Dataset.Item> items = Dataset.read(zip(e), LIMITS);
    assertEquals(List.of("cats", "dogs"), items.stream().map(Dataset.Item::label).toList());
    assertEquals(List.of("cats", "dogs"), Dataset.classes(items));
    assertArrayEquals(new byte[] {2}, items.get(1).bytes());
  }

  @Test
  void refusesWhatIsNotAFolderPerClassOfImages() throws Exception {
    assertTrue(refusal(Map.of("1.jpg", new byte[] {1}), LIMITS).contains("class folder"));
    assertTrue(
        refusal(Map.of("a/b/c/1.jpg", new byte[] {1}, "x/1.jpg", new byte[] {1}), LIMITS)
            .contains("class folder"));
    assertTrue(refusal(Map.of("cats/notes.txt", new byte[] {1}), LIMITS).contains("not an image"));
    assertTrue(refusal(Map.of("../cats/1.jpg", new byte[] {1}), LIMITS).contains("outside"));
    assertTrue(refusal(Map.of("c@ts!/1.jpg", new byte[] {1}), LIMITS).contains("class name"));
    assertTrue(refusal(Map.of(), LIMITS).contains("no images"));
    byte[] notZip = "hello".getBytes();
    assertThrows(Dataset.InvalidDatasetException.class, () -> Dataset.read(notZip, LIMITS));
  }

  @Test
  void stopsAtTheLimitsWhateverTheHeadersSay() throws Exception {
    Map<String, byte[]> many = new LinkedHashMap<>();
    for (int i = 0; i < 11; i++) {
      many.put("cats/" + i + ".jpg", new byte[] {1});
    }
    assertTrue(refusal(many, LIMITS).contains("more than 10 images"));
    // 8 MB of zeros deflates to a few KB: the read stops at the per-image limit
    byte[] bomb = zip(Map.of("cats/big.png", new byte[8 << 20]));
    assertTrue(bomb.length < 64 << 10);
    var e = assertThrows(Dataset.InvalidDatasetException.class, () -> Dataset.read(bomb, LIMITS));
    assertTrue(e.getMessage().contains("limit for one image"), e.getMessage());
    Map<String, byte[]> total = new LinkedHashMap<>();
    for (int i = 0; i < 5; i++) {
      total.put("cats/" + i + ".png", new byte[1 << 20]);
    }
    assertTrue(refusal(total, LIMITS).contains("more than"));
  }
}
