package io.retina.workers.training;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.imaging.UnreadableImageException;
import io.retina.workers.models.CanonicalModels;
import io.retina.workers.models.ModelFiles;
import io.retina.workers.tasks.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Trains a tenant's image classifier by transfer learning: a frozen ImageNet-pretrained backbone
 * from the catalog's packages turns each image into an embedding, and a softmax head is trained on
 * them with TensorFlow's own optimizer and loss. Deterministic for a seed: the same examples and
 * settings give the same split, the same augmentations and, resumed from a checkpoint, the same
 * epochs as an uninterrupted run. Not thread-safe; one training per instance at a time.
 *
 * <p>The backbone is {@link Backbone}; the head, Adam ({@link OrderedAdam}) on a softmax
 * cross-entropy weighted by inverse class frequency, is a {@link HeadGraph}. Training images are
 * augmented ({@link Augmentation}) and embedded anew every epoch, validation images once; images
 * are decoded one at a time as they are embedded, so memory holds the encoded examples and their
 * embeddings, not the decoded images. Each embedding observes the calling thread's {@link
 * io.retina.workers.budget.WorkBudget}, so a cancel or deadline stops a training within one.
 * Training stops after {@code patience} epochs without a lower validation loss and keeps the best
 * epoch's head. A checkpoint after every epoch holds what {@link TrainingState} lists, Adam's
 * moments included; the artifact's layout is {@link ClassifierHead}'s.
 */
public final class ClassifierTrainer implements AutoCloseable {

  /** One labelled image as uploaded: encoded bytes (PNG, JPEG or WebP) and its class. */
  public record Example(byte[] encodedImage, String label) {}

  /**
   * How to train. {@code validationFraction} of each class (at least one image) is held out;
   * training stops after {@code patience} epochs without a better validation loss, or at {@code
   * maxEpochs}.
   */
  public record Settings(
      int maxEpochs,
      double validationFraction,
      int patience,
      boolean augment,
      double learningRate,
      long seed) {
    public static Settings defaults() {
      return new Settings(20, 0.2, 3, true, 0.01, 42);
    }
  }

  /** What one epoch came to. */
  public record EpochReport(
      int epoch, double trainLoss, double validationLoss, double validationAccuracy, long millis) {}

  /** Everything needed to resume after {@code epoch}; {@code state} is opaque. */
  public record Checkpoint(int epoch, byte[] state) {}

  /**
   * Told after every epoch, on the training thread, before the next starts. Throwing (for example
   * {@link io.retina.workers.budget.WorkStoppedException} on cancel) stops the training.
   */
  @FunctionalInterface
  public interface EpochListener {
    void epochDone(EpochReport report, Checkpoint checkpoint);
  }

  /**
   * The final report: classes in the head's output order, the split, every epoch, the epoch whose
   * weights were kept, that epoch's validation accuracy, and the confusion matrix on the validation
   * images ({@code confusion[actual][predicted]}).
   */
  public record Report(
      List<String> classes,
      int trainImages,
      int validationImages,
      List<EpochReport> history,
      int bestEpoch,
      double validationAccuracy,
      long[][] confusion,
      boolean stoppedEarly) {}

  /**
   * A trained classifier: the report and the artifact to register as a version of task {@code
   * classify}: a zip holding {@link #ARTIFACT_FILE}.
   */
  public record Result(Report report, byte[] artifactZip) {}

  /** The file inside the artifact zip that names the backbone and holds the head. */
  public static final String ARTIFACT_FILE = "classifier.json";

  /**
   * Images per optimizer step. Small enough that a few dozen images still make several steps an
   * epoch; the head is tiny, so the size costs nothing in speed, and the embeddings set the pace.
   */
  static final int BATCH_SIZE = 16;

  /** The longest training Retina runs: far past where a single softmax layer has converged. */
  static final int MOST_EPOCHS = 1000;

  private final Backbone backbone;

  /** Loads the backbone through the node's model cache. */
  public ClassifierTrainer(CanonicalModels canonical, Path modelCache) throws IOException {
    this.backbone = Backbone.load(canonical, modelCache);
  }

