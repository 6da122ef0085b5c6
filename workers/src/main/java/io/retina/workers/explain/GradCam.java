package io.retina.workers.explain;

import io.retina.workers.tfjs.ClassScoreGradient;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;

/**
 * Grad-CAM (Selvaraju et al., 2017): each channel of a feature map weighed by the mean gradient of
 * the class score over it, summed, and only what speaks for the class kept (negative sums are 0).
 * One model run, forward and back through the head. Thread-safe.
 */
final class GradCam {

  private final ClassScoreGradient gradient;

  GradCam(ClassScoreGradient gradient) {
    this.gradient = gradient;
  }

  /** The heat for class {@code classIndex} on one h x w x c input, at the feature map's size. */
  Heatmap heat(float[] hwc, int width, int height, int classIndex) throws FeedRejectedException {
    int channels = hwc.length / (width * height);
    ClassScoreGradient.Activations a =
        gradient.run(FloatTensor.image(height, width, channels, hwc), classIndex);
    return heat(a.featureMap(), a.gradient());
  }

  /** Grad-CAM of a [1, h, w, k] feature map and its gradient. */
  static Heatmap heat(FloatTensor featureMap, FloatTensor gradient) {
    long[] s = featureMap.shape();
    int h = (int) s[1];
    int w = (int) s[2];
    int k = (int) s[3];
    float[] map = featureMap.data();
    float[] grad = gradient.data();
    double[] channelWeight = new double[k];
    for (int i = 0; i < h * w; i++) {
      for (int c = 0; c < k; c++) {
        channelWeight[c] += grad[i * k + c];
      }
    }
    float[] heat = new float[h * w];
    for (int i = 0; i < h * w; i++) {
      double sum = 0;
      for (int c = 0; c < k; c++) {
        sum += channelWeight[c] / (h * w) * map[i * k + c];
      }
      heat[i] = (float) Math.max(0, sum);
    }
    return new Heatmap(w, h, heat);
  }
}
