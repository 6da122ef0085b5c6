package io.retina.workers.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import io.retina.workers.models.CanonicalModels;
import io.retina.workers.tasks.ImageTask;
import io.retina.workers.tasks.ImageTasks;
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

    // explain=true: on an image half stripes, half checkerboard, the heat falls on the half that
    // shows the class the answer names
    java.awt.image.BufferedImage canvas =
        new java.awt.image.BufferedImage(192, 192, java.awt.image.BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = canvas.createGraphics();
    java.util.Random random = new java.util.Random(7);
    for (int y = 0; y < 192; y += 96) {
      g.drawImage(GeneratedShapes.draw("stripes", random), 0, y, null);
      g.drawImage(GeneratedShapes.draw("checkerboard", random), 96, y, null);
    }
    g.dispose();
    try (ImageTask classify =
        ImageTasks.load(
            "classify", dir, Map.of("model", ClassifierTrainer.ARTIFACT_FILE), canonical)) {
      JsonNode answer =
          Json.MAPPER.readTree(
              classify.run(GeneratedShapes.png(canvas), Map.of("explain", "true")).body());
      JsonNode explanation = answer.get("explanation");
      assertEquals("grad-cam", explanation.get("method").asText(), answer.toString());
      String label = answer.get("label").asText();
      assertEquals(label, explanation.get("class").asText());
      assertTrue(label.equals("stripes") || label.equals("checkerboard"), answer.toString());
      java.awt.image.BufferedImage heat =
          javax.imageio.ImageIO.read(
              new java.io.ByteArrayInputStream(
                  java.util.Base64.getDecoder().decode(explanation.get("heatmap").asText())));
      assertEquals(192, heat.getWidth());
      double onItsHalf = 0;
      double all = 0;
      for (int y = 0; y < heat.getHeight(); y++) {
        for (int x = 0; x < heat.getWidth(); x++) {
          int v = heat.getRaster().getSample(x, y, 0);
          all += v;
          onItsHalf += (x < 96) == label.equals("stripes") ? v : 0;
        }
      }
      System.out.printf(
          "shapes: %.2f of the heat for %s on its half: %s%n",
          onItsHalf / all, label, heatGrid(heat));
      assertTrue(onItsHalf / all > 0.7, "heat on the half that shows " + label);
    }
  }

  private static String heatGrid(java.awt.image.BufferedImage heat) {
    StringBuilder b = new StringBuilder();
    for (int y = 14; y < heat.getHeight(); y += 27) {
      b.append('\n');
      for (int x = 14; x < heat.getWidth(); x += 27) {
        b.append(String.format("%4d", heat.getRaster().getSample(x, y, 0)));
      }
    }
    return b.toString();
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
