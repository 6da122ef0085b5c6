package io.retina.workers.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import io.retina.workers.models.CanonicalModels;
import io.retina.workers.tasks.ImageTask;
import io.retina.workers.tasks.ImageTasks;
import io.retina.workers.tasks.InvalidInputException;
import io.retina.workers.tfjs.ModelCacheFixtures;
import io.retina.workers.training.ClassifierTrainer.Checkpoint;
import io.retina.workers.training.ClassifierTrainer.EpochReport;
import io.retina.workers.training.ClassifierTrainer.Example;
import io.retina.workers.training.ClassifierTrainer.Result;
import io.retina.workers.training.ClassifierTrainer.Settings;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training a classifier on the real backbone, on shapes drawn for the test, and serving what it
 * made through the classify task.
 */
class ClassifierTrainerTest {

  private static CanonicalModels canonical;
  private static ClassifierTrainer trainer;

  @BeforeAll
  static void loadBackbone() throws IOException {
    canonical = new CanonicalModels(ModelCacheFixtures.cache());
    trainer = new ClassifierTrainer(canonical, ModelCacheFixtures.cache());
  }

  @AfterAll
  static void close() {
    trainer.close();
  }

  /** Stops a training after {@code epochs} epochs, keeping the last checkpoint. */
  private static final class StopAfter implements ClassifierTrainer.EpochListener {
    final int epochs;
    final AtomicReference<Checkpoint> last = new AtomicReference<>();

    StopAfter(int epochs) {
      this.epochs = epochs;
    }

    @Override
    public void epochDone(EpochReport report, Checkpoint checkpoint) {
      last.set(checkpoint);
      if (report.epoch() == epochs) {
        throw new IllegalStateException("stopped after epoch " + epochs);
      }
    }
  }

  @Test
  void classifiesShapesItHasNeverSeenFarAboveChance(@TempDir Path dir) throws Exception {
    List<Example> examples = GeneratedShapes.examples(12, 1);
    Settings settings = new Settings(10, 0.25, 3, true, 0.01, 42);
    List<EpochReport> told = new ArrayList<>();
    Result result = trainer.train(examples, settings, null, (r, c) -> told.add(r));

    ClassifierTrainer.Report report = result.report();
    assertEquals(GeneratedShapes.CLASSES, report.classes());
    assertEquals(27, report.trainImages());
    assertEquals(9, report.validationImages());
    assertEquals(told, report.history());
    long validated = 0;
    for (long[] row : report.confusion()) {
      for (long n : row) {
        validated += n;
      }
    }
    assertEquals(9, validated);
    told.forEach(r -> System.out.println("shapes: " + r));

    unzip(result.artifactZip(), dir);
    List<Example> unseen = GeneratedShapes.examples(10, 2);
    int right = 0;
    try (ImageTask classify =
        ImageTasks.load(
            "classify", dir, Map.of("model", ClassifierTrainer.ARTIFACT_FILE), canonical)) {
      for (Example e : unseen) {
        JsonNode answer = Json.MAPPER.readTree(classify.run(e.encodedImage(), Map.of()).body());
        right += answer.get("label").asText().equals(e.label()) ? 1 : 0;
      }
    }
    double accuracy = (double) right / unseen.size();
    System.out.printf(
        "shapes: best epoch %d of %d, validation accuracy %.2f, unseen accuracy %.2f (%d/%d)%n",
        report.bestEpoch(),
        report.history().size(),
        report.validationAccuracy(),
        accuracy,
        right,
        unseen.size());
    assertTrue(accuracy >= 0.8, "accuracy on unseen shapes " + accuracy + " (chance is 0.33)");
  }

  @Test
  void aResumedTrainingEndsExactlyWhereAnUninterruptedOneDoes() throws Exception {
    List<Example> examples = GeneratedShapes.examples(4, 3);
    Settings settings = new Settings(4, 0.25, 10, true, 0.01, 7);
    Result whole = trainer.train(examples, settings, null, (r, c) -> {});

    StopAfter stop = new StopAfter(2);
    assertThrows(IllegalStateException.class, () -> trainer.train(examples, settings, null, stop));
    Checkpoint checkpoint = stop.last.get();
    assertEquals(2, checkpoint.epoch());
    Result resumed = trainer.train(examples, settings, checkpoint, (r, c) -> {});

    assertEquals(withoutTimes(whole.report().history()), withoutTimes(resumed.report().history()));
    assertEquals(whole.report().bestEpoch(), resumed.report().bestEpoch());
    assertArrayEquals(whole.report().confusion(), resumed.report().confusion());
    assertArrayEquals(whole.artifactZip(), resumed.artifactZip());
  }

