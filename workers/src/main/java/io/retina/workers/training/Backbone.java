package io.retina.workers.training;

import io.retina.workers.imaging.PixelPacking;
import io.retina.workers.imaging.Resampler;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.models.CanonicalModels;
import io.retina.workers.tasks.ModerationUmdBundle;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The frozen feature extractor under every trained classifier: nsfwjs's MobileNetV2 (ImageNet
 * features, as shipped in the catalog's nsfwjs package) cut before its head, so that an image
 * becomes the {@value #DIMENSION} pooled features its own classifier reads. The trainer and the
 * classify task embed through this one class, so a classifier is served on exactly the features it
 * was trained on. Thread-safe: embeddings share only the model, which is.
 */
public final class Backbone implements AutoCloseable {

  /** The name a classifier's artifact gives this backbone; another name is another backbone. */
  public static final String NAME = "nsfwjs-mobilenet-v2";

  /** The square input, in pixels, every image is stretched to. */
  public static final int INPUT = 224;

  /** How many features an embedding has: the channels of MobileNetV2's last convolution. */
  public static final int DIMENSION = 1280;

  /** The model inside the model cache: the package the catalog's moderation model comes from. */
  static final String MODEL = "nsfwjs_4.4.0/dist/models/mobilenet_v2/model.min.js";

  /**
   * The 7x7 average pool of the last convolution, flattened: the tensor nsfwjs's own dense layers
   * start from. As named by Retina's layers importer (layer {@code flatten_1}, its Reshape op).
   */
  static final String FEATURES = "flatten_1/Reshape:0";

  /** The ReLU6 output that the pooling before {@link #FEATURES} averages. */
  static final String FEATURE_MAP = "out_relu/Relu6:0";

  /** The feature map's side, in cells. */
  public static final int GRID = 7;

  private final TfModel model;

  private Backbone(TfModel model) {
    this.model = model;
  }

  /** Loads the backbone through {@code canonical}, from the model cache it lives in. */
  public static Backbone load(CanonicalModels canonical) throws IOException {
    return load(canonical, canonical.modelCache());
  }

  /**
   * Loads the backbone from {@code modelCache} through {@code canonical}; fails with IOException if
   * the package is missing or the model is not the one this class knows (its features are not
   * {@value #DIMENSION} values).
   */
  public static Backbone load(CanonicalModels canonical, Path modelCache) throws IOException {
    TfModel model = canonical.load(modelCache.resolve(MODEL), ModerationUmdBundle::importModel);
    Backbone backbone = new Backbone(model);
    int n;
    try {
      n = backbone.embed(new float[INPUT * INPUT * 3], INPUT, INPUT).length;
    } catch (IllegalArgumentException e) {
      model.close();
      throw new IOException(MODEL + " has no tensor " + FEATURES + ": " + e.getMessage(), e);
    }
    if (n != DIMENSION) {
      model.close();
      throw new IOException(MODEL + " gives " + n + " features, not " + DIMENSION);
    }
    int cells;
    try {
      cells = backbone.featureMap(new float[INPUT * INPUT * 3]).length;
    } catch (IllegalArgumentException e) {
      model.close();
      throw new IOException(MODEL + " has no tensor " + FEATURE_MAP + ": " + e.getMessage(), e);
    }
    if (cells != GRID * GRID * DIMENSION) {
      model.close();
      throw new IOException(MODEL + "'s feature map has " + cells + " values");
    }
    return backbone;
  }

  /**
   * An image's features. Preprocessing as nsfwjs's: RGB divided by 255, stretched (not cropped) to
   * {@value #INPUT} square with an align-corners bilinear resize.
   */
  public float[] embed(RgbaImage image) {
    return features(input(image));
  }

  /** The features of an RGB image already scaled to [0, 1] (HWC, {@code width x height}). */
  float[] embed(float[] rgb, int width, int height) {
    return features(
        Resampler.bilinear(rgb, width, height, 3, INPUT, INPUT, Resampler.Sampling.ALIGN_CORNERS));
  }

  /** What the backbone takes for an image: {@value #INPUT} square RGB in [0, 1], HWC. */
  public static float[] input(RgbaImage image) {
    return Resampler.bilinear(
        PixelPacking.rgb(image, 1f / 255f),
        image.width(),
        image.height(),
        3,
        INPUT,
        INPUT,
        Resampler.Sampling.ALIGN_CORNERS);
  }

  /** The {@value #DIMENSION} features of an {@link #input}. */
  public float[] features(float[] input) {
    return run(input, FEATURES);
  }

  /**
   * The last feature map before the features pool it: {@value #GRID} x {@value #GRID} cells of
   * {@value #DIMENSION} channels, row-major, channels last. The features are its mean over the
   * cells, so a linear head's class score has the gradient {@code weight / GRID²} with respect to
   * every cell: what Grad-CAM weighs the map's channels by.
   */
  public float[] featureMap(float[] input) {
    return run(input, FEATURE_MAP);
  }

  private float[] run(float[] input, String tensor) {
    try {
      return model.runTo(FloatTensor.image(INPUT, INPUT, 3, input), tensor).data();
    } catch (FeedRejectedException e) {
      throw new IllegalStateException("the backbone refused a " + INPUT + " px image", e);
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
