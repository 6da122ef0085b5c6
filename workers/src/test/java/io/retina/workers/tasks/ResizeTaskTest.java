package io.retina.workers.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.retina.workers.imaging.ImageDecoder;
import io.retina.workers.imaging.PngEncoder;
import io.retina.workers.imaging.RgbaImage;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The resize task: each fit's size and framing, format conversion, and refused parameters. */
class ResizeTaskTest {

  private static final ImageTask TASK = load();

  private static ImageTask load() {
    try {
      return ImageTasks.load("resize", (Path) null, Map.of());
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static TaskOutput run(RgbaImage input, String... params) throws Exception {
    Map<String, String> p = new HashMap<>();
    for (int i = 0; i < params.length; i += 2) {
      p.put(params[i], params[i + 1]);
    }
    return TASK.run(PngEncoder.encode(input, input.hasAlpha()), p);
  }

  private static RgbaImage resized(RgbaImage input, String... params) throws Exception {
    TaskOutput out = run(input, params);
    assertEquals("image/png", out.mediaType(), "PNG unless asked otherwise");
    return ImageDecoder.decode(out.body());
  }

  @Test
  void containFitsInsideTheBoxKeepingTheAspect() throws Exception {
    RgbaImage wide = ImageFixtures.pattern(64, 32, false);
    assertSize(16, 8, resized(wide, "width", "16", "height", "16", "fit", "contain"));
    assertSize(32, 16, resized(wide, "width", "100", "height", "16"));
    RgbaImage tall = ImageFixtures.pattern(30, 90, false);
    assertSize(10, 30, resized(tall, "width", "20", "height", "30"));
    // a small photo is enlarged to the box too
    assertSize(500, 250, resized(wide, "width", "500", "height", "500"));
    // at least a pixel, however thin the photo
    assertSize(1, 40, resized(ImageFixtures.pattern(1, 400, false), "width", "40", "height", "40"));
  }

  @Test
  void containIsTheDefaultFitAnd1024TheDefaultBox() throws Exception {
    assertSize(1024, 512, resized(ImageFixtures.pattern(64, 32, false)));
  }

  @Test
  void fillStretchesToExactlyTheBox() throws Exception {
    assertSize(
        10,
        40,
        resized(
            ImageFixtures.pattern(64, 32, false), "width", "10", "height", "40", "fit", "fill"));
  }

  @Test
  void coverFillsTheBoxAndCropsTheOverflowFromTheMiddle() throws Exception {
    // thirds: red, green, blue; the middle square of a 3:1 photo is the green third
    RgbaImage thirds = bands(90, 30, true);
    RgbaImage out = resized(thirds, "width", "20", "height", "20", "fit", "cover");
    assertSize(20, 20, out);
    for (int y = 0; y < 20; y++) {
      for (int x = 2; x < 18; x++) {
        assertEquals(0xff00ff00, argb(out, x, y), "at " + x + "," + y);
      }
    }
    // the same across the other axis: the green third of a 1:3 photo
    RgbaImage turned = resized(bands(30, 90, false), "width", "20", "height", "20", "fit", "cover");
    assertEquals(0xff00ff00, argb(turned, 10, 10));
    assertEquals(0xff00ff00, argb(turned, 10, 3));
  }

  @Test
  void coverKeepsTheAspectWhereFillStretches() throws Exception {
    // an 8-pixel black stripe in the middle of an 80x40 white photo
    RgbaImage stripe = stripe(80, 40, 36, 44);
    // cover 20x20 takes the middle 40x40 at half size: the stripe is 4 wide
    RgbaImage covered = resized(stripe, "width", "20", "height", "20", "fit", "cover");
    assertEquals(4, darkColumns(covered, 10));
    // fill 20x20 halves the height but quarters the width: the stripe is 2 wide
    RgbaImage filled = resized(stripe, "width", "20", "height", "20", "fit", "fill");
    assertEquals(2, darkColumns(filled, 10));
  }

  @Test
  void theSameSizeChangesNoVisiblePixel() throws Exception {
    // alpha from 0 on the left to 255 on the right: only the fully transparent column loses its
    // colour, which nothing shows
    RgbaImage photo = ImageFixtures.pattern(37, 23, true);
    RgbaImage out = resized(photo, "width", "37", "height", "23", "fit", "fill");
    List<String> changed = new java.util.ArrayList<>();
    for (int i = 0; i < photo.pixels(); i++) {
      int before = argb(photo, i % 37, i / 37);
      int after = argb(out, i % 37, i / 37);
      if (before != after && before >>> 24 != 0) {
        changed.add(i + ": " + hex(before) + " -> " + hex(after));
      }
    }
    assertEquals(List.of(), changed);
  }

  @Test
  void shrinkingAveragesRatherThanPicking() throws Exception {
    // one-pixel black and white checks: any point sample is black or white, their average grey
    byte[] px = new byte[64 * 64 * 4];
    for (int i = 0; i < 64 * 64; i++) {
      byte v = (byte) (((i % 64) + (i / 64)) % 2 == 0 ? 0 : 255);
      px[i * 4] = v;
      px[i * 4 + 1] = v;
      px[i * 4 + 2] = v;
      px[i * 4 + 3] = (byte) 255;
    }
    RgbaImage out =
        resized(new RgbaImage(64, 64, px, false), "width", "7", "height", "7", "fit", "fill");
    for (int i = 0; i < out.pixels(); i++) {
      int v = out.rgba()[i * 4] & 0xff;
      assertTrue(Math.abs(v - 128) <= 8, "pixel " + i + " is " + v + ", not mid-grey");
    }
  }

  @Test
  void transparencyIsKeptAndLendsNoColour() throws Exception {
    // left half fully transparent red, right half opaque blue
    byte[] px = new byte[8 * 2 * 4];
    for (int i = 0; i < 16; i++) {
      boolean left = i % 8 < 4;
      px[i * 4] = (byte) (left ? 255 : 0);
      px[i * 4 + 2] = (byte) (left ? 0 : 255);
      px[i * 4 + 3] = (byte) (left ? 0 : 255);
    }
    RgbaImage out =
        resized(new RgbaImage(8, 2, px, true), "width", "4", "height", "1", "fit", "fill");
    assertTrue(out.hasAlpha());
    int edge = argb(out, 1, 0); // reads both halves
    assertTrue(edge >>> 24 > 0 && edge >>> 24 < 255, "partly transparent: " + hex(edge));
    assertEquals(0x0000ff, edge & 0xffffff, "blue only, no red: " + hex(edge));
    assertEquals(0, argb(out, 0, 0) >>> 24);
  }

  @Test
  void convertsToJpegOfTheSizeAsked() throws Exception {
    TaskOutput out =
        run(
            ImageFixtures.pattern(64, 64, false),
            "width",
            "32",
            "height",
            "16",
            "fit",
            "fill",
            "format",
            "jpeg");
    assertEquals("image/jpeg", out.mediaType());
    assertEquals(0xFF, out.body()[0] & 0xff);
    assertEquals(0xD8, out.body()[1] & 0xff);
    assertSize(32, 16, ImageDecoder.decode(out.body()));
  }

  @Test
  void aLowerJpegQualityGivesFewerBytes() throws Exception {
    RgbaImage photo = ImageFixtures.pattern(200, 150, false);
    int low =
        run(photo, "width", "200", "height", "150", "format", "jpeg", "quality", "20")
            .body()
            .length;
    int high =
        run(photo, "width", "200", "height", "150", "format", "jpeg", "quality", "95")
            .body()
            .length;
    assertTrue(low < high * 0.7, "quality 20: " + low + " bytes, 95: " + high);
  }

  @Test
  void aJpegOfATransparentPhotoIsFlattenedOntoWhite() throws Exception {
    byte[] px = new byte[16 * 16 * 4]; // transparent black
    TaskOutput out =
        run(new RgbaImage(16, 16, px, true), "width", "16", "height", "16", "format", "jpeg");
    RgbaImage back = ImageDecoder.decode(out.body());
    assertTrue((back.rgba()[0] & 0xff) > 250, "white, not the transparent pixels' black");
  }

  @Test
  void refusesParametersOutsideTheirValues() {
    RgbaImage photo = ImageFixtures.pattern(8, 8, false);
    for (List<String> bad :
        List.of(
            List.of("width", "0"),
            List.of("width", "4097"),
            List.of("height", "08"),
            List.of("height", "-5"),
            List.of("fit", "stretch"),
            List.of("format", "webp"),
            List.of("quality", "0"),
            List.of("quality", "101"))) {
      InvalidInputException e =
          assertThrows(
              InvalidInputException.class,
              () -> run(photo, bad.get(0), bad.get(1)),
              bad.toString());
      assertTrue(e.getMessage().contains("'" + bad.get(0) + "'"), e.getMessage());
    }
  }

  private static void assertSize(int width, int height, RgbaImage img) {
    assertEquals(width + "x" + height, img.width() + "x" + img.height());
  }

  private static int argb(RgbaImage img, int x, int y) {
    int o = (y * img.width() + x) * 4;
    byte[] p = img.rgba();
    return (p[o + 3] & 0xff) << 24 | (p[o] & 0xff) << 16 | (p[o + 1] & 0xff) << 8 | p[o + 2] & 0xff;
  }

  private static String hex(int argb) {
    return String.format("%08x", argb);
  }

  /** Red, green and blue thirds, across the longer side. */
  private static RgbaImage bands(int w, int h, boolean acrossWidth) {
    byte[] px = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int third = acrossWidth ? x * 3 / w : y * 3 / h;
        int o = (y * w + x) * 4;
        px[o + third] = (byte) 255;
        px[o + 3] = (byte) 255;
      }
    }
    return new RgbaImage(w, h, px, false);
  }

  /** White, with black columns {@code from} to {@code to} (exclusive). */
  private static RgbaImage stripe(int w, int h, int from, int to) {
    byte[] px = new byte[w * h * 4];
    for (int i = 0; i < w * h; i++) {
      byte v = (byte) (i % w >= from && i % w < to ? 0 : 255);
      px[i * 4] = v;
      px[i * 4 + 1] = v;
      px[i * 4 + 2] = v;
      px[i * 4 + 3] = (byte) 255;
    }
    return new RgbaImage(w, h, px, false);
  }

  /** How many pixels of row {@code y} are darker than mid-grey. */
  private static int darkColumns(RgbaImage img, int y) {
    int dark = 0;
    for (int x = 0; x < img.width(); x++) {
      dark += (img.rgba()[(y * img.width() + x) * 4] & 0xff) < 128 ? 1 : 0;
    }
    return dark;
  }
}