  /**
   * Under the test above: a head restored from another's state takes the very step the other takes,
   * and a head given only the other's weights (Adam's moments and counters left at zero) does not,
   * so the state a checkpoint keeps is what makes a resume exact.
   */
  @Test
  void aRestoredHeadTakesTheStepTheHeadItWasSavedFromTakes() {
    float[][] features = {new float[Backbone.DIMENSION], new float[Backbone.DIMENSION]};
    features[0][0] = 1;
    features[1][1] = 1;
    int[] labels = {0, 1};
    float[] weights = {1, 1};
    try (HeadGraph saved = new HeadGraph(Backbone.DIMENSION, 2, 0.01f);
        HeadGraph restored = new HeadGraph(Backbone.DIMENSION, 2, 0.01f);
        HeadGraph weightsOnly = new HeadGraph(Backbone.DIMENSION, 2, 0.01f)) {
      saved.step(features, labels, weights);
      saved.step(features, labels, weights);
      Map<String, float[]> state = saved.state();
      restored.restore(state);
      Map<String, float[]> fresh = weightsOnly.state();
      fresh.put("weights", state.get("weights"));
      fresh.put("bias", state.get("bias"));
      weightsOnly.restore(fresh);

      saved.step(features, labels, weights);
      restored.step(features, labels, weights);
      weightsOnly.step(features, labels, weights);

      assertArrayEquals(saved.state().get("weights"), restored.state().get("weights"));
      assertArrayEquals(saved.state().get("bias"), restored.state().get("bias"));
      assertFalse(
          Arrays.equals(saved.state().get("weights"), weightsOnly.state().get("weights")),
          "a head without Adam's state took the same step");
    }
  }

  @Test
  void refusesACheckpointOfOtherExamples() throws Exception {
    List<Example> examples = GeneratedShapes.examples(2, 5);
    Settings settings = new Settings(1, 0.5, 1, false, 0.01, 1);
    StopAfter stop = new StopAfter(99);
    trainer.train(examples, settings, null, stop);
    List<Example> others = GeneratedShapes.examples(2, 6);
    assertThrows(
        IllegalArgumentException.class,
        () -> trainer.train(others, settings, stop.last.get(), (r, c) -> {}));
  }

  @Test
  void refusesASingleClass() {
    List<Example> examples =
        GeneratedShapes.examples(3, 1).stream().filter(e -> e.label().equals("circles")).toList();
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> trainer.train(examples, Settings.defaults(), null, (r, c) -> {}));
    assertTrue(e.getMessage().contains("at least two classes"), e.getMessage());
  }

  @Test
  void refusesAClassWithOneImage() {
    List<Example> examples = new ArrayList<>(GeneratedShapes.examples(3, 1));
    examples.removeIf(e -> e.label().equals("stripes"));
    examples.add(GeneratedShapes.examples(1, 9).get(2)); // one stripes image
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> trainer.train(examples, Settings.defaults(), null, (r, c) -> {}));
    assertTrue(e.getMessage().contains("'stripes' has 1 image"), e.getMessage());
  }

  @Test
  void refusesAnImageThatIsNotOne() {
    List<Example> examples = new ArrayList<>(GeneratedShapes.examples(3, 1));
    examples.set(4, new Example("not an image at all".getBytes(), examples.get(4).label()));
    InvalidInputException e =
        assertThrows(
            InvalidInputException.class,
            () -> trainer.train(examples, Settings.defaults(), null, (r, c) -> {}));
    assertTrue(e.getMessage().startsWith("image 5 of 9 (class 'circles')"), e.getMessage());
  }

  private static List<String> withoutTimes(List<EpochReport> history) {
    return history.stream()
        .map(
            r ->
                r.epoch()
                    + " "
                    + r.trainLoss()
                    + " "
                    + r.validationLoss()
                    + " "
                    + r.validationAccuracy())
        .toList();
  }

  private static void unzip(byte[] zip, Path dir) throws IOException {
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      ZipEntry entry = in.getNextEntry();
      assertNotNull(entry);
      assertEquals(ClassifierTrainer.ARTIFACT_FILE, entry.getName());
      Files.write(dir.resolve(entry.getName()), in.readAllBytes());
    }
  }
}
