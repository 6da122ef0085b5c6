package io.retina.workers.tasks.vision;

import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.ModelSignature;
import io.retina.workers.tfjs.TfModel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * CenterNet (MobileNetV3 backbone, COCO's 80 classes; object-detection@1). The model takes the
 * image stretched to [1,512,512,3] in 0..255 and decodes its own top 100 detections (x1, y1, x2, y2
 * in input pixels, score, class); boxes overlapping a better one of the same class are dropped.
 * Thread-safe: it holds only the model, which is.
 */
public final class CenterNet implements ObjectDetector {

  /** The model's output of decoded detections. */
  static final String DETECTIONS = "tower_0/detections";

  /**
   * IoU above which the weaker of two boxes of one class is dropped; the usual value for COCO
   * detectors. Boxes of different classes never suppress each other (a person holding a cup).
   */
  static final double IOU_THRESHOLD = 0.5;

  private final TfModel model;
  private final int size;

  private CenterNet(TfModel model, int size) {
    this.model = model;
    this.size = size;
  }

  /** Whether a model's signature is this CenterNet's: [1,S,S,3] in, decoded detections out. */
  public static boolean fits(ModelSignature signature) {
    if (signature.inputs().size() != 1) {
      return false;
    }
    long[] s = signature.input().shape();
    return s != null
        && s.length == 4
        && s[1] > 0
        && s[1] == s[2]
        && s[3] == 3
        && signature.outputs().stream().anyMatch(o -> o.opName().equals(DETECTIONS));
  }

  /** Wraps a loaded CenterNet whose signature {@link #fits}. */
  public static CenterNet of(TfModel model) {
    if (!fits(model.signature())) {
      throw new IllegalArgumentException("not a CenterNet signature: " + model.signature());
    }
    return new CenterNet(model, (int) model.signature().input().shape()[1]);
  }

  @Override
  public List<Detection> detect(RgbaImage img, double minScore) throws FeedRejectedException {
    float[] det = raw(img);
    int n = det.length / 6;
    double sx = (double) img.width() / size;
    double sy = (double) img.height() / size;
    List<Detection> found = new ArrayList<>();
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
        found.add(new Detection(CocoLabels.LABELS.get(c), scores[k], boxes.get(k)));
      }
    }
    found.sort(Comparator.comparingDouble(f -> -f.score()));
    return found;
  }

  /**
   * The model's decoded detections, [100, 6]: x1, y1, x2, y2 in pixels of its input, score, class.
   */
  public float[] raw(RgbaImage img) throws FeedRejectedException {
    float[] input =
        Resampler.bilinear(
            PixelPacking.rgb(img, 1f),
            img.width(),
            img.height(),
            3,
            size,
            size,
            Resampler.Sampling.LEGACY);
    FloatTensor det = model.runAll(FloatTensor.image(size, size, 3, input)).get(DETECTIONS + ":0");
    if (det == null || det.data().length % 6 != 0) {
      throw new IllegalStateException("object detection model gave no [1,N,6] detections");
    }
    return det.data();
  }

  @Override
  public void close() {
    model.close();
  }
}