  /**
   * Trains, or resumes after {@code resume} (null to start). Fails with {@link
   * io.retina.workers.tasks.InvalidInputException} when the examples can't make a classifier (fewer
   * than two classes, a class with fewer than two images, an undecodable image) or the settings are
   * out of range; an undecodable image is found when it is first embedded, before the first epoch
   * ends. Fails with IllegalArgumentException if {@code resume} was made from other examples or
   * settings. Whatever the listener throws stops the training and is thrown here.
   */
  /**
   * How many of {@code examples} train (the rest validate) under {@code settings}: what each epoch
   * is billed for. Fails as {@link #train} does on examples that can't make a classifier.
   */
  public static int trainingImages(List<Example> examples, Settings settings)
      throws io.retina.workers.tasks.InvalidInputException {
    return Split.of(examples, settings.validationFraction(), settings.seed()).train().length;
  }

  public Result train(
      List<Example> examples, Settings settings, Checkpoint resume, EpochListener listener)
      throws io.retina.workers.tasks.InvalidInputException {
    check(settings);
    Split split = Split.of(examples, settings.validationFraction(), settings.seed());
    byte[] fingerprint = fingerprint(examples, settings);
    TrainingState state =
        resume == null
            ? new TrainingState(fingerprint)
            : TrainingState.fromBytes(resume.state(), fingerprint);
    int[] trainClasses = split.classesOf(split.train());
    int[] validationClasses = split.classesOf(split.validation());
    try (HeadGraph head =
        new HeadGraph(
            Backbone.DIMENSION, split.classes().size(), (float) settings.learningRate())) {
      if (resume != null) {
        head.restore(state.variables);
      }
      float[][] validation = embed(examples, split.validation(), settings.seed(), 0, false);
      float[][] unchanged = null; // the training images' embeddings, when not augmented
      while (state.epoch < settings.maxEpochs() && state.epochsSinceBest < settings.patience()) {
        long start = System.nanoTime();
        int epoch = state.epoch + 1;
        float[][] train =
            unchanged != null
                ? unchanged
                : embed(examples, split.train(), settings.seed(), epoch, settings.augment());
        unchanged = settings.augment() ? null : train;
        double trainLoss = runEpoch(head, train, trainClasses, split, settings.seed(), epoch);
        HeadGraph.Evaluation v = head.evaluate(validation, validationClasses, split.classWeights());
        long[][] confusion =
            confusion(v.probabilities(), validationClasses, split.classes().size());
        EpochReport report =
            new EpochReport(
                epoch,
                trainLoss,
                v.loss(),
                accuracy(confusion),
                (System.nanoTime() - start) / 1_000_000);
        record(state, head, split, report, confusion);
        listener.epochDone(report, new Checkpoint(epoch, state.toBytes()));
      }
      return result(state, split, settings);
    }
  }

  /** Where an epoch leaves the state: its report, the best head so far, the graph's variables. */
  private static void record(
      TrainingState state, HeadGraph head, Split split, EpochReport report, long[][] confusion) {
    state.epoch = report.epoch();
    state.history.add(report);
    if (report.validationLoss() < state.bestLoss) { // a NaN loss is never better
      state.bestLoss = report.validationLoss();
      state.bestEpoch = report.epoch();
      state.bestAccuracy = report.validationAccuracy();
      state.bestHead = head.head(split.classes());
      state.bestConfusion = confusion;
      state.epochsSinceBest = 0;
    } else {
      state.epochsSinceBest++;
    }
    state.variables = head.state();
  }

