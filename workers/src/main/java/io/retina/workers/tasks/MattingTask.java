package io.retina.workers.tasks;

import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Separates people from the background with one of two kinds of model, and answers the same way as
 * background removal: a PNG cutout with the person's alpha, or the alpha alone.
 *
 * <ul>
 *   <li>{@link #twoClass}: a fixed-size segmentation model with two logit channels, background and
 *       person (MediaPipe Meet); the mask is their softmax's person channel.
 *   <li>{@link #recurrent}: Robust Video Matting, a recurrent matting network fed a first frame:
 *       its four recurrent states are zero, and its alpha matte is computed at the image's size.
 * </ul>
 *
 * Thread-safe: runs share only the model, which is, and the states are fed fresh on every run.
 */
final class MattingTask implements ImageTask {

  private static final List<String> OUTPUTS = List.of("cutout", "mask");

  /**
   * The largest side RVM sees. Its refiner runs at full input resolution (about 0.5 s per megapixel
   * on a CPU core); larger images are matted at this size and the alpha is resized.
   */
  static final int RVM_MAX_SIDE = 1536;

  /**
   * The side RVM's encoder works at: downsample_ratio = this / the longer side, as RVM's authors
   * advise (between 256 and 512 px for the coarse pass).
   */
  static final int RVM_COARSE_SIDE = 512;

  /** The smallest side RVM takes: its encoder downsamples 16x and needs at least a few pixels. */
  static final int RVM_MIN_SIDE = 64;

  private interface Matte {
    /** The alpha (0..1) of {@code img}, at {@code img}'s size, row-major. */
    float[] alpha(RgbaImage img) throws InvalidInputException;
  }

  private final TfModel model;
  private final Matte matte;

  private MattingTask(TfModel model, Matte matte) {
    this.model = model;
    this.matte = matte;
  }

  /** Wraps a two-class segmentation model; closes it and fails if its signature doesn't fit. */
  static MattingTask twoClass(TfModel model) throws IOException {
    long[] in = model.signature().input().shape();
    long[] out = model.signature().output().shape();
    if (in == null || in.length != 4 || in[1] <= 0 || in[2] <= 0 || in[3] != 3) {
      model.close();
      throw new IOException("two-class model input must be [1, h, w, 3], got " + in);
    }
    if (out == null || out.length != 4 || out[3] != 2) {
      model.close();
      throw new IOException("two-class model output must be [1, h, w, 2]");
    }
    TwoClass m = new TwoClass(model, (int) in[1], (int) in[2]);
    return new MattingTask(model, m::alpha);
  }

  /** Wraps Robust Video Matting; closes it and fails if its signature doesn't fit. */
  static MattingTask recurrent(TfModel model) throws IOException {
    try {
      Recurrent m = new Recurrent(model);
      return new MattingTask(model, m::alpha);
    } catch (IOException | RuntimeException e) {
      model.close();
      throw e;
    }
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    String output = Inputs.choice(params, "output", OUTPUTS, "cutout");
    RgbaImage img = Inputs.decode(encodedImage);
    float[] alpha = matte.alpha(img);
    if (output.equals("mask")) {
      byte[] gray = new byte[alpha.length];
      for (int i = 0; i < alpha.length; i++) {
        gray[i] = PixelPacking.toByte(alpha[i] * 255f);
      }
      return Outputs.pngGray(img.width(), img.height(), gray);
    }
    byte[] rgba = img.rgba().clone();
    for (int i = 0; i < alpha.length; i++) {
      float inputAlpha = img.hasAlpha() ? (rgba[i * 4 + 3] & 0xff) / 255f : 1f;
      rgba[i * 4 + 3] = PixelPacking.toByte(alpha[i] * inputAlpha * 255f);
    }
    RgbaImage cutout = new RgbaImage(img.width(), img.height(), rgba, true);
    return Outputs.png(cutout, true);
  }

  /** The alpha matte of {@code img} at its size, in [0, 1], row-major. */
  float[] alpha(RgbaImage img) throws InvalidInputException {
    return matte.alpha(img);
  }

  @Override
  public void close() {
    model.close();
  }

  /** MediaPipe Meet: [1, h, w, 3] RGB in [0, 1] in, [1, h, w, 2] background/person logits out. */
  record TwoClass(TfModel model, int inputH, int inputW) {

    float[] alpha(RgbaImage img) throws InvalidInputException {
      float[] small = personProbability(img);
      return Resampler.bilinear(
          small, inputW, inputH, 1, img.width(), img.height(), Resampler.Sampling.HALF_PIXEL);
    }

    /**
     * The person probability at the model's resolution. Preprocessing as vladmandic/human does for
     * this model: bilinear resize with TF's legacy sampling, then divide by 255. The two channels
     * are logits of one softmax (MediaPipe's reading of the model), so p(person) = sigmoid(person -
     * background).
     */
    float[] personProbability(RgbaImage img) throws InvalidInputException {
      float[] rgb =
          Resampler.bilinear(
              PixelPacking.rgb(img, 1f / 255f),
              img.width(),
              img.height(),
              3,
              inputW,
              inputH,
              Resampler.Sampling.LEGACY);
      FloatTensor out;
      try {
        out = model.run(FloatTensor.image(inputH, inputW, 3, rgb));
      } catch (FeedRejectedException e) {
        throw new InvalidInputException("the segmentation model can't take this image: " + e);
      }
      float[] logits = out.data();
      if (logits.length != inputH * inputW * 2) {
        throw new IllegalStateException("two-class output has " + logits.length + " values");
      }
      float[] p = new float[inputH * inputW];
      for (int i = 0; i < p.length; i++) {
        p[i] = (float) (1 / (1 + Math.exp(logits[i * 2] - logits[i * 2 + 1])));
      }
      return p;
    }
  }

  /**
   * Robust Video Matting (MobileNetV3): inputs src [1, h, w, 3] RGB in [0, 1], the recurrent states
   * r1i..r4i and a scalar downsample_ratio; outputs the alpha pha [1, h, w, 1], the foreground fgr
   * and the next states, of which a single image needs only pha.
   */
  static final class Recurrent {
    private final TfModel model;
    private final TensorSpec src;
    private final TensorSpec ratio;
    private final List<TensorSpec> states;
    private final TensorSpec pha;

    Recurrent(TfModel model) throws IOException {
      this.model = model;
      TensorSpec src = null;
      TensorSpec ratio = null;
      List<TensorSpec> states = new java.util.ArrayList<>();
      for (TensorSpec in : model.signature().inputs()) {
        String op = in.opName();
        if (op.equals("src")) {
          src = in;
        } else if (op.equals("downsample_ratio")) {
          ratio = in;
        } else if (op.matches("r[1-4]i")) {
          states.add(in);
        } else {
          throw new IOException("unexpected matting input " + in);
        }
      }
      TensorSpec pha = null;
      for (TensorSpec out : model.signature().outputs()) {
        long[] s = out.shape();
        if (s != null && s.length == 4 && s[3] == 1) {
          pha = out;
        }
      }
      if (src == null || ratio == null || states.size() != 4 || pha == null) {
        throw new IOException(
            "matting model needs inputs src, r1i..r4i, downsample_ratio and a 1-channel output");
      }
      this.src = src;
      this.ratio = ratio;
      this.states = List.copyOf(states);
      this.pha = pha;
    }

    float[] alpha(RgbaImage img) throws InvalidInputException {
      int w = img.width();
      int h = img.height();
      double scale = Math.min(1.0 * RVM_MAX_SIDE / Math.max(w, h), 1.0);
      scale = Math.max(scale, 1.0 * RVM_MIN_SIDE / Math.min(w, h));
      int mw = (int) Math.max(1, Math.round(w * scale));
      int mh = (int) Math.max(1, Math.round(h * scale));
      if (Math.max(mw, mh) > RVM_MAX_SIDE) {
        throw new InvalidInputException(
            "a "
                + w
                + "x"
                + h
                + " image is too elongated to matte: sides may differ at most "
                + RVM_MAX_SIDE / RVM_MIN_SIDE
                + " times");
      }
      float[] rgb = PixelPacking.rgb(img, 1f / 255f);
      if (mw != w || mh != h) {
        rgb = Resampler.bilinear(rgb, w, h, 3, mw, mh, Resampler.Sampling.HALF_PIXEL);
      }
      float ratio = (float) Math.min(1.0, 1.0 * RVM_COARSE_SIDE / Math.max(mw, mh));
      float[] matte = raw(rgb, mw, mh, ratio);
      if (mw == w && mh == h) {
        return matte;
      }
      return Resampler.bilinear(matte, mw, mh, 1, w, h, Resampler.Sampling.HALF_PIXEL);
    }

    /** RVM's alpha for one first frame, {@code rgb} in [0, 1], at the frame's size. */
    float[] raw(float[] rgb, int w, int h, float downsampleRatio) throws InvalidInputException {
      Map<TensorSpec, FloatTensor> feeds = new HashMap<>();
      feeds.put(src, FloatTensor.image(h, w, 3, rgb));
      feeds.put(ratio, new FloatTensor(new long[0], new float[] {downsampleRatio}));
      for (TensorSpec state : states) {
        // a first frame: zero states, which the graph broadcasts (as RVM's own code feeds them)
        feeds.put(state, new FloatTensor(new long[0], new float[] {0f}));
      }
      float[] alpha;
      try {
        alpha = model.run(feeds, List.of(pha)).get(0).data();
      } catch (FeedRejectedException e) {
        throw new InvalidInputException("the matting model can't take this image: " + e);
      }
      if (alpha.length != w * h) {
        throw new IllegalStateException("matting output has " + alpha.length + " values");
      }
      return alpha;
    }
  }
}
