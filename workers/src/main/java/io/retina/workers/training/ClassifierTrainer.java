package io.retina.workers.training;

import io.retina.workers.models.CanonicalModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Trains a tenant's image classifier by transfer learning: a frozen ImageNet-pretrained backbone
 * from the catalog's packages turns each image into an embedding, and a softmax head is trained on
 * them with TensorFlow's own optimizer and loss. Deterministic for a seed: the same examples and
 * settings give the same split, the same augmentations and, resumed from a checkpoint, the same
 * epochs as an uninterrupted run. Not thread-safe; one training per instance at a time.
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

  /** Loads the backbone through the node's model cache. */
  public ClassifierTrainer(CanonicalModels canonical, Path modelCache) throws IOException {
    throw new UnsupportedOperationException("not yet");
  }

  /**
   * Trains, or resumes after {@code resume} (null to start). Fails with {@link
   * io.retina.workers.tasks.InvalidInputException} when the examples can't make a classifier (fewer
   * than two classes, a class with fewer than two images, an undecodable image).
   */
  public Result train(
      List<Example> examples, Settings settings, Checkpoint resume, EpochListener listener)
      throws io.retina.workers.tasks.InvalidInputException {
    throw new UnsupportedOperationException("not yet");
  }

  @Override
  public void close() {}
}
