package io.retina.workers.training;

import com.fasterxml.jackson.databind.JsonNode;
import io.retina.platform.jobs.ContentDigest;
import io.retina.platform.models.ModelArchive;
import io.retina.platform.models.ModelVersion;
import io.retina.platform.models.ParameterSpec;
import io.retina.platform.store.Json;
import io.retina.platform.training.Dataset;
import io.retina.platform.training.Training;
import io.retina.platform.training.TrainingRepository;
import io.retina.workers.budget.WorkStoppedException;
import io.retina.workers.models.CanonicalModels;
import io.retina.workers.models.ModelLoader;
import io.retina.workers.tasks.InvalidInputException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A worker node's trainer: looks for a queued training (or one whose worker died), claims it and
 * runs it on its own thread, one at a time, beside the node's model runners. After every epoch the
 * checkpoint and the epoch's bill are committed together; a cancel, a lost lease or the node
 * stopping ends the run at the next epoch's end, and a stopping node hands the training back so
 * that another resumes it from its last committed epoch.
 */
public final class TrainingWorker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TrainingWorker.class);

  /** How a worker trains, from {@code retina.workers.training}. */
  public record Settings(
      Duration poll, Duration lease, long pricePerImageMicros, long pricePerMegapixelMicros) {}

  /** Generous limits for reading a dataset the api node already checked against the plan. */
  private static final Dataset.Limits READ_LIMITS =
      new Dataset.Limits(1_000_000, 64L << 20, 8L << 30);

  private final TrainingRepository trainings;
  private final CanonicalModels canonical;
  private final Path modelCache;
  private final String owner;
  private final Settings settings;
  private final ScheduledExecutorService timer;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private ClassifierTrainer trainer; // loaded at the first training, kept for the next

  public TrainingWorker(
      TrainingRepository trainings, Path modelCache, String owner, Settings settings) {
    this.trainings = trainings;
    this.modelCache = modelCache;
    this.canonical = new CanonicalModels(modelCache);
    this.owner = owner;
    this.settings = settings;
    this.timer =
        Executors.newScheduledThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "retina-training");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts looking for trainings. */
  public void start() {
    timer.schedule(this::lookForWork, 0, TimeUnit.MILLISECONDS);
  }

  private void lookForWork() {
    if (stopping.get()) {
      return;
    }
    try {
      Optional<TrainingRepository.Claim> claim = trainings.claimNext(owner, settings.lease());
      if (claim.isPresent()) {
        run(claim.get());
      }
    } catch (RuntimeException | Error e) {
      log.warn("looking for a training failed: {}", e.toString());
    }
    if (!stopping.get()) {
      timer.schedule(this::lookForWork, settings.poll().toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Runs one claimed training to its end, or until it is no longer this worker's. */
  void run(TrainingRepository.Claim claim) {
    Training t = claim.training();
    MDC.put("training", t.id().toString());
    MDC.put("tenant", t.tenantId().toString());
    AtomicBoolean lost = new AtomicBoolean();
    long every = Math.max(1, settings.lease().toMillis() / 3);
    ScheduledFuture<?> renewal =
        timer.scheduleAtFixedRate(
            () -> {
              try {
                if (!trainings.renew(claim, settings.lease())) {
                  lost.set(true);
                }
              } catch (RuntimeException e) {
                log.warn("renewing the lease of training {} failed: {}", t.id(), e.toString());
              }
            },
            every,
            every,
            TimeUnit.MILLISECONDS);
    try {
      log.info(
          "training {} ({}) attempt {}, resuming after epoch {}",
          t.id(),
          t.ref(),
          claim.attempt(),
          t.epochsDone());
      EpochCommit commit =
          (epoch, trainImages, report, state) -> {
            if (lost.get() || stopping.get()) {
              throw new WorkStoppedException(WorkStoppedException.Reason.CANCELED);
            }
            if (!trainings.epochDone(
                claim,
                epoch,
                trainImages,
                Json.MAPPER.valueToTree(report),
                state,
                settings.lease())) {
              lost.set(true);
              throw new WorkStoppedException(WorkStoppedException.Reason.CANCELED);
            }
          };
      Trained result =
          t.task().equals("denoise")
              ? trainDenoiser(claim, commit)
              : trainClassifier(claim, commit);
      Optional<Training> done =
          trainings.succeed(
              claim,
              Json.MAPPER.valueToTree(result.report()),
              result.version(),
              result.description(),
              result.artifactZip());
      log.info(
          "training {} {}",
          t.id(),
          done.isPresent() ? "succeeded as " + t.ref() : "ended elsewhere; result dropped");
    } catch (WorkStoppedException e) {
      if (stopping.get() && !lost.get()) {
        trainings.release(claim);
        log.info("training {} handed back: this node is stopping", t.id());
      } else {
        log.info("training {} stopped: canceled or taken over", t.id());
      }
    } catch (InvalidInputException e) {
      trainings.fail(claim, "invalid-dataset", e.getMessage());
    } catch (Dataset.InvalidDatasetException e) {
      trainings.fail(claim, "invalid-dataset", e.getMessage());
    } catch (RuntimeException | java.io.IOException | OutOfMemoryError e) {
      log.error("training {} failed", t.id(), e);
      trainings.fail(
          claim, "training-error", "the training failed on a worker: " + ModelLoader.reason(e));
    } finally {
      renewal.cancel(false);
      MDC.remove("training");
      MDC.remove("tenant");
    }
  }

  /** Commits an epoch of the training this worker holds, or stops it if it holds it no more. */
  @FunctionalInterface
  private interface EpochCommit {
    void epochDone(int epoch, int trainImages, Object report, byte[] state);
  }

  /** What a training came to: its report, its artifact, and the version and words it becomes. */
  private record Trained(
      Object report, byte[] artifactZip, ModelVersion version, String description) {}

  private Trained trainClassifier(TrainingRepository.Claim claim, EpochCommit commit)
      throws InvalidInputException, Dataset.InvalidDatasetException, java.io.IOException {
    Training t = claim.training();
    List<ClassifierTrainer.Example> examples =
        Dataset.read(claim.dataset(), READ_LIMITS).stream()
            .map(i -> new ClassifierTrainer.Example(i.bytes(), i.label()))
            .toList();
    ClassifierTrainer.Settings how = settings(t.settings());
    int trainImages = ClassifierTrainer.trainingImages(examples, how);
    ClassifierTrainer.Result result =
        trainer()
            .train(
                examples,
                how,
                claim.checkpoint() == null
                    ? null
                    : new ClassifierTrainer.Checkpoint(t.epochsDone(), claim.checkpoint()),
                (report, checkpoint) ->
                    commit.epochDone(report.epoch(), trainImages, report, checkpoint.state()));
    ClassifierTrainer.Report r = result.report();
    return new Trained(
        r,
        result.artifactZip(),
        version(
            t,
            "classify",
            "retina-classifier",
            ClassifierTrainer.ARTIFACT_FILE,
            ContentDigest.sha256(result.artifactZip()),
            List.of(
                new ParameterSpec(
                    "explain",
                    "true adds a heatmap (Grad-CAM) of where the classifier looked",
                    List.of("true", "false"),
                    "false",
                    null,
                    null))),
        "Your classifier of "
            + String.join(", ", r.classes())
            + ", trained on "
            + r.trainImages()
            + " images (validation accuracy "
            + Math.round(r.validationAccuracy() * 1000) / 10.0
            + "%, training "
            + t.id()
            + ").");
  }

  private Trained trainDenoiser(TrainingRepository.Claim claim, EpochCommit commit)
      throws InvalidInputException, Dataset.InvalidDatasetException {
    Training t = claim.training();
    List<DenoiserTrainer.Example> examples =
        Dataset.readUnlabelled(claim.dataset(), READ_LIMITS).stream()
            .map(i -> new DenoiserTrainer.Example(i.bytes()))
            .toList();
    DenoiserTrainer.Settings how = denoiserSettings(t.settings());
    int trainImages = DenoiserTrainer.trainingImages(examples, how);
    DenoiserTrainer.Result result =
        new DenoiserTrainer()
            .train(
                examples,
                how,
                claim.checkpoint() == null
                    ? null
                    : new DenoiserTrainer.Checkpoint(t.epochsDone(), claim.checkpoint()),
                (report, checkpoint) ->
                    commit.epochDone(report.epoch(), trainImages, report, checkpoint.state()));
    DenoiserTrainer.Report r = result.report();
    return new Trained(
        r,
        result.artifactZip(),
        version(
            t,
            "denoise-trained",
            "retina-denoiser",
            DenoiserTrainer.ARTIFACT_FILE,
            ContentDigest.sha256(result.artifactZip()),
            IMAGE_OUTPUT_PARAMETERS),
        String.format(
            java.util.Locale.ROOT,
            "Your denoiser, trained on %d images: %+.1f dB PSNR on held-out images at noise %.0f"
                + " (training %s).",
            r.trainImages(),
            r.gainDb(),
            how.noiseSigma() * 255,
            t.id()));
  }

  /** A denoised photo's answer: PNG or JPEG, as the catalog's restoration models take. */
  private static final List<ParameterSpec> IMAGE_OUTPUT_PARAMETERS =
      List.of(
          new ParameterSpec(
              "format",
              "png: lossless, keeps the photo's transparency; jpeg: lossy and much smaller.",
              List.of("png", "jpeg"),
              "png",
              null,
              null),
          new ParameterSpec(
              "quality",
              "JPEG quality, 1 (smallest file) to 100 (best); only for format=jpeg.",
              List.of(),
              "90",
              1,
              100));

  /** A denoiser training's settings as stored by the api node; absent ones take the defaults. */
  static DenoiserTrainer.Settings denoiserSettings(JsonNode s) {
    DenoiserTrainer.Settings d = DenoiserTrainer.Settings.defaults();
    return new DenoiserTrainer.Settings(
        s.path("epochs").asInt(d.maxEpochs()),
        s.path("validationFraction").asDouble(d.validationFraction()),
        s.path("patience").asInt(d.patience()),
        s.has("noise") ? s.get("noise").asDouble() / 255 : d.noiseSigma(),
        s.path("learningRate").asDouble(d.learningRate()),
        s.path("seed").asLong(d.seed()));
  }

  private ClassifierTrainer trainer() throws java.io.IOException {
    if (trainer == null) {
      trainer = new ClassifierTrainer(canonical, modelCache);
    }
    return trainer;
  }

  /** The training's settings as stored by the api node; absent ones take the defaults. */
  static ClassifierTrainer.Settings settings(JsonNode s) {
    ClassifierTrainer.Settings d = ClassifierTrainer.Settings.defaults();
    return new ClassifierTrainer.Settings(
        s.path("epochs").asInt(d.maxEpochs()),
        s.path("validationFraction").asDouble(d.validationFraction()),
        s.path("patience").asInt(d.patience()),
        s.path("augment").asBoolean(d.augment()),
        s.path("learningRate").asDouble(d.learningRate()),
        s.path("seed").asLong(d.seed()));
  }

  /** The version a training's result is registered as, its artifact in the store. */
  private ModelVersion version(
      Training t,
      String task,
      String format,
      String file,
      String digest,
      List<ParameterSpec> parameters) {
    return new ModelVersion(
        t.modelName(),
        t.modelVersion(),
        task,
        format,
        "training:" + t.id(),
        digest,
        Map.of(ModelArchive.STORE_OPTION, ModelArchive.IN_DATABASE, "model", file),
        parameters,
        false,
        1,
        0,
        settings.pricePerImageMicros(),
        settings.pricePerMegapixelMicros(),
        ModelVersion.Status.ACTIVE);
  }

  /**
   * Stops looking for work; a training in progress stops at its epoch's end and is handed back.
   * Waits up to {@code wait} for it.
   */
  public void stop(Duration wait) {
    stopping.set(true);
    timer.shutdown();
    try {
      timer.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop(Duration.ZERO);
    if (trainer != null) {
      trainer.close();
    }
  }
}
