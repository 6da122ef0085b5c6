package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.RgbaImage;
import io.retina.workers.tasks.vision.Box;
import io.retina.workers.tfjs.ModelCacheFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The anonymize task on real photos of people (face-api's demo photos, several of them groups):
 * after it, face detection finds no face at its own default floor, and every pixel away from the
 * faces is as it was.
 */
class AnonymizeTaskTest {
  private static AnonymizeTask anonymize;
  private static FaceDetectionTask detection;

  @BeforeAll
  static void load() throws Exception {
    Map<String, String> options = Map.of("model", "models/blazeface.json");
    anonymize =
        (AnonymizeTask) ImageTasks.load("anonymize", ModelCacheFixtures.humanModels(), options);
    detection =
        (FaceDetectionTask)
            ImageTasks.load("face-detection", ModelCacheFixtures.humanModels(), options);
  }

  @AfterAll
  static void close() {
    anonymize.close();
    detection.close();
  }

  static List<Path> photos() {
    Path demo = ModelCacheFixtures.cache().resolve("vladmandic_face-api_1.7.15/demo");
    return List.of(1, 2, 3, 4, 5, 6).stream()
        .map(i -> demo.resolve("sample" + i + ".jpg"))
        .toList();
  }

  @Test
  void noFaceIsFoundAfterwardsAndNothingElseChanges() throws Exception {
    int facesBefore = 0;
    for (String style : List.of("pixelate", "blur")) {
      // every photo pixelated (the default), two of them blurred: the search is the same
      for (Path photo : style.equals("pixelate") ? photos() : photos().subList(1, 3)) {
        byte[] jpeg = Files.readAllBytes(photo);
        RgbaImage in = ImageDecoder.decode(jpeg);
        int before = detection.detect(in, 0.5).size();
        AnonymizeTask.Anonymized done = anonymize.anonymize(in, 0.3, 25, style);
        List<Box> covered = done.covered();
        RgbaImage out = done.image();
        if (photo.equals(photos().get(0))) {
          // what a job gets is the same image, encoded
          RgbaImage served =
              ImageDecoder.decode(
                  anonymize.run(jpeg, Map.of("style", style, "format", "png")).body());
          assertTrue(java.util.Arrays.equals(out.rgba(), served.rgba()), "the job's output");
        }
        var afterFaces = detection.detect(out, 0.5);
        int after = afterFaces.size();
        int changedAway = 0;
        for (int y = 0; y < in.height(); y++) {
          for (int x = 0; x < in.width(); x++) {
            if (!inside(covered, x, y, 0.25)) {
              int at = (y * in.width() + x) * 4;
              for (int c = 0; c < 3; c++) {
                changedAway += in.rgba()[at + c] != out.rgba()[at + c] ? 1 : 0;
              }
            }
          }
        }
        System.out.printf(
            "%s %s: %d faces found before, %d boxes covered, %d found after%n",
            style, photo.getFileName(), before, covered.size(), after);
        assertTrue(covered.size() >= before, photo + ": covers fewer than face detection finds");
        assertEquals(0, after, style + " " + photo + ": a face is still found");
        assertEquals(0, changedAway, photo + ": pixels away from the faces changed");
        facesBefore += before;
      }
    }
    assertTrue(facesBefore >= 25, "the photos hold faces to hide: " + facesBefore);
  }

  private static boolean inside(List<Box> boxes, int x, int y, double margin) {
    for (Box b : boxes) {
      double mx = b.width() * margin + 1;
      double my = b.height() * margin + 1;
      if (x >= b.x1() - mx && x < b.x2() + mx && y >= b.y1() - my && y < b.y2() + my) {
        return true;
      }
    }
    return false;
  }

  @Test
  void parametersAreChecked() throws Exception {
    byte[] jpeg = Files.readAllBytes(photos().get(0));
    for (Map<String, String> bad :
        List.of(
            Map.of("style", "smudge"),
            Map.of("margin", "101"),
            Map.of("margin", "-1"),
            Map.of("min_score", "0.9"),
            Map.of("format", "gif"))) {
      assertThrows(InvalidInputException.class, () -> anonymize.run(jpeg, bad), bad.toString());
    }
  }
}
