package io.retina.workers.tasks;

import io.retina.platform.store.Json;
import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.PngEncoder;
import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.Annotator;
import io.retina.workers.tasks.vision.Box;
import io.retina.workers.tasks.vision.CocoLabels;
import io.retina.workers.tasks.vision.ModelSource;
import io.retina.workers.tasks.vision.Nms;
import io.retina.workers.tasks.vision.Rect;
import io.retina.workers.tasks.vision.Rounding;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Object detection (CenterNet, MobileNetV3 backbone, COCO's 80 classes): each object's label, score
 * and box in pixels of the input image, best first; or the image with the boxes drawn. The model
 * takes the image stretched to [1,512,512,3] in 0..255 and decodes its own top 100 detections (x1,
 * y1, x2, y2 in input pixels, score, class); boxes overlapping a better one of the same class are
 * dropped. Thread-safe: runs share only the model, which is.
 */
final class ObjectDetectionTask implements ImageTask {

  /** The score floors a tenant may ask for. */
  static final List<String> MIN_SCORES = List.of("0.2", "0.3", "0.5", "0.7");

  /**
   * This CenterNet scores clearly visible people 0.3 to 0.7 on group photos, so a floor of 0.5
   * would miss half of them.
   */
  static final String DEFAULT_MIN_SCORE = "0.3";

  static final List<String> OUTPUTS = List.of("json", "annotated");

  /** The model's output of decoded detections. */
  static final String DETECTIONS = "tower_0/detections";

  /**
   * IoU above which the weaker of two boxes of one class is dropped; the usual value for COCO
   * detectors. Boxes of different classes never suppress each other (a person holding a cup).
   */
  static final double IOU_THRESHOLD = 0.5;

  /** An object of the answer. */
  record DetectedObject(String label, double score, Rect box) {}

  /** The answer. */
  record Objects(List<DetectedObject> objects) {}

  /** An object found, before rounding. */
  record Found(String label, double score, Box box) {}

  private final TfModel model;
  private final int size;

  private ObjectDetectionTask(TfModel model, int size) {
    this.model = model;
    this.size = size;
  }

  /** Loads the "model" option's CenterNet; fails if its signature doesn't fit. */
  static ObjectDetectionTask load(ModelSource models) throws IOException {
    TfModel model = models.load("model");
    TensorSpec in = model.signature().input();
    long[] s = in.shape();
    boolean hasDetections =
        model.signature().outputs().stream().anyMatch(o -> o.opName().equals(DETECTIONS));
    if (s == null || s.length != 4 || s[1] <= 0 || s[1] != s[2] || s[3] != 3 || !hasDetections) {
      model.close();
      throw new IOException(
          "object detection model must take [1,S,S,3] and output " + DETECTIONS + ", got " + in);
    }
    return new ObjectDetectionTask(model, (int) s[1]);
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    double minScore =
        Double.parseDouble(Inputs.choice(params, "min_score", MIN_SCORES, DEFAULT_MIN_SCORE));
    String output = Inputs.choice(params, "output", OUTPUTS, "json");
    RgbaImage img = Inputs.decode(encodedImage);
    List<Found> found = detect(img, minScore);
    if (output.equals("annotated")) {
      List<Annotator.Label> labels =
          found.stream()
              .map(
                  f ->
                      new Annotator.Label(
                          f.box(), String.format(Locale.ROOT, "%s %.2f", f.label(), f.score())))
              .toList();
      return new TaskOutput(
          PngEncoder.MEDIA_TYPE, PngEncoder.encode(Annotator.draw(img, labels), false));
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
    return new TaskOutput(
        "application/json", Json.write(new Objects(objects)).getBytes(StandardCharsets.UTF_8));
  }

  /** Objects scoring above {@code minScore}, best first, boxes in pixels of the image. */
  List<Found> detect(RgbaImage img, double minScore) throws InvalidInputException {
    float[] det = raw(img);
    int n = det.length / 6;
    double sx = (double) img.width() / size;
    double sy = (double) img.height() / size;
    List<Found> found = new ArrayList<>();
    for (int c = 0; c < CocoLabels.LABELS.size(); c++) {
      List<Integer> ofClass = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (det[i * 6 + 5] == c) {
          ofClass.add(i);
        }
      }
      if (ofClass.isEmpty()) {
        continue;
      }
      List<Box> boxes = new ArrayList<>();
      float[] scores = new float[ofClass.size()];
      for (int k = 0; k < ofClass.size(); k++) {
        int o = ofClass.get(k) * 6;
        boxes.add(new Box(det[o] * sx, det[o + 1] * sy, det[o + 2] * sx, det[o + 3] * sy));
        scores[k] = det[o + 4];
      }
      for (int k : Nms.select(boxes, scores, IOU_THRESHOLD, minScore)) {
        found.add(new Found(CocoLabels.LABELS.get(c), scores[k], boxes.get(k)));
      }
    }
    found.sort(Comparator.comparingDouble(f -> -f.score()));
    return found;
  }

  /**
   * The model's decoded detections, [100, 6]: x1, y1, x2, y2 in pixels of its input, score, class.
   */
  float[] raw(RgbaImage img) throws InvalidInputException {
    float[] input =
        Resampler.bilinear(
            PixelPacking.rgb(img, 1f),
            img.width(),
            img.height(),
            3,
            size,
            size,
            Resampler.Sampling.LEGACY);
    try {
      FloatTensor det =
          model.runAll(FloatTensor.image(size, size, 3, input)).get(DETECTIONS + ":0");
      if (det == null || det.data().length % 6 != 0) {
        throw new IllegalStateException("object detection model gave no [1,N,6] detections");
      }
      return det.data();
    } catch (FeedRejectedException e) {
      throw new InvalidInputException(
          "the object detection model can't take this image: " + e.getMessage());
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
