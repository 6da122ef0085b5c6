package io.retina.workers.training;

import io.retina.workers.budget.WorkBudget;
import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.imaging.UnreadableImageException;
import io.retina.workers.models.ModelFiles;
import io.retina.workers.tasks.InvalidInputException;
import io.retina.workers.training.NoisyPatches.Patch;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Trains a tenant's denoiser: a small convolutional autoencoder ({@link ConvAutoencoder}) learns to
 * take Gaussian noise out of patches of the tenant's own images, with TensorFlow's own gradients
 * and Adam ({@link OrderedAdam}) on the mean squared error. Deterministic for a seed: the same
 * examples and settings give the same split, the same patches and noise and, resumed from a
 * checkpoint, the same epochs as an uninterrupted run. Thread-safe: each training builds its own
 * graph, and an instance holds nothing.
 *
 * <p>Some images are held out; from each, fixed patches with fixed noise measure every epoch, as
 * the peak signal-to-noise ratio of the denoised patches against the clean ones. An epoch draws
 * {@link #PATCHES_PER_IMAGE} new patches from every training image, with new noise; images are
 * decoded a few at a time as their patches are drawn, so memory holds the encoded examples, the
 * validation patches and one group's patches, not the decoded images. Decoding observes the calling
 * thread's {@link WorkBudget}, and so does every optimizer step, so a cancel or deadline stops a
 * training within one step. Training stops after {@code patience} epochs without a lower validation
 * loss and keeps the best epoch's network; the artifact's layout is {@link DenoiserWeights}'s.
 */
public final class DenoiserTrainer {

  /**
   * One image as uploaded: encoded bytes (PNG, JPEG or WebP). A denoiser needs no labels, so this
   * is its own record rather than the classifier's example with a label left empty.
   */
  public record Example(byte[] encodedImage) {}

  /**
   * How to train. {@code validationFraction} of the images (at least one, never all) is held out;
   * training stops after {@code patience} epochs without a better validation loss, or at {@code
   * maxEpochs}. {@code noiseSigma} is the standard deviation of the noise the denoiser learns to
   * remove, as a fraction of full scale (25/255 is a visibly grainy photo).
   */
  public record Settings(
      int maxEpochs,
      double validationFraction,
      int patience,
      double noiseSigma,
      double learningRate,
      long seed) {
    public static Settings defaults() {
      return new Settings(30, 0.2, 4, 25.0 / 255, 0.002, 42);
    }
  }

  /**
   * What one epoch came to: the mean training loss, the validation loss, and the PSNR in dB of the
   * denoised validation patches (clipped and rounded to 8 bits, as served) against the clean ones.
   */
  public record EpochReport(
      int epoch, double trainLoss, double validationLoss, double validationPsnr, long millis) {}

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
   * The final report: the split, every epoch, the epoch whose network was kept, and on the held-out
   * images the PSNR in dB of the noisy patches, of the kept network's denoised ones, and the gain
   * between them.
   */
  public record Report(
      int trainImages,
      int validationImages,
      List<EpochReport> history,
      int bestEpoch,
      double noisyPsnr,
      double denoisedPsnr,
      double gainDb,
      boolean stoppedEarly) {}

  /**
   * A trained denoiser: the report and the artifact to register as a version of task {@code
   * denoise-trained}: a zip holding {@link #ARTIFACT_FILE}.
   */
  public record Result(Report report, byte[] artifactZip) {}

  /** The file inside the artifact zip that holds the network. */
  public static final String ARTIFACT_FILE = "denoiser.json";

  /**
   * Patches per optimizer step: enough to average the noise's gradient, small enough to be fast.
   */
  static final int BATCH_SIZE = 16;

  /**
   * New patches from each training image per epoch: with four images, eight steps an epoch, so that
   * an epoch is a few seconds on two cores and the validation loss is read often enough to stop
   * early.
   */
  static final int PATCHES_PER_IMAGE = 32;

  /** Images decoded together, whose patches are shuffled together into batches. */
  static final int GROUP = 8;

  /** Fixed patches measured from each held-out image. */
  static final int VALIDATION_PATCHES = 8;

  /** The longest training Retina runs. */
  static final int MOST_EPOCHS = 1000;

  /** Holds nothing; every training builds its own graph. */
  public DenoiserTrainer() {}

  /**
   * How many of {@code examples} train (the rest validate) under {@code settings}: what each epoch
   * is billed for. Fails as {@link #train} does on examples or settings that can't make a denoiser.
   */
  public static int trainingImages(List<Example> examples, Settings settings)
      throws InvalidInputException {
    check(examples, settings);
    return HeldOut.of(examples.size(), settings).train().length;
  }

  /**
   * Trains, or resumes after {@code resume} (null to start). Fails with {@link
   * InvalidInputException} when the examples can't make a denoiser (fewer than two images, an image
   * that can't be decoded or is smaller than a patch) or the settings are out of range; a training
   * image is checked when its patches are first drawn, before the first epoch ends. Fails with
   * IllegalArgumentException if {@code resume} was made from other examples or settings. Whatever
   * the listener throws stops the training and is thrown here.
   */
  public Result train(
      List<Example> examples, Settings settings, Checkpoint resume, EpochListener listener)
      throws InvalidInputException {
    check(examples, settings);
    HeldOut split = HeldOut.of(examples.size(), settings);
    byte[] fingerprint = fingerprint(examples, settings);
    DenoiserState state =
        resume == null
            ? new DenoiserState(fingerprint)
            : DenoiserState.fromBytes(resume.state(), fingerprint);
    List<Patch> validation = validationPatches(examples, split.validation(), settings);
    double noisyPsnr = noisyPsnr(validation);
    try (DenoiserGraph graph =
        new DenoiserGraph(
            DenoiserWeights.untrained(settings.seed(), settings.noiseSigma()).parameters(),
            (float) settings.learningRate())) {
      if (resume != null) {
        graph.restore(state.variables);
      }
      while (state.epoch < settings.maxEpochs() && state.epochsSinceBest < settings.patience()) {
        long start = System.nanoTime();
        int epoch = state.epoch + 1;
        double trainLoss = runEpoch(graph, examples, split.train(), settings, epoch);
        Measure m = measure(graph, validation);
        EpochReport report =
            new EpochReport(
                epoch, trainLoss, m.loss(), m.psnr(), (System.nanoTime() - start) / 1_000_000);
        record(state, graph, report);
        listener.epochDone(report, new Checkpoint(epoch, state.toBytes()));
      }
    }
    return result(state, split, settings, noisyPsnr);
  }

  /** Where an epoch leaves the state: its report, the best network so far, every variable. */
  private static void record(DenoiserState state, DenoiserGraph graph, EpochReport report) {
    state.epoch = report.epoch();
    state.history.add(report);
    if (report.validationLoss() < state.bestLoss) { // a NaN loss is never better
      state.bestLoss = report.validationLoss();
      state.bestEpoch = report.epoch();
      state.bestPsnr = report.validationPsnr();
      state.bestParameters = graph.parameters();
      state.epochsSinceBest = 0;
    } else {
      state.epochsSinceBest++;
    }
    state.variables = graph.state();
  }

  /**
   * One epoch: the training images in the epoch's order, a group at a time, each giving new noisy
   * patches from a stream seeded by (seed, epoch, image), shuffled within the group into batches.
   * Returns the mean loss over the epoch's patches.
   */
  private static double runEpoch(
      DenoiserGraph graph, List<Example> examples, int[] train, Settings settings, int epoch)
      throws InvalidInputException {
    List<Integer> order = new ArrayList<>();
    for (int i : train) {
      order.add(i);
    }
    Random shuffle = new Random(settings.seed() * 31 + epoch);
    Collections.shuffle(order, shuffle);
    double lossSum = 0;
    int patches = 0;
    for (int from = 0; from < order.size(); from += GROUP) {
      List<Patch> group = new ArrayList<>();
      for (int index : order.subList(from, Math.min(order.size(), from + GROUP))) {
        SplittableRandom random =
            new SplittableRandom((settings.seed() * 31 + epoch) * 1_000_003L + index);
        group.addAll(
            NoisyPatches.draw(
                decode(examples, index), PATCHES_PER_IMAGE, settings.noiseSigma(), random));
      }
      Collections.shuffle(group, shuffle);
      for (int b = 0; b < group.size(); b += BATCH_SIZE) {
        List<Patch> batch = group.subList(b, Math.min(group.size(), b + BATCH_SIZE));
        double loss =
            graph.step(
                NoisyPatches.flat(batch, true),
                NoisyPatches.flat(batch, false),
                batch.size(),
                NoisyPatches.SIDE);
        lossSum += loss * batch.size();
        patches += batch.size();
        WorkBudget.current().check();
      }
    }
    return lossSum / patches;
  }

  /**
   * Fixed patches of the held-out images: {@link #VALIDATION_PATCHES} from each, placed and noised
   * by a stream seeded by (seed, image) alone, so every epoch and every resumed run sees the same.
   */
  private static List<Patch> validationPatches(
      List<Example> examples, int[] indices, Settings settings) throws InvalidInputException {
    List<Patch> out = new ArrayList<>();
    for (int index : indices) {
      SplittableRandom random = new SplittableRandom(settings.seed() * 1_000_003L - index - 1);
      out.addAll(
          NoisyPatches.draw(
              decode(examples, index), VALIDATION_PATCHES, settings.noiseSigma(), random));
    }
    return out;
  }

  /** A network's mean squared error on the validation patches, and the PSNR as served. */
  private record Measure(double loss, double psnr) {}

  private static Measure measure(DenoiserGraph graph, List<Patch> validation) {
    double squared = 0;
    double servedSquared = 0;
    for (int b = 0; b < validation.size(); b += BATCH_SIZE) {
      List<Patch> batch = validation.subList(b, Math.min(validation.size(), b + BATCH_SIZE));
      float[] clean = NoisyPatches.flat(batch, false);
      float[] out = graph.denoise(NoisyPatches.flat(batch, true), batch.size(), NoisyPatches.SIDE);
      for (int i = 0; i < out.length; i++) {
        double d = out[i] - clean[i];
        squared += d * d;
        double served = Math.min(255, Math.max(0, Math.round(out[i] * 255.0))) / 255.0;
        servedSquared += (served - clean[i]) * (served - clean[i]);
      }
    }
    double values = (double) validation.size() * NoisyPatches.VALUES;
    return new Measure(squared / values, psnr(servedSquared / values));
  }

  private static double noisyPsnr(List<Patch> validation) {
    double squared = 0;
    for (Patch p : validation) {
      for (int i = 0; i < NoisyPatches.VALUES; i++) {
        double d = p.noisy()[i] - p.clean()[i];
        squared += d * d;
      }
    }
    return psnr(squared / ((double) validation.size() * NoisyPatches.VALUES));
  }

  /** The PSNR in dB of a mean squared error of values in [0, 1]. */
  private static double psnr(double meanSquaredError) {
    return 10 * Math.log10(1 / meanSquaredError);
  }

  private static RgbaImage decode(List<Example> examples, int index) throws InvalidInputException {
    RgbaImage image;
    try {
      image = ImageDecoder.decode(examples.get(index).encodedImage());
    } catch (UnreadableImageException x) {
      throw new InvalidInputException(
          String.format(
              "image %d of %d can't be decoded: %s", index + 1, examples.size(), x.getMessage()));
    }
    if (image.width() < NoisyPatches.SIDE || image.height() < NoisyPatches.SIDE) {
      throw new InvalidInputException(
          String.format(
              "image %d of %d is %dx%d; a denoiser trains on %dx%d patches, so each image needs"
                  + " at least that many pixels each way",
              index + 1,
              examples.size(),
              image.width(),
              image.height(),
              NoisyPatches.SIDE,
              NoisyPatches.SIDE));
    }
    return image;
  }

  private static Result result(
      DenoiserState state, HeldOut split, Settings settings, double noisyPsnr) {
    if (state.bestParameters.isEmpty()) {
      throw new IllegalStateException("no epoch gave a finite validation loss: training diverged");
    }
    Report report =
        new Report(
            split.train().length,
            split.validation().length,
            List.copyOf(state.history),
            state.bestEpoch,
            noisyPsnr,
            state.bestPsnr,
            state.bestPsnr - noisyPsnr,
            state.epoch < settings.maxEpochs());
    DenoiserWeights weights = new DenoiserWeights(state.bestParameters, settings.noiseSigma());
    return new Result(report, zip(weights.toJson()));
  }

  /** Which images train and which are held out to measure with: a seeded shuffle's first few. */
  private record HeldOut(int[] train, int[] validation) {
    static HeldOut of(int images, Settings settings) {
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < images; i++) {
        order.add(i);
      }
      Collections.shuffle(order, new Random(settings.seed()));
      int hold =
          Math.min(
              images - 1, Math.max(1, (int) Math.round(images * settings.validationFraction())));
      int[] validation =
          order.subList(0, hold).stream().mapToInt(Integer::intValue).sorted().toArray();
      int[] train =
          order.subList(hold, images).stream().mapToInt(Integer::intValue).sorted().toArray();
      return new HeldOut(train, validation);
    }
  }

  /** The artifact: a zip of {@link #ARTIFACT_FILE}, with a fixed time so its digest is too. */
  private static byte[] zip(byte[] denoiserJson) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      ZipEntry entry = new ZipEntry(ARTIFACT_FILE);
      entry.setTime(ARTIFACT_TIME);
      zip.putNextEntry(entry);
      zip.write(denoiserJson);
      zip.closeEntry();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return bytes.toByteArray();
  }

  /** 2020-01-01T00:00:00Z: any fixed time, inside the range zip's DOS dates can hold. */
  private static final long ARTIFACT_TIME = 1_577_836_800_000L;

  private static void check(List<Example> examples, Settings s) throws InvalidInputException {
    if (examples.size() < 2) {
      throw new InvalidInputException(
          "a denoiser needs at least two images, one to train on and one to measure it with; got "
              + examples.size());
    }
    if (s.maxEpochs() < 1 || s.maxEpochs() > MOST_EPOCHS) {
      throw new InvalidInputException("epochs must be from 1 to " + MOST_EPOCHS);
    }
    if (!(s.validationFraction() > 0 && s.validationFraction() < 1)) {
      throw new InvalidInputException("the validation fraction must be between 0 and 1");
    }
    if (s.patience() < 1) {
      throw new InvalidInputException("patience must be at least one epoch");
    }
    if (!(s.noiseSigma() > 0 && s.noiseSigma() <= 0.5)) {
      throw new InvalidInputException(
          "the noise level must be above 0 and at most 0.5 of full scale (25/255 is about 0.1)");
    }
    if (!(s.learningRate() > 0 && s.learningRate() <= 1)) {
      throw new InvalidInputException("the learning rate must be above 0 and at most 1");
    }
  }

  /** The digest of the examples (bytes, in order) and the settings. */
  private static byte[] fingerprint(List<Example> examples, Settings settings) {
    MessageDigest sha256 = ModelFiles.sha256();
    sha256.update(settings.toString().getBytes(StandardCharsets.UTF_8));
    for (Example e : examples) {
      sha256.update(ByteBuffer.allocate(4).putInt(e.encodedImage().length).array());
      sha256.update(e.encodedImage());
    }
    return sha256.digest();
  }
}
