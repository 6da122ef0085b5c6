package io.retina.workers.tasks;

import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.FaceDetector;
import io.retina.workers.tasks.vision.ModelSource;
import io.retina.workers.tasks.vision.Rect;
import io.retina.workers.tasks.vision.Rounding;
import io.retina.workers.tfjs.FeedRejectedException;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Face detection (BlazeFace): every face's box, score and six landmarks, in pixels of the input
 * image, best first. Thread-safe: runs share only the detector, which is.
 */
final class FaceDetectionTask implements ImageTask {

  /** The score floors a tenant may ask for; 0.5 keeps real faces and drops most look-alikes. */
  static final List<String> MIN_SCORES = List.of("0.3", "0.5", "0.7");

  static final String DEFAULT_MIN_SCORE = "0.5";

  /** A landmark of the answer. */
  record Landmark(String name, double x, double y) {}

  /** A face of the answer. */
  record Face(Rect box, double score, List<Landmark> landmarks) {}

  /** The answer. */
  record Faces(List<Face> faces) {}

  private final FaceDetector detector;

  private FaceDetectionTask(FaceDetector detector) {
    this.detector = detector;
  }

  /** Loads the "model" option's BlazeFace. */
  static FaceDetectionTask load(ModelSource models) throws IOException {
    return new FaceDetectionTask(FaceDetector.of(models.load("model")));
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    double minScore =
        Double.parseDouble(Inputs.choice(params, "min_score", MIN_SCORES, DEFAULT_MIN_SCORE));
    RgbaImage img = Inputs.decode(encodedImage);
    List<FaceDetector.Face> found = detect(img, minScore);
    List<Face> faces =
        found.stream()
            .map(
                f ->
                    new Face(
                        Rect.of(f.box()),
                        Rounding.score(f.score()),
                        f.landmarks().stream()
                            .map(
                                l ->
                                    new Landmark(
                                        l.name(), Rounding.pixels(l.x()), Rounding.pixels(l.y())))
                            .toList()))
            .toList();
    return Outputs.json(new Faces(faces));
  }

  List<FaceDetector.Face> detect(RgbaImage img, double minScore) throws InvalidInputException {
    try {
      return detector.detect(img, minScore);
    } catch (FeedRejectedException e) {
      throw new InvalidInputException(
          "the face detection model can't take this image: " + e.getMessage());
    }
  }

  FaceDetector detector() {
    return detector;
  }

  @Override
  public void close() {
    detector.close();
  }
}
