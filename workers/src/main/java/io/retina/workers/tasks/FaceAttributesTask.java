package io.retina.workers.tasks;

import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.Box;
import io.retina.workers.tasks.vision.FaceDetector;
import io.retina.workers.tasks.vision.ModelSource;
import io.retina.workers.tasks.vision.Rect;
import io.retina.workers.tasks.vision.Rounding;
import io.retina.workers.tasks.vision.Sampling;
import io.retina.workers.tfjs.FeedRejectedException;
import io.retina.workers.tfjs.FloatTensor;
import io.retina.workers.tfjs.TensorSpec;
import io.retina.workers.tfjs.TfModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Face attributes: finds faces with BlazeFace, then estimates each one's age and gender (HSE
 * FaceRes, a MobileNet trained on face recognition with age and gender heads) and its expression
 * (oarriaga's mini-Xception trained on FER-2013). Both models see a square crop around the face.
 * Thread-safe: runs share only the models, which are.
 */
final class FaceAttributesTask implements ImageTask {

  /** The emotion model's classes, in its output order. */
  static final List<String> EMOTIONS =
      List.of("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral");

  /**
   * The crop the attribute models see, as a multiple of the BlazeFace box's longer side: that box
   * is tight (brows to chin), and both models were trained on crops with hair and jaw in view.
   */
  static final double CROP_SCALE = 1.5;

  /** Luma weights (ITU-R BT.601) the emotion model's greyscale input is made with. */
  private static final float[] GREY = {0.2989f, 0.587f, 0.114f};

  /** One emotion's probability. */
  record Emotion(String emotion, double score) {}

  /** A face of the answer. */
  record Face(
      Rect box,
      double score,
      double age,
      String gender,
      double genderScore,
      String emotion,
      List<Emotion> emotions) {}

  /** The answer. */
  record Faces(List<Face> faces) {}

  /** The attribute models' raw outputs for one crop. */
  record Raw(float gender, float[] age, float[] emotions) {}

  private final FaceDetector detector;
  private final TfModel faceres;
  private final TfModel emotion;

  private FaceAttributesTask(FaceDetector detector, TfModel faceres, TfModel emotion) {
    this.detector = detector;
    this.faceres = faceres;
    this.emotion = emotion;
  }

  /** Loads the "detector", "faceres" and "emotion" options' models; fails if one doesn't fit. */
  static FaceAttributesTask load(ModelSource models) throws IOException {
    List<AutoCloseable> loaded = new ArrayList<>();
    try {
      FaceDetector detector = FaceDetector.of(models.load("detector"));
      loaded.add(detector);
      TfModel faceres = models.load("faceres");
      loaded.add(faceres);
      require(faceres, 224, 3, "faceres");
      TfModel emotion = models.load("emotion");
      loaded.add(emotion);
      require(emotion, 64, 1, "emotion");
      return new FaceAttributesTask(detector, faceres, emotion);
    } catch (IOException | RuntimeException e) {
      for (AutoCloseable c : loaded) {
        try {
          c.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  private static void require(TfModel model, int size, int channels, String what)
      throws IOException {
    TensorSpec in = model.signature().input();
    long[] s = in.shape();
    if (s == null || s.length != 4 || s[1] != size || s[2] != size || s[3] != channels) {
      throw new IOException(
          what + " model input must be [1," + size + "," + size + "," + channels + "], got " + in);
    }
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    double minScore =
        Double.parseDouble(
            Inputs.choice(
                params,
                "min_score",
                FaceDetectionTask.MIN_SCORES,
                FaceDetectionTask.DEFAULT_MIN_SCORE));
    RgbaImage img = Inputs.decode(encodedImage);
    List<Face> faces = new ArrayList<>();
    try {
      for (FaceDetector.Face f : detector.detect(img, minScore)) {
        Raw raw = raw(img, crop(f.box(), img.width(), img.height()));
        List<Emotion> emotions = new ArrayList<>();
        for (int i = 0; i < EMOTIONS.size(); i++) {
          emotions.add(new Emotion(EMOTIONS.get(i), Rounding.score(raw.emotions()[i])));
        }
        emotions.sort(Comparator.comparingDouble(e -> -e.score()));
        boolean female = raw.gender() <= 0.5f;
        faces.add(
            new Face(
                Rect.of(f.box()),
                Rounding.score(f.score()),
                Math.round(age(raw.age()) * 10) / 10.0,
                female ? "female" : "male",
                Rounding.score(female ? 1 - raw.gender() : raw.gender()),
                emotions.get(0).emotion(),
                emotions));
      }
    } catch (FeedRejectedException e) {
      throw new InvalidInputException(
          "the face attribute models can't take this image: " + e.getMessage());
    }
    return Outputs.json(new Faces(faces));
  }

  /**
   * The square crop around a face box, normalized as {@code tf.image.cropAndResize} takes it: {y1,
   * x1, y2, x2}, 0..1 spanning pixel centres 0..size-1.
   */
  static double[] crop(Box face, int width, int height) {
    double side = CROP_SCALE * Math.max(face.width(), face.height());
    double cx = face.centerX();
    double cy = face.centerY();
    return new double[] {
      (cy - side / 2) / (height - 1),
      (cx - side / 2) / (width - 1),
      (cy + side / 2) / (height - 1),
      (cx + side / 2) / (width - 1)
    };
  }

  /** The attribute models' outputs for one crop ({y1, x1, y2, x2}, as {@link #crop} makes). */
  Raw raw(RgbaImage img, double[] crop) throws FeedRejectedException {
    // FaceRes takes the face as 0..255 RGB
    float[] face = Sampling.crop(img, crop[0], crop[1], crop[2], crop[3], 224);
    Map<String, FloatTensor> res = faceres.runAll(FloatTensor.image(224, 224, 3, face));
    float gender = Float.NaN;
    float[] age = null;
    for (FloatTensor t : res.values()) {
      long last = t.shape()[t.shape().length - 1];
      if (last == 1) {
        gender = t.data()[0];
      } else if (last == 100) {
        age = t.data();
      }
    }
    if (Float.isNaN(gender) || age == null) {
      throw new IllegalStateException("faceres gave no [1,1] gender or [1,100] age output");
    }
    // the emotion model takes greyscale scaled to [-1, 1]
    float[] small = Sampling.crop(img, crop[0], crop[1], crop[2], crop[3], 64);
    float[] grey = new float[64 * 64];
    for (int i = 0; i < grey.length; i++) {
      float g =
          GREY[0] * (small[i * 3] / 255f)
              + GREY[1] * (small[i * 3 + 1] / 255f)
              + GREY[2] * (small[i * 3 + 2] / 255f);
      grey[i] = (g - 0.5f) * 2;
    }
    float[] emotions = emotion.run(FloatTensor.image(64, 64, 1, grey)).data();
    if (emotions.length != EMOTIONS.size()) {
      throw new IllegalStateException("emotion model gave " + emotions.length + " classes");
    }
    return new Raw(gender, age, emotions);
  }

  /**
   * Age in years from FaceRes's 100 one-year classes: the likeliest year, moved towards its
   * likelier neighbour by ten times that neighbour's probability (vladmandic/human's estimate).
   */
  static double age(float[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    double lo = best > 0 ? p[best - 1] : 0;
    double hi = best < p.length - 1 ? p[best + 1] : 0;
    return lo > hi ? best - 10 * lo : best + 10 * hi;
  }

  @Override
  public void close() {
    detector.close();
    faceres.close();
    emotion.close();
  }
}
