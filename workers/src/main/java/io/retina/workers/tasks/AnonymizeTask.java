package io.retina.workers.tasks;

import io.retina.workers.budget.WorkBudget;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.Box;
import io.retina.workers.tasks.vision.FaceDetector;
import io.retina.workers.tasks.vision.ModelSource;
import io.retina.workers.tfjs.FeedRejectedException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Anonymizes a photo: every face the detector (BlazeFace) finds is pixelated or blurred, with a
 * margin around it, and nothing else is touched, so that tenants can publish photos of people.
 *
 * <p>BlazeFace looks at the photo shrunk to 256x256, where the faces of a group photo can be a few
 * pixels wide. A face left clear is the failure that matters here, so the photo is searched whole
 * and again in overlapping tiles (a 2x2 grid, then a 3x3 grid on photos over 1200 pixels a side)
 * with a lower score floor than face detection's default; every box found anywhere is covered.
 * Pixelation averages blocks of about a third of the face; blur is three box blurs of about a sixth
 * of it (close to a Gaussian). The result is searched again, and what is still found is covered
 * more coarsely ({@link #anonymize}). Stateless beside the detector; thread-safe.
 */
final class AnonymizeTask implements ImageTask {

  static final List<String> STYLES = List.of("pixelate", "blur");

  /** The score floors a tenant may ask for; lower than face detection's, to leave no face clear. */
  static final List<String> MIN_SCORES = List.of("0.2", "0.3", "0.5");

  static final String DEFAULT_MIN_SCORE = "0.3";

  /** The margin added on every side of a face, in percent of its size, by default. */
  static final int DEFAULT_MARGIN = 25;

  /** Photos with a longer side than this are also searched in a 3x3 grid of tiles. */
  static final int FINE_GRID_ABOVE = 1200;

  private final FaceDetector detector;

  private AnonymizeTask(FaceDetector detector) {
    this.detector = detector;
  }

  /** Loads the "model" option's BlazeFace. */
  static AnonymizeTask load(ModelSource models) throws IOException {
    return new AnonymizeTask(FaceDetector.of(models.load("model")));
  }

  @Override
  public TaskOutput run(byte[] encodedImage, Map<String, String> params)
      throws InvalidInputException {
    String style = Inputs.choice(params, "style", STYLES, "pixelate");
    int margin = Inputs.whole(params, "margin", 0, 100, DEFAULT_MARGIN);
    double minScore =
        Double.parseDouble(Inputs.choice(params, "min_score", MIN_SCORES, DEFAULT_MIN_SCORE));
    Outputs.check(params);
    RgbaImage img = Inputs.decode(encodedImage);
    return Outputs.image(anonymize(img, minScore, margin, style).image(), params);
  }

  /**
   * Rounds of search and cover: what was covered changes what the detector sees, and a covered face
   * can still look like one to it, so the result is searched again and whatever is found is covered
   * more coarsely, until nothing is found or {@link #ROUNDS} rounds have run.
   */
  Anonymized anonymize(RgbaImage img, double minScore, int margin, String style)
      throws InvalidInputException {
    byte[] px = img.rgba().clone();
    List<Box> covered = new ArrayList<>();
    RgbaImage current = img;
    for (int round = 0; round < ROUNDS; round++) {
      List<Box> found = faces(current, minScore);
      if (found.isEmpty()) {
        break;
      }
      for (Box face : found) {
        cover(px, img.width(), img.height(), face, margin, style, round);
      }
      covered.addAll(found);
      current = new RgbaImage(img.width(), img.height(), px, img.hasAlpha());
    }
    return new Anonymized(current, covered);
  }

  /** The photo with its faces covered, and the boxes covered (before their margin). */
  record Anonymized(RgbaImage image, List<Box> covered) {}

  /** At most this many rounds of search and cover. */
  static final int ROUNDS = 3;

  /** Every face found in the photo whole and in its tiles, in the photo's pixels. */
  List<Box> faces(RgbaImage img, double minScore) throws InvalidInputException {
    List<Box> found = new ArrayList<>(detect(img, minScore, 0, 0));
    int grids = Math.max(img.width(), img.height()) > FINE_GRID_ABOVE ? 3 : 2;
    for (int n = 2; n <= grids; n++) {
      // n tiles a side, each a 1/n share of the side plus a quarter tile of overlap
      int tw = Math.min(img.width(), (int) Math.ceil(img.width() / (double) n * 1.25));
      int th = Math.min(img.height(), (int) Math.ceil(img.height() / (double) n * 1.25));
      for (int ty = 0; ty < n; ty++) {
        for (int tx = 0; tx < n; tx++) {
          WorkBudget.current().check();
          int x0 = n == 1 ? 0 : (int) Math.round((img.width() - tw) * tx / (double) (n - 1));
          int y0 = n == 1 ? 0 : (int) Math.round((img.height() - th) * ty / (double) (n - 1));
          found.addAll(detect(crop(img, x0, y0, tw, th), minScore, x0, y0));
        }
      }
    }
    return found;
  }

  private List<Box> detect(RgbaImage img, double minScore, int dx, int dy)
      throws InvalidInputException {
    try {
      return detector.detect(img, minScore).stream()
          .map(
              f ->
                  new Box(
                      f.box().x1() + dx, f.box().y1() + dy, f.box().x2() + dx, f.box().y2() + dy))
          .toList();
    } catch (FeedRejectedException e) {
      throw new InvalidInputException(
          "the face detection model can't take this image: " + e.getMessage());
    }
  }

  static RgbaImage crop(RgbaImage img, int x0, int y0, int w, int h) {
    byte[] out = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      System.arraycopy(img.rgba(), ((y0 + y) * img.width() + x0) * 4, out, y * w * 4, w * 4);
    }
    return new RgbaImage(w, h, out, img.hasAlpha());
  }

  /**
   * Pixelates or blurs the face's box grown by {@code margin} percent on every side: blocks of a
   * third of the face in the first round, a half and then all of it in later ones; a blur radius of
   * a sixth of it, then a quarter and a half.
   */
  static void cover(
      byte[] px, int width, int height, Box face, int margin, String style, int round) {
    double grow = margin / 100.0;
    int x1 = clamp((int) Math.floor(face.x1() - face.width() * grow), width);
    int y1 = clamp((int) Math.floor(face.y1() - face.height() * grow), height);
    int x2 = clamp((int) Math.ceil(face.x2() + face.width() * grow), width);
    int y2 = clamp((int) Math.ceil(face.y2() + face.height() * grow), height);
    if (x2 <= x1 || y2 <= y1) {
      return;
    }
    double size = Math.max(face.width(), face.height());
    if (style.equals("blur")) {
      int r = Math.max(2, (int) Math.round(size / new int[] {6, 4, 2}[round]));
      for (int pass = 0; pass < 3; pass++) {
        boxBlur(px, width, x1, y1, x2, y2, r);
      }
    } else {
      int block = Math.max(4, (int) Math.round(size / new int[] {3, 2, 1}[round]));
      pixelate(px, width, x1, y1, x2, y2, block);
    }
  }

  /** Each {@code block x block} square of the region (clipped at its edges) takes its mean. */
  static void pixelate(byte[] px, int width, int x1, int y1, int x2, int y2, int block) {
    for (int by = y1; by < y2; by += block) {
      for (int bx = x1; bx < x2; bx += block) {
        int ex = Math.min(bx + block, x2);
        int ey = Math.min(by + block, y2);
        long[] sum = new long[4];
        for (int y = by; y < ey; y++) {
          for (int x = bx; x < ex; x++) {
            int at = (y * width + x) * 4;
            for (int c = 0; c < 4; c++) {
              sum[c] += px[at + c] & 0xff;
            }
          }
        }
        int n = (ex - bx) * (ey - by);
        for (int y = by; y < ey; y++) {
          for (int x = bx; x < ex; x++) {
            int at = (y * width + x) * 4;
            for (int c = 0; c < 4; c++) {
              px[at + c] = (byte) Math.round(sum[c] / (double) n);
            }
          }
        }
      }
    }
  }

  /**
   * A box blur of radius {@code r} inside the region, across then down, edges repeated; a running
   * sum, so the cost does not grow with the radius.
   */
  static void boxBlur(byte[] px, int width, int x1, int y1, int x2, int y2, int r) {
    int w = x2 - x1;
    int h = y2 - y1;
    float[] line = new float[Math.max(w, h) * 4];
    for (int y = y1; y < y2; y++) {
      int base = y * width + x1;
      blurLine(px, line, w, r, i -> (base + i) * 4);
    }
    for (int x = x1; x < x2; x++) {
      int col = x;
      blurLine(px, line, h, r, i -> ((y1 + i) * width + col) * 4);
    }
  }

  /** Blurs the {@code n} pixels at {@code at(0..n-1)} in place, with {@code line} as scratch. */
  private static void blurLine(
      byte[] px, float[] line, int n, int r, java.util.function.IntUnaryOperator at) {
    for (int i = 0; i < n; i++) {
      int p = at.applyAsInt(i);
      for (int c = 0; c < 4; c++) {
        line[i * 4 + c] = px[p + c] & 0xff;
      }
    }
    float div = 2 * r + 1;
    for (int c = 0; c < 4; c++) {
      float sum = 0;
      for (int k = -r; k <= r; k++) {
        sum += line[Math.max(0, Math.min(n - 1, k)) * 4 + c];
      }
      for (int i = 0; i < n; i++) {
        px[at.applyAsInt(i) + c] = (byte) Math.round(sum / div);
        sum += line[Math.min(n - 1, i + r + 1) * 4 + c] - line[Math.max(0, i - r) * 4 + c];
      }
    }
  }

  private static int clamp(int v, int size) {
    return Math.max(0, Math.min(v, size));
  }

  @Override
  public void close() {
    detector.close();
  }
}
