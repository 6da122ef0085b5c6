package io.retina.workers.tasks.vision;

import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * BlazeFace (MediaPipe's 256x256 "back" face detector): finds faces and six landmarks each. The
 * image is padded to a centred square, resized to the model's input and scaled to [-1, 1]; the
 * model scores 896 SSD anchors and regresses a box and landmarks relative to each; boxes scoring
 * above a floor are kept by non-max suppression. Thread-safe: it holds only the model, which is.
 */
public final class FaceDetector implements AutoCloseable {

  /** Landmark order of the model; left and right are the person's own. */
  public static final List<String> LANDMARKS =
      List.of("right_eye", "left_eye", "nose", "mouth", "right_ear", "left_ear");

  /** IoU above which the weaker of two face boxes is dropped: MediaPipe's value for BlazeFace. */
  static final double IOU_THRESHOLD = 0.3;

  /** Values per anchor: score logit, box (dx, dy, w, h), then 6 landmarks (dx, dy). */
  private static final int ROW = 17;

  /** A landmark, in pixels of the input image. */
  public record Landmark(String name, double x, double y) {}

  /** A face found: its box in pixels of the input image, its score, its landmarks. */
  public record Face(Box box, double score, List<Landmark> landmarks) {}

  /**
   * The model's outputs, anchors in the model's order (the 512 anchors of the 16-pixel grid, then
   * the 384 of the 32-pixel one): a score logit per anchor and a row of 16 regressions.
   */
  public record Raw(float[] logits, float[] regressions) {}

  private final TfModel model;
  private final int size;
  private final double[][] anchors;

  private FaceDetector(TfModel model, int size) {
    this.model = model;
    this.size = size;
    this.anchors = anchors(size);
  }

  /** Wraps a loaded BlazeFace; closes it and fails if its signature is not [1,256,256,3]. */
  public static FaceDetector of(TfModel model) throws IOException {
    TensorSpec in = model.signature().input();
    long[] s = in.shape();
    if (s == null || s.length != 4 || s[1] != 256 || s[2] != 256 || s[3] != 3) {
      model.close();
      throw new IOException("face detection model input must be [1,256,256,3], got " + in);
    }
    return new FaceDetector(model, 256);
  }

  /** Faces scoring above {@code minScore}, best first. */
  public List<Face> detect(RgbaImage img, double minScore) throws FeedRejectedException {
    Raw raw = raw(img);
    Sampling.Letterbox lb = Sampling.Letterbox.of(img.width(), img.height());
    int n = anchors.length;
    List<Box> boxes = new ArrayList<>(n);
    float[] scores = new float[n];
    for (int i = 0; i < n; i++) {
      int r = i * (ROW - 1);
      float[] reg = raw.regressions();
      double cx = anchors[i][0] + reg[r];
      double cy = anchors[i][1] + reg[r + 1];
      double w = reg[r + 2];
      double h = reg[r + 3];
      boxes.add(
          new Box(
              lb.toImageX(cx - w / 2, size),
              lb.toImageY(cy - h / 2, size),
              lb.toImageX(cx + w / 2, size),
              lb.toImageY(cy + h / 2, size)));
      scores[i] = (float) (1 / (1 + Math.exp(-raw.logits()[i])));
    }
    List<Face> faces = new ArrayList<>();
    for (int i : Nms.select(boxes, scores, IOU_THRESHOLD, minScore)) {
      int r = i * (ROW - 1);
      List<Landmark> landmarks = new ArrayList<>();
      for (int k = 0; k < LANDMARKS.size(); k++) {
        landmarks.add(
            new Landmark(
                LANDMARKS.get(k),
                lb.toImageX(anchors[i][0] + raw.regressions()[r + 4 + 2 * k], size),
                lb.toImageY(anchors[i][1] + raw.regressions()[r + 5 + 2 * k], size)));
      }
      faces.add(new Face(boxes.get(i), scores[i], landmarks));
    }
    return faces;
  }

  /** The model's raw outputs on the image. */
  public Raw raw(RgbaImage img) throws FeedRejectedException {
    float[] input = Sampling.letterbox(img, size);
    for (int i = 0; i < input.length; i++) {
      input[i] = input[i] / 127.5f - 1;
    }
    Map<String, FloatTensor> outs = model.runAll(FloatTensor.image(size, size, 3, input));
    // four outputs, told apart by shape: scores [1,512,1], [1,384,1]; regressions [1,512,16],
    // [1,384,16]
    float[] logits = new float[anchors.length];
    float[] regressions = new float[anchors.length * (ROW - 1)];
    copy(outs, 512, 1, logits, 0);
    copy(outs, 384, 1, logits, 512);
    copy(outs, 512, 16, regressions, 0);
    copy(outs, 384, 16, regressions, 512 * 16);
    return new Raw(logits, regressions);
  }

  private static void copy(
      Map<String, FloatTensor> outs, int anchors, int channels, float[] dst, int offset) {
    for (FloatTensor t : outs.values()) {
      long[] s = t.shape();
      if (s.length == 3 && s[1] == anchors && s[2] == channels) {
        System.arraycopy(t.data(), 0, dst, offset, t.data().length);
        return;
      }
    }
    throw new IllegalStateException(
        "face detection model has no [1," + anchors + "," + channels + "] output");
  }

  /**
   * MediaPipe's SSD anchors for this model, (x, y) centres in input pixels: 2 per cell of the
   * 16-pixel grid, then 6 per cell of the 32-pixel grid, rows top to bottom.
   */
  private static double[][] anchors(int size) {
    List<double[]> out = new ArrayList<>();
    int[][] layers = {{16, 2}, {32, 6}};
    for (int[] layer : layers) {
      int stride = layer[0];
      int cells = (size + stride - 1) / stride;
      for (int y = 0; y < cells; y++) {
        for (int x = 0; x < cells; x++) {
          for (int k = 0; k < layer[1]; k++) {
            out.add(new double[] {stride * (x + 0.5), stride * (y + 0.5)});
          }
        }
      }
    }
    return out.toArray(new double[0][]);
  }

  @Override
  public void close() {
    model.close();
  }
}
