package io.retina.workers.tasks;

import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.Annotator;
import io.retina.workers.tasks.vision.CenterNet;
import io.retina.workers.tasks.vision.ModelSource;
import io.retina.workers.tasks.vision.NanoDet;
import io.retina.workers.tasks.vision.ObjectDetector;
import io.retina.workers.tasks.vision.Rect;
import io.retina.workers.tasks.vision.Rounding;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.ModelSignature;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Object detection (COCO's 80 classes, by CenterNet or NanoDet, told apart by their signatures):
 * each object's label, score and box in pixels of the input image, best first; or the image with
 * the boxes drawn. Thread-safe: runs share only the detector, which is.
 */
final class ObjectDetectionTask implements ImageTask {

  /** The score floors a tenant may ask for. */
  static final List<String> MIN_SCORES = List.of("0.2", "0.3", "0.5", "0.7");

  /**
   * Both detectors score clearly visible people 0.3 to 0.9 on group photos, so a floor of 0.5 would
   * miss half of them.
   */
  static final String DEFAULT_MIN_SCORE = "0.3";

  static final List<String> OUTPUTS = List.of("json", "annotated");

  /** An object of the answer. */
  record DetectedObject(String label, double score, Rect box) {}

  /** The answer. */
  record Objects(List<DetectedObject> objects) {}

  private final ObjectDetector detector;

  private ObjectDetectionTask(ObjectDetector detector) {
    this.detector = detector;
  }

  /** Loads the "model" option's CenterNet or NanoDet; fails if its signature is neither's. */
  static ObjectDetectionTask load(ModelSource models) throws IOException {
    TfModel model = models.load("model");
    ModelSignature signature = model.signature();
    if (CenterNet.fits(signature)) {
      return new ObjectDetectionTask(CenterNet.of(model));
    }
    if (NanoDet.fits(signature)) {
      return new ObjectDetectionTask(NanoDet.of(model));
    }
    model.close();
    throw new IOException(
        "object detection model must be a CenterNet ([1,S,S,3] in, tower_0/detections out) or a"
            + " NanoDet ([1,3,S,S] in, [1,N,80] scores and [1,N,4*bins] distributions per level"
            + " out), got "
            + signature);
  }

  ObjectDetector detector() {
    return detector;
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    double minScore =
        Double.parseDouble(Inputs.choice(params, "min_score", MIN_SCORES, DEFAULT_MIN_SCORE));
    String output = Inputs.choice(params, "output", OUTPUTS, "json");
    return answer(encodedImage, minScore, output);
  }

  /**
   * The answer once the parameters are read: any score floor, not only the ones a tenant may ask
   * for, so that an evaluation can rank every detection the way a job would report it.
   */
  TaskOutput answer(byte[] encodedImage, double minScore, String output)
      throws InvalidInputException {
    RgbaImage img = Inputs.decode(encodedImage);
    List<ObjectDetector.Detection> found;
    try {
      found = detector.detect(img, minScore);
    } catch (FeedRejectedException e) {
      throw new InvalidInputException(
          "the object detection model can't take this image: " + e.getMessage());
    }
    if (output.equals("annotated")) {
      List<Annotator.Label> labels =
          found.stream()
              .map(
                  f ->
                      new Annotator.Label(
                          f.box(), String.format(Locale.ROOT, "%s %.2f", f.label(), f.score())))
              .toList();
      return Outputs.png(Annotator.draw(img, labels), false);
    }
    List<DetectedObject> objects =
        found.stream()
            .map(
                f ->
                    new DetectedObject(
                        f.label(),
                        Rounding.score(f.score()),
                        Rect.of(f.box().clip(img.width(), img.height()))))
            .toList();
    return Outputs.json(new Objects(objects));
  }

  @Override
  public void close() {
    detector.close();
  }
}
