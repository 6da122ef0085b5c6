package io.retina.workers.explain;

import io.retina.workers.tfjs.FeedRejectedException;

/**
 * Occlusion sensitivity (Zeiler and Fergus, 2014): a patch of the image's mean colour slides over
 * the input, and where covering the image lowers the class's probability most is where the model
 * looked. Needs nothing of the model but its answers, so it explains any classifier, at the cost of
 * {@link #IMAGES} images run through it. Thread-safe when the classifier is.
 */
final class Occlusion {

  /**
   * The input is cut into CELLS x CELLS cells, and the heat has that many. Eight cells of a 224 px
   * input are 28 px, about the size of a face in a group photo.
   */
  static final int CELLS = 8;

  /**
   * A patch covers PATCH x PATCH cells, a quarter of the input's side, and moves one cell at a
   * time: each cell away from the border is covered by four patches, which smooths the heat; a
   * patch of one cell moves the probability too little to measure on most photos.
   */
  static final int PATCH = 2;

  /** Patch positions per side. */
  private static final int POSITIONS = CELLS - PATCH + 1;

  /** What one explanation runs through the model: the input as it is, then each occluded copy. */
  static final int IMAGES = 1 + POSITIONS * POSITIONS;

  /**
   * Inputs per model run. Ten of MobileNetV2's 224 x 224 x 3 are 6 MiB, and 50 images take five
   * runs, each long enough that a cancel is seen between them.
   */
  static final int BATCH = 10;

  private final Explainer.Classifier classifier;

  Occlusion(Explainer.Classifier classifier) {
    this.classifier = classifier;
  }

  /** The heat for class {@code classIndex} on one h x w x c input, CELLS x CELLS cells. */
  Heatmap heat(float[] hwc, int width, int height, int classIndex) throws FeedRejectedException {
    int channels = hwc.length / (width * height);
    float[] mean = meanColour(hwc, channels);
    float[][] inputs = new float[IMAGES][];
    inputs[0] = hwc;
    for (int py = 0; py < POSITIONS; py++) {
      for (int px = 0; px < POSITIONS; px++) {
        inputs[1 + py * POSITIONS + px] = occluded(hwc, width, height, channels, px, py, mean);
      }
    }
    float[] p = classProbabilities(inputs, classIndex);
    float[] heat = new float[CELLS * CELLS];
    int[] covers = new int[CELLS * CELLS];
    for (int py = 0; py < POSITIONS; py++) {
      for (int px = 0; px < POSITIONS; px++) {
        float drop = Math.max(0, p[0] - p[1 + py * POSITIONS + px]);
        for (int cy = py; cy < py + PATCH; cy++) {
          for (int cx = px; cx < px + PATCH; cx++) {
            heat[cy * CELLS + cx] += drop;
            covers[cy * CELLS + cx]++;
          }
        }
      }
    }
    for (int i = 0; i < heat.length; i++) {
      heat[i] /= covers[i]; // border cells are covered less often, not less important
    }
    return new Heatmap(CELLS, CELLS, heat);
  }

  private float[] classProbabilities(float[][] inputs, int classIndex)
      throws FeedRejectedException {
    float[] p = new float[inputs.length];
    for (int start = 0; start < inputs.length; start += BATCH) {
      float[][] batch = new float[Math.min(BATCH, inputs.length - start)][];
      System.arraycopy(inputs, start, batch, 0, batch.length);
      float[][] out = classifier.probabilities(batch);
      for (int i = 0; i < batch.length; i++) {
        p[start + i] = out[i][classIndex];
      }
    }
    return p;
  }

  private static float[] occluded(
      float[] hwc, int width, int height, int channels, int px, int py, float[] fill) {
    float[] copy = hwc.clone();
    int x0 = px * width / CELLS;
    int x1 = (px + PATCH) * width / CELLS;
    int y0 = py * height / CELLS;
    int y1 = (py + PATCH) * height / CELLS;
    for (int y = y0; y < y1; y++) {
      for (int x = x0; x < x1; x++) {
        System.arraycopy(fill, 0, copy, (y * width + x) * channels, channels);
      }
    }
    return copy;
  }

  private static float[] meanColour(float[] hwc, int channels) {
    double[] sum = new double[channels];
    for (int i = 0; i < hwc.length; i++) {
      sum[i % channels] += hwc[i];
    }
    float[] mean = new float[channels];
    for (int c = 0; c < channels; c++) {
      mean[c] = (float) (sum[c] * channels / hwc.length);
    }
    return mean;
  }
}