  /** One pass over the training embeddings in the epoch's order; returns their mean loss. */
  private static double runEpoch(
      HeadGraph head, float[][] train, int[] classes, Split split, long seed, int epoch) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < train.length; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(seed * 31 + epoch));
    double lossSum = 0;
    for (int from = 0; from < order.size(); from += BATCH_SIZE) {
      List<Integer> batch = order.subList(from, Math.min(order.size(), from + BATCH_SIZE));
      float[][] features = new float[batch.size()][];
      int[] labels = new int[batch.size()];
      for (int i = 0; i < batch.size(); i++) {
        features[i] = train[batch.get(i)];
        labels[i] = classes[batch.get(i)];
      }
      lossSum += head.step(features, labels, split.classWeights()) * batch.size();
    }
    return lossSum / train.length;
  }

  /**
   * The embeddings of the examples at {@code indices}, each decoded when it is embedded and then
   * dropped, so that only one decoded image is held at a time. Augmented ones are changed as a
   * stream seeded by (seed, epoch, example index) decides, the same in every run.
   */
  private float[][] embed(
      List<Example> examples, int[] indices, long seed, int epoch, boolean augment)
      throws InvalidInputException {
    float[][] out = new float[indices.length][];
    for (int i = 0; i < indices.length; i++) {
      int index = indices[i];
      RgbaImage image = decode(examples, index);
      if (augment) {
        SplittableRandom random = new SplittableRandom((seed * 31 + epoch) * 1_000_003L + index);
        Augmentation.Rgb changed = Augmentation.apply(image, random);
        out[i] = backbone.embed(changed.pixels(), changed.width(), changed.height());
      } else {
        out[i] = backbone.embed(image);
      }
    }
    return out;
  }

  private static RgbaImage decode(List<Example> examples, int index) throws InvalidInputException {
    Example e = examples.get(index);
    try {
      return ImageDecoder.decode(e.encodedImage());
    } catch (UnreadableImageException x) {
      throw new InvalidInputException(
          String.format(
              "image %d of %d (class '%s') can't be decoded: %s",
              index + 1, examples.size(), e.label(), x.getMessage()));
    }
  }

  /** {@code confusion[actual][predicted]} counts of the most probable class. */
  private static long[][] confusion(float[] probabilities, int[] actual, int classes) {
    long[][] confusion = new long[classes][classes];
    for (int i = 0; i < actual.length; i++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        best = probabilities[i * classes + c] > probabilities[i * classes + best] ? c : best;
      }
      confusion[actual[i]][best]++;
    }
    return confusion;
  }

  private static double accuracy(long[][] confusion) {
    long right = 0;
    long all = 0;
    for (int a = 0; a < confusion.length; a++) {
      for (int p = 0; p < confusion.length; p++) {
        all += confusion[a][p];
        right += a == p ? confusion[a][p] : 0;
      }
    }
    return all == 0 ? 0 : (double) right / all;
  }

  private static Result result(TrainingState state, Split split, Settings settings) {
    if (state.bestHead == null) {
      throw new IllegalStateException("no epoch gave a finite validation loss: training diverged");
    }
    Report report =
        new Report(
            split.classes(),
            split.train().length,
            split.validation().length,
            List.copyOf(state.history),
            state.bestEpoch,
            state.bestAccuracy,
            state.bestConfusion,
            state.epoch < settings.maxEpochs());
    return new Result(report, zip(state.bestHead.toJson()));
  }

  /** The artifact: a zip of {@link #ARTIFACT_FILE}, with a fixed time so its digest is too. */
  private static byte[] zip(byte[] classifierJson) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      ZipEntry entry = new ZipEntry(ARTIFACT_FILE);
      entry.setTime(ARTIFACT_TIME);
      zip.putNextEntry(entry);
      zip.write(classifierJson);
      zip.closeEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return bytes.toByteArray();
  }

  /** 2020-01-01T00:00:00Z: any fixed time, inside the range zip's DOS dates can hold. */
  private static final long ARTIFACT_TIME = 1_577_836_800_000L;

  private static void check(Settings s) throws InvalidInputException {
    if (s.maxEpochs() < 1 || s.maxEpochs() > MOST_EPOCHS) {
      throw new InvalidInputException("epochs must be from 1 to " + MOST_EPOCHS);
    }
    if (!(s.validationFraction() > 0 && s.validationFraction() < 1)) {
      throw new InvalidInputException("the validation fraction must be between 0 and 1");
    }
    if (s.patience() < 1) {
      throw new InvalidInputException("patience must be at least one epoch");
    }
    if (!(s.learningRate() > 0 && s.learningRate() <= 1)) {
      throw new InvalidInputException("the learning rate must be above 0 and at most 1");
    }
  }

  /** The digest of the examples (labels and bytes, in order) and the settings. */
  private static byte[] fingerprint(List<Example> examples, Settings settings) {
    MessageDigest sha256 = ModelFiles.sha256();
    sha256.update(settings.toString().getBytes(StandardCharsets.UTF_8));
    for (Example e : examples) {
      byte[] label = e.label().getBytes(StandardCharsets.UTF_8);
      sha256.update(
          ByteBuffer.allocate(8).putInt(label.length).putInt(e.encodedImage().length).array());
      sha256.update(label);
      sha256.update(e.encodedImage());
    }
    return sha256.digest();
  }

  @Override
  public void close() {
    backbone.close();
  }
}
