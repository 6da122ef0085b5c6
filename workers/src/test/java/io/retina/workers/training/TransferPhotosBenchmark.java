package io.retina.workers.training;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.store.Json;
import io.retina.workers.models.CanonicalModels;
import io.retina.workers.tasks.ImageTask;
import io.retina.workers.tasks.ImageTasks;
import io.retina.workers.tfjs.ModelCacheFixtures;
import io.retina.workers.training.ClassifierTrainer.EpochReport;
import io.retina.workers.training.ClassifierTrainer.Example;
import io.retina.workers.training.ClassifierTrainer.Result;
import io.retina.workers.training.ClassifierTrainer.Settings;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How well a tenant's classifier learns real photographs: {@link ClassifierTrainer} with its
 * default settings on the three classes of {@code training/photos.json} (birds, flowers and fruit,
 * from Debian's tuxpaint-stamps-default; its header says what each class holds), judged by {@value
 * #FOLDS}-fold cross-validation: each photo is classified once, through the classify task, by a
 * classifier trained without it. Prints the held-out accuracy, the confusion, the epochs run and
 * the seconds per epoch; docs/training.md ("Quality, measured") has the figures. Named a benchmark,
 * so the suite leaves it out; run it with {@code ./mvnw -o -q -pl workers -am test
 * -Dtest=TransferPhotosBenchmark -Dsurefire.failIfNoSpecifiedTests=false}, which runs it with
 * oneDNN off and then on (about 10 minutes on 2 cores).
 */
class TransferPhotosBenchmark {

  /** Four folds: each training sees three quarters of every class, and every photo is judged. */
  private static final int FOLDS = 4;

  private static final long SEED = 42;

  private record Photo(String label, String file, byte[] png) {}

  @Test
  void measuresHeldOutAccuracyOnRealPhotos(@TempDir Path dir) throws Exception {
    List<Photo> photos = load();
    List<String> classes = photos.stream().map(Photo::label).distinct().sorted().toList();
    int[] foldOf = folds(photos);
    CanonicalModels canonical = new CanonicalModels(ModelCacheFixtures.cache());
    long[][] confusion = new long[classes.size()][classes.size()];
    List<String> wrong = new ArrayList<>();
    List<Integer> epochsRun = new ArrayList<>();
    long epochMillis = 0;
    int epochs = 0;
    try (ClassifierTrainer trainer = new ClassifierTrainer(canonical, ModelCacheFixtures.cache())) {
      for (int fold = 0; fold < FOLDS; fold++) {
        List<Example> train = new ArrayList<>();
        List<Photo> heldOut = new ArrayList<>();
        for (int i = 0; i < photos.size(); i++) {
          Photo p = photos.get(i);
          if (foldOf[i] == fold) {
            heldOut.add(p);
          } else {
            train.add(new Example(p.png(), p.label()));
          }
        }
        List<EpochReport> told = new ArrayList<>();
        Result result = trainer.train(train, Settings.defaults(), null, (r, c) -> told.add(r));
        epochsRun.add(told.size());
        epochs += told.size();
        epochMillis += told.stream().mapToLong(EpochReport::millis).sum();
        Path artifact = Files.createDirectories(dir.resolve("fold" + fold));
        unzip(result.artifactZip(), artifact);
        try (ImageTask classify =
            ImageTasks.load(
                "classify",
                artifact,
                Map.of("model", ClassifierTrainer.ARTIFACT_FILE),
                canonical)) {
          for (Photo p : heldOut) {
            JsonNode answer = Json.MAPPER.readTree(classify.run(p.png(), Map.of()).body());
            String said = answer.get("label").asText();
            confusion[classes.indexOf(p.label())][classes.indexOf(said)]++;
            if (!said.equals(p.label())) {
              wrong.add(p.label() + "/" + p.file() + " as " + said);
            }
          }
        }
      }
    }
    long right = 0;
    for (int c = 0; c < classes.size(); c++) {
      right += confusion[c][c];
    }
    System.out.printf(
        "transfer on photos (oneDNN %s): %d of %d held-out photos right (%.3f); classes %s,"
            + " confusion[actual][predicted] %s; epochs run per fold %s, %.2f s per epoch;"
            + " wrong: %s%n",
        System.getenv().getOrDefault("TF_ENABLE_ONEDNN_OPTS", "default"),
        right,
        photos.size(),
        (double) right / photos.size(),
        classes,
        Arrays.deepToString(confusion),
        epochsRun,
        epochMillis / 1000.0 / epochs,
        wrong);
  }

  /** The photos of {@code training/photos.json}, each laid on white and encoded as PNG. */
  private static List<Photo> load() throws IOException {
    JsonNode root;
    try (InputStream in =
        TransferPhotosBenchmark.class.getResourceAsStream("/training/photos.json")) {
      root = Json.MAPPER.readTree(in);
    }
    List<Photo> photos = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.get("classes").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> c = it.next();
      Path folder = Path.of(c.getValue().get("folder").asText());
      for (JsonNode f : c.getValue().get("files")) {
        Path file = folder.resolve(f.asText());
        if (!Files.isRegularFile(file)) {
          throw new IllegalStateException(
              file + " is missing: apt-get install " + root.get("package").asText());
        }
        photos.add(new Photo(c.getKey(), f.asText(), onWhite(ImageIO.read(file.toFile()))));
      }
    }
    return photos;
  }

  /**
   * The photo over white, as PNG: what lies under a cut-out's transparent pixels differs by class
   * in this package, and would otherwise be learnt instead of the subject.
   */
  private static byte[] onWhite(BufferedImage cutOut) {
    BufferedImage canvas =
        new BufferedImage(cutOut.getWidth(), cutOut.getHeight(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = canvas.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, canvas.getWidth(), canvas.getHeight());
    g.drawImage(cutOut, 0, 0, null);
    g.dispose();
    return GeneratedShapes.png(canvas);
  }

  /** Each photo's fold: every class shuffled by the seed and dealt out to the folds in turn. */
  private static int[] folds(List<Photo> photos) {
    int[] foldOf = new int[photos.size()];
    Random random = new Random(SEED);
    for (String label : photos.stream().map(Photo::label).distinct().sorted().toList()) {
      List<Integer> members = new ArrayList<>();
      for (int i = 0; i < photos.size(); i++) {
        if (photos.get(i).label().equals(label)) {
          members.add(i);
        }
      }
      Collections.shuffle(members, random);
      for (int k = 0; k < members.size(); k++) {
        foldOf[members.get(k)] = k % FOLDS;
      }
    }
    return foldOf;
  }

  private static void unzip(byte[] zip, Path dir) throws IOException {
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      Files.write(dir.resolve(in.getNextEntry().getName()), in.readAllBytes());
    }
  }
}
