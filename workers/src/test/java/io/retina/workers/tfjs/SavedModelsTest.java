package io.retina.workers.tfjs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An imported model exported as a SavedModel and loaded back is the same model. */
class SavedModelsTest {

  @TempDir Path dir;

  @Test
  void aGraphModelRoundTripsExactlyWithItsFixedBatch() throws Exception {
    Path selfie = ModelCacheFixtures.humanModels().resolve("models/selfie.json");
    assertRoundTrip(selfie);
    try (TfModel loaded = exportAndLoad(selfie)) {
      // the graph leaves the batch open; the TF.js signature's batch of 1 survives the export
      assertArrayEquals(new long[] {1, 256, 256, 3}, loaded.signature().input().shape());
      assertThrows(
          FeedRejectedException.class,
          () -> loaded.run(new FloatTensor(new long[] {2, 256, 256, 3}, new float[2 * 196608])));
    }
  }

  @Test
  void aLayersModelRoundTripsExactly() throws Exception {
    assertRoundTrip(ModelCacheFixtures.esrganSlim().resolve("models/x2/model.json"));
  }

  @Test
  void anInt32InputAndSeveralOutputsKeepTheirOrderAndTypes() throws Exception {
    assertRoundTrip(ModelCacheFixtures.humanModels().resolve("models/movenet-lightning.json"));
    assertRoundTrip(ModelCacheFixtures.humanModels().resolve("models/blazeface.json"));
  }

  @Test
  void aDirectoryWithoutSavedModelIsRefused() {
    IOException e = assertThrows(IOException.class, () -> SavedModels.load(dir));
    assertTrue(e.getMessage().contains("not a SavedModel"), e.getMessage());
  }

  @Test
  void aCorruptSavedModelIsRefusedWithoutHarm() throws Exception {
    Path saved = dir.resolve("broken");
    Files.createDirectories(saved);
    Files.write(saved.resolve("saved_model.pb"), new byte[] {1, 2, 3, 4, 5});
    assertThrows(IOException.class, () -> SavedModels.load(saved));
  }

  private TfModel exportAndLoad(Path modelJson) throws IOException {
    Path saved = dir.resolve(modelJson.getFileName() + "-" + System.nanoTime());
    try (TfModel imported = TfjsModels.load(modelJson)) {
      SavedModels.export(imported, saved);
    }
    return SavedModels.load(saved);
  }

  /** Same signature, and bit-identical outputs on a random input. */
  private void assertRoundTrip(Path modelJson) throws Exception {
    Path saved = dir.resolve(modelJson.getParent().getFileName() + "-" + modelJson.getFileName());
    try (TfModel imported = TfjsModels.load(modelJson)) {
      SavedModels.export(imported, saved);
      try (TfModel loaded = SavedModels.load(saved)) {
        assertEquals(imported.signature(), loaded.signature());
        FloatTensor input = randomInput(imported.signature().input());
        Map<String, FloatTensor> expected = imported.runAll(input);
        Map<String, FloatTensor> actual = loaded.runAll(input);
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
          assertArrayEquals(expected.get(name).shape(), actual.get(name).shape(), name);
          assertTrue(
              Arrays.equals(expected.get(name).data(), actual.get(name).data()),
              name + " differs after the round trip");
        }
      }
    }
  }

  private static FloatTensor randomInput(TensorSpec spec) {
    long[] shape = spec.shape().clone();
    int n = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shape[i] < 0 ? (i == 0 ? 1 : 64) : shape[i];
      n *= (int) shape[i];
    }
    Random random = new Random(7);
    float[] data = new float[n];
    for (int i = 0; i < n; i++) {
      data[i] = random.nextFloat() * 255f;
    }
    return new FloatTensor(shape, data);
  }
}
