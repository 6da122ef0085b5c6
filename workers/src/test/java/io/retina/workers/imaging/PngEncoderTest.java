package io.retina.workers.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class PngEncoderTest {

  private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  /**
   * Gradients, a sharp edge and noise, so that every filter meets both rows it predicts well and
   * rows it doesn't; alpha takes every value, 0 and 255 included, and transparent pixels keep
   * colours of their own.
   */
  static RgbaImage photoLike(int w, int h, boolean alpha, long seed) {
    Random random = new Random(seed);
    byte[] px = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int o = (y * w + x) * 4;
        int noise = random.nextInt(9) - 4;
        px[o] = (byte) (x * 255 / Math.max(1, w - 1) + noise);
        px[o + 1] = (byte) (y * 7 + (x > w / 2 ? 90 : 0));
        px[o + 2] = (byte) random.nextInt(256);
        px[o + 3] = alpha ? (byte) ((x * 31 + y * 17) % 256) : (byte) 255;
      }
    }
    return new RgbaImage(w, h, px, alpha);
  }

  private static BufferedImage imageIoRead(byte[] png) throws Exception {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertTrue(img != null, "ImageIO found no reader for the output");
    return img;
  }

  /** The RGB bytes of an image with its alpha dropped, as an RGB PNG should decode. */
  static byte[] opaque(RgbaImage img) {
    byte[] px = img.rgba().clone();
    for (int i = 3; i < px.length; i += 4) {
      px[i] = (byte) 255;
    }
    return px;
  }

  /** ImageIO's pixels as RGBA bytes; getRGB does not convert colour for 8-bit RGB(A). */
  private static byte[] rgbaOf(BufferedImage img) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
    byte[] px = new byte[w * h * 4];
    for (int i = 0; i < argb.length; i++) {
      px[i * 4] = (byte) (argb[i] >> 16);
      px[i * 4 + 1] = (byte) (argb[i] >> 8);
      px[i * 4 + 2] = (byte) argb[i];
      px[i * 4 + 3] = (byte) (argb[i] >>> 24);
    }
    return px;
  }

  record Chunk(String type, byte[] data) {}

  /** Splits a PNG into its chunks after checking the signature and every chunk's CRC. */
  static List<Chunk> chunks(byte[] png) {
    assertArrayEquals(SIGNATURE, Arrays.copyOf(png, 8), "PNG signature");
    ByteBuffer in = ByteBuffer.wrap(png, 8, png.length - 8);
    List<Chunk> chunks = new ArrayList<>();
    while (in.hasRemaining()) {
      int length = in.getInt();
      byte[] typeAndData = new byte[4 + length];
      in.get(typeAndData);
      CRC32 crc = new CRC32();
      crc.update(typeAndData);
      String type = new String(typeAndData, 0, 4, StandardCharsets.US_ASCII);
      assertEquals((int) crc.getValue(), in.getInt(), "CRC of " + type);
      chunks.add(new Chunk(type, Arrays.copyOfRange(typeAndData, 4, typeAndData.length)));
    }
    return chunks;
  }

  @Test
  void rgbDecodesToTheSamePixelsWithImageIo() throws Exception {
    RgbaImage img = photoLike(64, 48, false, 1);
    BufferedImage read = imageIoRead(PngEncoder.encode(img, false));
    assertFalse(read.getColorModel().hasAlpha());
    assertArrayEquals(img.rgba(), rgbaOf(read));
  }

  @Test
  void rgbDecodesToTheSamePixelsWithImageDecoder() throws Exception {
    RgbaImage img = photoLike(64, 48, false, 2);
    RgbaImage read = ImageDecoder.decode(PngEncoder.encode(img, false));
    assertFalse(read.hasAlpha());
    assertArrayEquals(img.rgba(), read.rgba());
  }

  @Test
  void encodingWithoutAlphaDropsItAndKeepsTheColours() throws Exception {
    RgbaImage img = photoLike(40, 30, true, 3);
    RgbaImage read = ImageDecoder.decode(PngEncoder.encode(img, false));
    assertFalse(read.hasAlpha());
    assertArrayEquals(opaque(img), read.rgba());
  }

  @Test
  void rgbaWithTransparentAndSemiTransparentPixelsDecodesExactlyWithImageIo() throws Exception {
    RgbaImage img = photoLike(64, 48, true, 4);
    BufferedImage read = imageIoRead(PngEncoder.encode(img, true));
    assertTrue(read.getColorModel().hasAlpha());
    assertFalse(read.getColorModel().isAlphaPremultiplied());
    assertArrayEquals(img.rgba(), rgbaOf(read));
  }

  @Test
  void rgbaWithTransparentAndSemiTransparentPixelsDecodesExactlyWithImageDecoder()
      throws Exception {
    RgbaImage img = photoLike(64, 48, true, 5);
    RgbaImage read = ImageDecoder.decode(PngEncoder.encode(img, true));
    assertTrue(read.hasAlpha());
    // the colour under alpha 0 survives too: straight alpha, nothing premultiplied away
    assertArrayEquals(img.rgba(), read.rgba());
  }

  @Test
  void greyDecodesToTheSameSamplesWithImageIoAndImageDecoder() throws Exception {
    int w = 50;
    int h = 20;
    byte[] gray = new byte[w * h];
    new Random(6).nextBytes(gray);
    gray[0] = 0;
    gray[1] = (byte) 255;
    byte[] png = PngEncoder.encodeGray(w, h, gray);

    BufferedImage read = imageIoRead(png);
    assertEquals(1, read.getRaster().getNumBands());
    int[] samples = read.getRaster().getPixels(0, 0, w, h, (int[]) null);
    for (int i = 0; i < gray.length; i++) {
      assertEquals(gray[i] & 0xff, samples[i], "sample " + i);
    }
    RgbaImage decoded = ImageDecoder.decode(png);
    for (int i = 0; i < gray.length; i++) {
      byte g = gray[i];
      assertArrayEquals(
          new byte[] {g, g, g, (byte) 255},
          Arrays.copyOfRange(decoded.rgba(), i * 4, i * 4 + 4),
          "pixel " + i);
    }
  }

  @ParameterizedTest(name = "{0}x{1}")
  @CsvSource({"1, 1", "1, 1000", "1000, 1", "997, 3"})
  void oddSizesDecodeToTheSamePixelsInEveryColourType(int w, int h) throws Exception {
    RgbaImage rgba = photoLike(w, h, true, w * 31L + h);
    assertArrayEquals(rgba.rgba(), ImageDecoder.decode(PngEncoder.encode(rgba, true)).rgba());
    assertArrayEquals(opaque(rgba), ImageDecoder.decode(PngEncoder.encode(rgba, false)).rgba());
    byte[] gray = new byte[w * h];
    for (int i = 0; i < gray.length; i++) {
      gray[i] = rgba.rgba()[i * 4];
    }
    BufferedImage read = imageIoRead(PngEncoder.encodeGray(w, h, gray));
    int[] samples = read.getRaster().getPixels(0, 0, w, h, (int[]) null);
    for (int i = 0; i < gray.length; i++) {
      assertEquals(gray[i] & 0xff, samples[i], "sample " + i);
    }
  }

  @ParameterizedTest
  @EnumSource(PngFilter.class)
  void everyFilterDecodesToTheSamePixels(PngFilter filter) throws Exception {
    RgbaImage img = photoLike(33, 17, true, 7);
    for (int level : new int[] {0, 1, 6, 9}) {
      PngEncoder.Settings settings = new PngEncoder.Settings(level, filter);
      assertArrayEquals(
          img.rgba(),
          ImageDecoder.decode(PngEncoder.encode(img, true, settings)).rgba(),
          "RGBA at level " + level);
      assertArrayEquals(
          opaque(img),
          ImageDecoder.decode(PngEncoder.encode(img, false, settings)).rgba(),
          "RGB at level " + level);
    }
  }

  @Test
  void aLargeImageSpansSeveralIdatChunksAndDecodesExactly() throws Exception {
    RgbaImage img = photoLike(700, 500, true, 8);
    byte[] png = PngEncoder.encode(img, true);
    long idats = chunks(png).stream().filter(c -> c.type().equals("IDAT")).count();
    assertTrue(idats >= 3, "IDAT chunks: " + idats);
    assertArrayEquals(img.rgba(), ImageDecoder.decode(png).rgba());
    assertArrayEquals(img.rgba(), rgbaOf(imageIoRead(png)));
  }

  @Test
  void aSmallImageOfPureNoiseGrowsUnderDeflateAndStillDecodesExactly() throws Exception {
    // a small image's IDAT buffer is sized to the image; noise stored without compression
    // (level 0) comes out larger than its filtered rows, and must still all arrive
    byte[] px = new byte[40 * 30 * 4];
    new Random(12).nextBytes(px);
    RgbaImage img = new RgbaImage(40, 30, px, true);
    for (int level : new int[] {0, 1}) {
      byte[] png = PngEncoder.encode(img, true, new PngEncoder.Settings(level, PngFilter.NONE));
      assertTrue(png.length > px.length + 30, "level " + level + ": " + png.length + " bytes");
      assertArrayEquals(px, ImageDecoder.decode(png).rgba(), "level " + level);
      assertArrayEquals(px, rgbaOf(imageIoRead(png)), "level " + level);
    }
  }

  @Test
  void outputIsSignatureThenHeaderThenDataThenEndEachWithItsCrc() throws Exception {
    byte[] png = PngEncoder.encode(photoLike(300, 200, false, 9), false);
    List<String> types = chunks(png).stream().map(Chunk::type).toList();
    assertEquals("IHDR", types.get(0));
    assertEquals("IEND", types.get(types.size() - 1));
    assertTrue(
        types.subList(1, types.size() - 1).stream().allMatch("IDAT"::equals),
        "between IHDR and IEND: " + types);
    ByteBuffer ihdr = ByteBuffer.wrap(chunks(png).get(0).data());
    assertEquals(300, ihdr.getInt());
    assertEquals(200, ihdr.getInt());
    assertArrayEquals(new byte[] {8, 2, 0, 0, 0}, Arrays.copyOfRange(ihdr.array(), 8, 13));
  }

  @Test
  void imageIoRecognisesTheOutputAsPngAndReadsItsHeader() throws Exception {
    byte[] png = PngEncoder.encode(photoLike(31, 7, true, 10), true);
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
      ImageReader reader = ImageIO.getImageReaders(in).next();
      try {
        reader.setInput(in);
        assertEquals("png", reader.getFormatName().toLowerCase(java.util.Locale.ROOT));
        assertEquals(31, reader.getWidth(0));
        assertEquals(7, reader.getHeight(0));
        assertEquals(31, reader.read(0).getWidth());
      } finally {
        reader.dispose();
      }
    }
  }

  @Test
  void greyRefusesASampleCountThatIsNotWidthTimesHeight() {
    assertThrows(IllegalArgumentException.class, () -> PngEncoder.encodeGray(10, 10, new byte[99]));
    assertThrows(IllegalArgumentException.class, () -> PngEncoder.encodeGray(0, 10, new byte[0]));
  }
}
