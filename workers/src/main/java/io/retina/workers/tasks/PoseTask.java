package io.retina.workers.tasks;

import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.ModelSource;
import io.retina.workers.tasks.vision.Rounding;
import io.retina.workers.tasks.vision.Sampling;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.DataType;

/**
 * Single-person pose (MoveNet SinglePose Lightning): the 17 COCO keypoints of the most prominent
 * person, in pixels of the input image, each with its confidence. The model takes a [1,S,S,3] int32
 * RGB image; the input is padded to a centred square first, so people keep their proportions.
 * Thread-safe: runs share only the model, which is.
 */
final class PoseTask implements ImageTask {

  /** COCO's keypoint order, which is the model's; left and right are the person's own. */
  static final List<String> KEYPOINTS =
      List.of(
          "nose",
          "left_eye",
          "right_eye",
          "left_ear",
          "right_ear",
          "left_shoulder",
          "right_shoulder",
          "left_elbow",
          "right_elbow",
          "left_wrist",
          "right_wrist",
          "left_hip",
          "right_hip",
          "left_knee",
          "right_knee",
          "left_ankle",
          "right_ankle");

  /** One keypoint of the answer. */
  record Keypoint(String name, double x, double y, double score) {}

  /** The answer. */
  record Pose(List<Keypoint> keypoints) {}

  private final TfModel model;
  private final int size;

  private PoseTask(TfModel model, int size) {
    this.model = model;
    this.size = size;
  }

  /** Loads the "model" option's MoveNet; fails if its signature is not [1,S,S,3] -> [1,1,17,3]. */
  static PoseTask load(ModelSource models) throws IOException {
    TfModel model = models.load("model");
    TensorSpec in = model.signature().input();
    long[] s = in.shape();
    long[] o = model.signature().output().shape();
    if (in.dtype() != DataType.DT_INT32
        || s == null
        || s.length != 4
        || s[1] <= 0
        || s[1] != s[2]
        || s[3] != 3
        || o == null
        || o.length != 4
        || o[2] != KEYPOINTS.size()
        || o[3] != 3) {
      model.close();
      throw new IOException("pose model must map int32 [1,S,S,3] to [1,1,17,3], got " + in);
    }
    return new PoseTask(model, (int) s[1]);
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    RgbaImage img = Inputs.decode(encodedImage);
    float[] raw = raw(img);
    Sampling.Letterbox lb = Sampling.Letterbox.of(img.width(), img.height());
    List<Keypoint> keypoints = new ArrayList<>();
    for (int i = 0; i < KEYPOINTS.size(); i++) {
      // the model answers (y, x, score), y and x in 0..1 of its square input
      double x = lb.toImageX(raw[i * 3 + 1] * size, size);
      double y = lb.toImageY(raw[i * 3] * size, size);
      keypoints.add(
          new Keypoint(
              KEYPOINTS.get(i),
              Rounding.pixels(Math.max(0, Math.min(img.width(), x))),
              Rounding.pixels(Math.max(0, Math.min(img.height(), y))),
              Rounding.score(raw[i * 3 + 2])));
    }
    return Outputs.json(new Pose(keypoints));
  }

  /** The model's raw [1,1,17,3] output: (y, x, score) per keypoint, y and x in 0..1. */
  float[] raw(RgbaImage img) throws InvalidInputException {
    float[] input = Sampling.letterbox(img, size);
    try {
      FloatTensor out =
          model.runAll(FloatTensor.image(size, size, 3, input)).values().iterator().next();
      if (out.data().length != KEYPOINTS.size() * 3) {
        throw new IllegalStateException("pose output has " + out.data().length + " values");
      }
      return out.data();
    } catch (FeedRejectedException e) {
      throw new InvalidInputException("the pose model can't take this image: " + e.getMessage());
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
