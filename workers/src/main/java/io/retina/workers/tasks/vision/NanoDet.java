package io.retina.workers.tasks.vision;

import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.ModelSignature;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * NanoDet-g (RangiLyu/nanodet v0.x, COCO's 80 classes; object-detection@2), processed as NanoDet's
 * own pipeline does (config nanodet-g.yml, the GFL head's get_bboxes). The image is padded to a
 * centred square and resized to the model's 416x416 input, in BGR order normalized by NanoDet's
 * mean and std, channels first. Each level of the head (strides 8, 16, 32) gives per cell 80 class
 * scores and four distributions over 0..reg_max strides: the distances of the box's left, top,
 * right and bottom from the cell's centre, each the expectation of its softmax. Boxes overlapping a
 * better one of the same class are dropped; at most 100 objects are kept. Thread-safe: it holds
 * only the model, which is.
 */
public final class NanoDet implements ObjectDetector {

  /**
   * nanodet-g.yml's normalize, per channel of a BGR image (OpenCV's order, which it was trained
   * on). @vladmandic/human feeds RGB / 255 instead, which finds no person on the webcam portrait.
   */
  static final float[] MEAN_BGR = {103.53f, 116.28f, 123.675f};

  static final float[] STD_BGR = {57.375f, 57.12f, 58.395f};

  /** IoU above which the weaker of two boxes of one class is dropped: NanoDet's own value. */
  static final double IOU_THRESHOLD = 0.6;

  /** The most objects an answer holds: NanoDet's max_num. */
  static final int MAX_OBJECTS = 100;

  private static final int CLASSES = CocoLabels.LABELS.size();

  /**
   * One level of the head: its stride in input pixels, its grid's width, and per cell (rows top to
   * bottom) 80 class scores and 4 distributions of {@code bins} logits (left, top, right, bottom).
   */
  public record Level(int stride, int columns, int bins, float[] scores, float[] distributions) {

    public int cells() {
      return scores.length / CLASSES;
    }

    /** The highest class score of a cell. */
    public float maxScore(int cell) {
      float max = Float.NEGATIVE_INFINITY;
      for (int c = 0; c < CLASSES; c++) {
        max = Math.max(max, scores[cell * CLASSES + c]);
      }
      return max;
    }
  }

  /** The model's outputs on an image, by stride, finest first. */
  public record Raw(List<Level> levels) {}

  /** The two outputs of one level. */
  private record Head(int stride, int columns, int bins, TensorSpec scores, TensorSpec dist) {}

  private final TfModel model;
  private final int size;
  private final List<Head> heads;

  private NanoDet(TfModel model, int size, List<Head> heads) {
    this.model = model;
    this.size = size;
    this.heads = heads;
  }

  /**
   * Whether a model's signature is a NanoDet's: [1,3,S,S] in; out, for each level of stride s, a
   * pair [1,(S/s)^2,80] (scores) and [1,(S/s)^2,4*bins] (distributions).
   */
  public static boolean fits(ModelSignature signature) {
    return heads(signature) != null;
  }

  /** Wraps a loaded NanoDet whose signature {@link #fits}. */
  public static NanoDet of(TfModel model) {
    List<Head> heads = heads(model.signature());
    if (heads == null) {
      throw new IllegalArgumentException("not a NanoDet signature: " + model.signature());
    }
    return new NanoDet(model, (int) model.signature().input().shape()[2], heads);
  }

  /** The levels a signature's outputs pair into, finest first; null if it is not a NanoDet's. */
  private static List<Head> heads(ModelSignature signature) {
    if (signature.inputs().size() != 1) {
      return null;
    }
    long[] in = signature.input().shape();
    if (in == null || in.length != 4 || in[1] != 3 || in[2] <= 0 || in[2] != in[3]) {
      return null;
    }
    int size = (int) in[2];
    List<Head> heads = new ArrayList<>();
    for (TensorSpec scores : signature.outputs()) {
      long[] s = scores.shape();
      if (s == null || s.length != 3 || s[2] != CLASSES) {
        continue;
      }
      int columns = (int) Math.round(Math.sqrt(s[1]));
      if ((long) columns * columns != s[1] || size % columns != 0) {
        return null;
      }
      TensorSpec dist =
          signature.outputs().stream()
              .filter(
                  o ->
                      o.shape() != null
                          && o.shape().length == 3
                          && o.shape()[1] == s[1]
                          && o.shape()[2] != CLASSES
                          && o.shape()[2] % 4 == 0)
              .findFirst()
              .orElse(null);
      if (dist == null) {
        return null;
      }
      heads.add(new Head(size / columns, columns, (int) dist.shape()[2] / 4, scores, dist));
    }
    if (heads.isEmpty() || heads.size() * 2 != signature.outputs().size()) {
      return null;
    }
    heads.sort(Comparator.comparingInt(Head::stride));
    return List.copyOf(heads);
  }

  @Override
  public List<Detection> detect(RgbaImage img, double minScore) throws FeedRejectedException {
    return decode(raw(img), img.width(), img.height(), minScore);
  }

  /**
   * The objects in raw outputs on a {@code width x height} image, as {@link #detect} finds them.
   */
  public List<Detection> decode(Raw raw, int width, int height, double minScore) {
    Sampling.Letterbox lb = Sampling.Letterbox.of(width, height);
    List<List<Box>> boxes = new ArrayList<>();
    List<List<Float>> scores = new ArrayList<>();
    for (int c = 0; c < CLASSES; c++) {
      boxes.add(new ArrayList<>());
      scores.add(new ArrayList<>());
    }
    for (Level level : raw.levels()) {
      for (int i = 0; i < level.cells(); i++) {
        Box box = null; // decoded once per cell, when a class scores above the floor
        for (int c = 0; c < CLASSES; c++) {
          float score = level.scores()[i * CLASSES + c];
          if (!(score > minScore)) {
            continue;
          }
          if (box == null) {
            box = box(level, i, lb);
          }
          boxes.get(c).add(box);
          scores.get(c).add(score);
        }
      }
    }
    List<Detection> found = new ArrayList<>();
    for (int c = 0; c < CLASSES; c++) {
      float[] s = new float[scores.get(c).size()];
      for (int k = 0; k < s.length; k++) {
        s[k] = scores.get(c).get(k);
      }
      for (int k : Nms.select(boxes.get(c), s, IOU_THRESHOLD, minScore)) {
        found.add(new Detection(CocoLabels.LABELS.get(c), s[k], boxes.get(c).get(k)));
      }
    }
    found.sort(Comparator.comparingDouble(f -> -f.score()));
    return found.size() > MAX_OBJECTS ? List.copyOf(found.subList(0, MAX_OBJECTS)) : found;
  }

  /**
   * A cell's box in pixels of the image: the expected distances from the cell's centre, clamped to
   * the model's input as NanoDet does, then mapped out of the letterbox.
   */
  private Box box(Level level, int cell, Sampling.Letterbox lb) {
    double cx = (cell % level.columns() + 0.5) * level.stride();
    double cy = (cell / level.columns() + 0.5) * level.stride();
    double[] d = new double[4];
    for (int k = 0; k < 4; k++) {
      d[k] =
          expectation(level.distributions(), (cell * 4 + k) * level.bins(), level.bins())
              * level.stride();
    }
    return new Box(
        lb.toImageX(clamp(cx - d[0]), size),
        lb.toImageY(clamp(cy - d[1]), size),
        lb.toImageX(clamp(cx + d[2]), size),
        lb.toImageY(clamp(cy + d[3]), size));
  }

  private double clamp(double v) {
    return Math.max(0, Math.min(size, v));
  }

  /** The expectation of the softmax of {@code bins} logits: a distance in strides. */
  static double expectation(float[] logits, int offset, int bins) {
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < bins; j++) {
      max = Math.max(max, logits[offset + j]);
    }
    double sum = 0;
    double weighted = 0;
    for (int j = 0; j < bins; j++) {
      double e = Math.exp(logits[offset + j] - max);
      sum += e;
      weighted += e * j;
    }
    return weighted / sum;
  }

  /** The model's raw outputs on the image. */
  public Raw raw(RgbaImage img) throws FeedRejectedException {
    float[] hwc = Sampling.letterbox(img, size);
    int plane = size * size;
    float[] chw = new float[3 * plane];
    for (int c = 0; c < 3; c++) {
      int rgb = 2 - c; // BGR
      for (int p = 0; p < plane; p++) {
        chw[c * plane + p] = (hwc[p * 3 + rgb] - MEAN_BGR[c]) / STD_BGR[c];
      }
    }
    Map<String, FloatTensor> outs =
        model.runAll(new FloatTensor(new long[] {1, 3, size, size}, chw));
    List<Level> levels = new ArrayList<>();
    for (Head h : heads) {
      levels.add(
          new Level(
              h.stride(),
              h.columns(),
              h.bins(),
              outs.get(h.scores().name()).data(),
              outs.get(h.dist().name()).data()));
    }
    return new Raw(levels);
  }

  @Override
  public void close() {
    model.close();
  }
}
