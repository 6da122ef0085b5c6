package io.retina.workers.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageDecoderTest {

  private static byte[] encode(BufferedImage img, String format) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(img, format, out), "no " + format + " writer");
    return out.toByteArray();
  }

  private static int[] rgbaAt(RgbaImage img, int x, int y) {
    int o = (y * img.width() + x) * 4;
    byte[] p = img.rgba();
    return new int[] {p[o] & 0xff, p[o + 1] & 0xff, p[o + 2] & 0xff, p[o + 3] & 0xff};
  }

  /**
   * The layouts the PNG and JPEG readers give for ordinary photos are copied straight from their
   * bytes; the result is what the colour model's own conversion gives, pixel for pixel, with and
   * without alpha, for PNG and JPEG, and on a sub-image whose raster starts inside its buffer.
   */
  @Test
  void theDirectCopyGivesWhatTheColourModelGives() throws Exception {
    Random r = new Random(5);
    BufferedImage rgba = new BufferedImage(31, 17, BufferedImage.TYPE_INT_ARGB);
    BufferedImage rgb = new BufferedImage(31, 17, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 17; y++) {
      for (int x = 0; x < 31; x++) {
        rgba.setRGB(x, y, r.nextInt());
        rgb.setRGB(x, y, r.nextInt());
      }
    }
    BufferedImage[] decoded = {
      ImageIO.read(new java.io.ByteArrayInputStream(encode(rgba, "png"))),
      ImageIO.read(new java.io.ByteArrayInputStream(encode(rgb, "png"))),
      ImageIO.read(new java.io.ByteArrayInputStream(encode(rgb, "jpeg"))),
    };
    assertEquals(BufferedImage.TYPE_4BYTE_ABGR, decoded[0].getType());
    assertEquals(BufferedImage.TYPE_3BYTE_BGR, decoded[1].getType());
    assertEquals(BufferedImage.TYPE_3BYTE_BGR, decoded[2].getType());
    for (BufferedImage image :
        new BufferedImage[] {
          decoded[0], decoded[1], decoded[2], decoded[0].getSubimage(3, 2, 20, 11)
        }) {
      RgbaImage img = ImageDecoder.toRgba(image);
      assertEquals(image.getColorModel().hasAlpha(), img.hasAlpha());
      for (int y = 0; y < image.getHeight(); y++) {
        for (int x = 0; x < image.getWidth(); x++) {
          int argb = image.getRGB(x, y);
          int[] expected = {
            argb >> 16 & 0xff, argb >> 8 & 0xff, argb & 0xff, img.hasAlpha() ? argb >>> 24 : 255
          };
          assertArrayEquals4(expected, rgbaAt(img, x, y));
        }
      }
    }
  }

  @Test
  void decodesSixteenBitGreyPngWithoutChangingItsTone() throws Exception {
    BufferedImage grey = new BufferedImage(3, 1, BufferedImage.TYPE_USHORT_GRAY);
    grey.getRaster().setPixels(0, 0, 3, 1, new int[] {0, 32896, 65535});
    RgbaImage img = ImageDecoder.decode(encode(grey, "png"));
    assertArrayEquals4(new int[] {128, 128, 128, 255}, rgbaAt(img, 1, 0));
    assertArrayEquals4(new int[] {255, 255, 255, 255}, rgbaAt(img, 2, 0));
    assertFalse(img.hasAlpha());
  }

  @Test
  void decodesPalettePngWithTransparency() throws Exception {
    byte[] r = {(byte) 255, 0};
    byte[] g = {0, 0};
    byte[] b = {0, (byte) 255};
    byte[] a = {(byte) 255, 0};
    BufferedImage indexed =
        new BufferedImage(
            2, 1, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 2, r, g, b, a));
    indexed.getRaster().setPixels(0, 0, 2, 1, new int[] {0, 1});
    RgbaImage img = ImageDecoder.decode(encode(indexed, "png"));
    assertTrue(img.hasAlpha());
    assertArrayEquals4(new int[] {255, 0, 0, 255}, rgbaAt(img, 0, 0));
    assertEquals(0, rgbaAt(img, 1, 0)[3]);
  }

  @Test
  void decodesJpeg() throws Exception {
    RgbaImage img = ImageDecoder.decode(encode(halves(32, 16), "jpeg"));
    assertEquals(32, img.width());
    assertEquals(16, img.height());
    assertTrue(rgbaAt(img, 4, 8)[0] > 200, "left is red");
    assertTrue(rgbaAt(img, 28, 8)[2] > 200, "right is blue");
  }

  @Test
  void decodesLosslessWebp() throws Exception {
    boolean[] white = new boolean[4 * 3];
    for (int i = 0; i < white.length; i++) {
      white[i] = (i % 4 + i / 4) % 2 == 0;
    }
    RgbaImage img = ImageDecoder.decode(TinyWebp.lossless(4, 3, white));
    assertEquals(4, img.width());
    assertEquals(3, img.height());
    for (int i = 0; i < white.length; i++) {
      int v = white[i] ? 255 : 0;
      assertArrayEquals4(new int[] {v, v, v, 255}, rgbaAt(img, i % 4, i / 4));
    }
  }

  @Test
  void turnsAJpegUprightPerItsExifOrientation() throws Exception {
    byte[] jpeg = encode(halves(32, 16), "jpeg");
    RgbaImage img = ImageDecoder.decode(withExifOrientation(jpeg, 6)); // rotate 90 clockwise
    assertEquals(16, img.width());
    assertEquals(32, img.height());
    assertTrue(rgbaAt(img, 8, 4)[0] > 200, "the left (red) half is now on top");
    assertTrue(rgbaAt(img, 8, 28)[2] > 200, "the right (blue) half is now at the bottom");
  }

  @Test
  void garbageIsUnreadable() {
    assertThrows(UnreadableImageException.class, () -> ImageDecoder.decode(new byte[0]));
    assertThrows(
        UnreadableImageException.class,
        () -> ImageDecoder.decode("GIF89a? no".getBytes(StandardCharsets.US_ASCII)));
    assertThrows(
        UnreadableImageException.class,
        () -> ImageDecoder.decode(new byte[] {(byte) 0xFF, (byte) 0xD8, 1}));
  }

  @Test
  void truncatedPngIsUnreadable() throws Exception {
    byte[] png = encode(noise(64, 64), "png");
    assertThrows(
        UnreadableImageException.class,
        () -> ImageDecoder.decode(Arrays.copyOf(png, png.length / 2)));
  }

  @Test
  void truncatedJpegIsUnreadable() throws Exception {
    byte[] jpeg = encode(noise(64, 64), "jpeg");
    assertThrows(
        UnreadableImageException.class,
        () -> ImageDecoder.decode(Arrays.copyOf(jpeg, jpeg.length / 2)));
  }

  @Test
  void truncatedWebpIsUnreadable() throws Exception {
    byte[] webp = TinyWebp.lossless(4, 3, new boolean[12]);
    assertThrows(
        UnreadableImageException.class, () -> ImageDecoder.decode(Arrays.copyOf(webp, 20)));
  }

  private static BufferedImage halves(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.RED);
    g.fillRect(0, 0, w / 2, h);
    g.setColor(Color.BLUE);
    g.fillRect(w / 2, 0, w - w / 2, h);
    g.dispose();
    return img;
  }

  private static BufferedImage noise(int w, int h) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
    WritableRaster r = img.getRaster();
    Random random = new Random(42);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        r.setPixel(x, y, new int[] {random.nextInt(256), random.nextInt(256), random.nextInt(256)});
      }
    }
    return img;
  }

  /** The JPEG with an APP1 EXIF segment (big-endian TIFF, one IFD0 entry) right after SOI. */
  private static byte[] withExifOrientation(byte[] jpeg, int orientation) {
    byte[] tiff = {
      'M',
      'M',
      0,
      42,
      0,
      0,
      0,
      8, // header, IFD0 at 8
      0,
      1, // one entry
      0x01,
      0x12,
      0,
      3,
      0,
      0,
      0,
      1,
      0,
      (byte) orientation,
      0,
      0, // orientation, SHORT, 1
      0,
      0,
      0,
      0 // no next IFD
    };
    int length = 2 + 6 + tiff.length;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, 2);
    out.write(0xFF);
    out.write(0xE1);
    out.write(length >> 8);
    out.write(length & 0xff);
    out.writeBytes(new byte[] {'E', 'x', 'i', 'f', 0, 0});
    out.writeBytes(tiff);
    out.write(jpeg, 2, jpeg.length - 2);
    return out.toByteArray();
  }

  private static void assertArrayEquals4(int[] expected, int[] actual) {
    assertEquals(Arrays.toString(expected), Arrays.toString(actual));
  }
}
