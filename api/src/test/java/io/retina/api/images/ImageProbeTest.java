package io.retina.api.images;

import static io.retina.api.images.ImageRejectedException.Reason.MALFORMED;
import static io.retina.api.images.ImageRejectedException.Reason.TOO_MANY_SCANS;
import static io.retina.api.images.ImageRejectedException.Reason.TRUNCATED;
import static io.retina.api.images.ImageRejectedException.Reason.UNSUPPORTED_FORMAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.retina.platform.images.JpegBombs;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Test;

class ImageProbeTest {

  // A 1x1 lossless WebP as libwebp writes it; widely used for browser feature detection.
  private static final String TINY_LOSSLESS_WEBP =
      "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==";

  @Test
  void identifiesRgbPngAndReadsItsDimensions() throws Exception {
    byte[] png = imageIo(image(64, 48, BufferedImage.TYPE_INT_RGB), "png");

    assertEquals(new ImageInfo("image/png", 64, 48), ImageProbe.probe(png));
  }

  @Test
  void identifiesGrayPng() throws Exception {
    byte[] png = imageIo(image(31, 17, BufferedImage.TYPE_BYTE_GRAY), "png");

    assertEquals(new ImageInfo("image/png", 31, 17), ImageProbe.probe(png));
  }

  @Test
  void identifiesPngWithAlpha() throws Exception {
    byte[] png = imageIo(image(5, 300, BufferedImage.TYPE_INT_ARGB), "png");

    assertEquals(new ImageInfo("image/png", 5, 300), ImageProbe.probe(png));
  }

  @Test
  void identifiesRgbJpegAndReadsItsDimensions() throws Exception {
    byte[] jpeg = jpeg(image(640, 480, BufferedImage.TYPE_INT_RGB), false);

    assertEquals(new ImageInfo("image/jpeg", 640, 480), ImageProbe.probe(jpeg));
  }

  @Test
  void identifiesGrayJpeg() throws Exception {
    byte[] jpeg = jpeg(image(33, 65, BufferedImage.TYPE_BYTE_GRAY), false);

    assertEquals(new ImageInfo("image/jpeg", 33, 65), ImageProbe.probe(jpeg));
  }

  @Test
  void walksEveryScanOfProgressiveJpeg() throws Exception {
    byte[] jpeg = jpeg(image(120, 90, BufferedImage.TYPE_INT_RGB), true);

    assertEquals(new ImageInfo("image/jpeg", 120, 90), ImageProbe.probe(jpeg));
  }

  @Test
  void refusesAJpegThatRepeatsAScanAThousandTimes() throws Exception {
    byte[] progressive = jpeg(image(64, 64, BufferedImage.TYPE_INT_RGB), true);
    byte[] bomb = JpegBombs.repeatLastScan(progressive, 1000);

    ImageRejectedException e =
        assertThrows(ImageRejectedException.class, () -> ImageProbe.probe(bomb));
    assertEquals(TOO_MANY_SCANS, e.reason());
  }

  @Test
  void acceptsAJpegWithAsManyScansAsTheLimit() throws Exception {
    byte[] progressive = jpeg(image(64, 64, BufferedImage.TYPE_INT_RGB), true);
    int scans = JpegBombs.scanCount(progressive);
    byte[] atLimit = JpegBombs.repeatLastScan(progressive, ImageProbe.MAX_JPEG_SCANS - scans);

    assertEquals(new ImageInfo("image/jpeg", 64, 64), ImageProbe.probe(atLimit));
  }

  @Test
  void acceptsANormalProgressiveJpegWhoseScanDataHoldsStuffedBytes() throws Exception {
    // noise makes the entropy-coded data dense with 0xFF bytes, which the writer stuffs as FF 00
    byte[] progressive = jpeg(noise(300, 200), true);
    assertTrue(JpegBombs.scanCount(progressive) > 1, "the writer made a progressive JPEG");
    assertTrue(containsStuffedFf(progressive), "the scan data holds stuffed 0xFF bytes");

    assertEquals(new ImageInfo("image/jpeg", 300, 200), ImageProbe.probe(progressive));
  }

  @Test
  void skipsEoiBytesInsideMetadataSegments() throws Exception {
    byte[] jpeg = jpeg(image(40, 30, BufferedImage.TYPE_INT_RGB), false);
    // An APP1 segment holding FF D9, as an embedded EXIF thumbnail would, right after SOI.
    byte[] app1 = {(byte) 0xFF, (byte) 0xE1, 0, 6, (byte) 0xFF, (byte) 0xD9, (byte) 0xFF, 0};
    byte[] withApp1 =
        concat(Arrays.copyOf(jpeg, 2), app1, Arrays.copyOfRange(jpeg, 2, jpeg.length));

    assertEquals(new ImageInfo("image/jpeg", 40, 30), ImageProbe.probe(withApp1));
    assertReason(TRUNCATED, Arrays.copyOf(withApp1, withApp1.length - 2));
  }

  @Test
  void readsDimensionsOfLosslessWebp() throws Exception {
    byte[] webp = webp(chunk("VP8L", vp8lHeader(400, 300)));

    assertEquals(new ImageInfo("image/webp", 400, 300), ImageProbe.probe(webp));
  }

  @Test
  void readsDimensionsOfWebpWrittenByLibwebp() throws Exception {
    byte[] webp = Base64.getDecoder().decode(TINY_LOSSLESS_WEBP);

    assertEquals(new ImageInfo("image/webp", 1, 1), ImageProbe.probe(webp));
  }

  @Test
  void readsDimensionsOfLossyWebp() throws Exception {
    byte[] webp = webp(chunk("VP8 ", vp8KeyFrameHeader(1920, 1080)));

    assertEquals(new ImageInfo("image/webp", 1920, 1080), ImageProbe.probe(webp));
  }

  @Test
  void readsCanvasSizeOfExtendedWebp() throws Exception {
    byte[] vp8x = le(ByteBuffer.allocate(10)).put((byte) 0x10).put(new byte[3]).array();
    put24(vp8x, 4, 5000 - 1);
    put24(vp8x, 7, 3000 - 1);
    byte[] webp = webp(chunk("VP8X", vp8x), chunk("VP8L", vp8lHeader(5000, 3000)));

    assertEquals(new ImageInfo("image/webp", 5000, 3000), ImageProbe.probe(webp));
  }

  @Test
  void reportsDimensionsOfHugePngWithoutDecoding() throws Exception {
    byte[] png = craftPng(20000, 20000, 8, 2);

    ImageInfo info = ImageProbe.probe(png);

    assertEquals(new ImageInfo("image/png", 20000, 20000), info);
    assertEquals(400_000_000L, info.pixels());
  }

  @Test
  void rejectsJpegCutInTheMiddleOfScanDataAsTruncated() throws Exception {
    byte[] jpeg = jpeg(image(200, 200, BufferedImage.TYPE_INT_RGB), false);
    int scanStart = indexOf(jpeg, (byte) 0xFF, (byte) 0xDA);
    byte[] cut = Arrays.copyOf(jpeg, (scanStart + jpeg.length) / 2);

    assertReason(TRUNCATED, cut);
  }

  @Test
  void rejectsPngWithFlippedCrcAsMalformed() throws Exception {
    byte[] png = imageIo(image(10, 10, BufferedImage.TYPE_INT_RGB), "png");
    png[8 + 8 + 13] ^= 0x01; // first byte of the IHDR chunk's CRC

    ImageRejectedException e = assertReason(MALFORMED, png);
    assertEquals("The PNG chunk IHDR at byte 8 fails its CRC check.", e.getMessage());
  }

  @Test
  void rejectsPngWithoutIendAsTruncated() throws Exception {
    byte[] png = imageIo(image(10, 10, BufferedImage.TYPE_INT_RGB), "png");

    assertReason(TRUNCATED, Arrays.copyOf(png, png.length - 12));
  }

  @Test
  void rejectsPngWithImpossibleBitDepthAsMalformed() {
    assertReason(MALFORMED, craftPng(10, 10, 3, 2));
  }

  @Test
  void rejectsPngWithZeroWidthAsMalformed() {
    assertReason(MALFORMED, craftPng(0, 10, 8, 2));
  }

  @Test
  void rejectsJpegWhoseHeightIsLeftToDnlAsMalformed() throws Exception {
    byte[] jpeg = jpeg(image(16, 16, BufferedImage.TYPE_INT_RGB), false);
    int sof = indexOf(jpeg, (byte) 0xFF, (byte) 0xC0);
    jpeg[sof + 5] = 0;
    jpeg[sof + 6] = 0;

    assertReason(MALFORMED, jpeg);
  }

  @Test
  void rejectsWebpWhoseRiffSizeExceedsTheUploadAsTruncated() throws Exception {
    byte[] webp = webp(chunk("VP8L", vp8lHeader(400, 300)));
    byte[] cut = Arrays.copyOf(webp, webp.length - 4);

    assertReason(TRUNCATED, cut);
  }

  @Test
  void rejectsGifAsUnsupported() throws Exception {
    byte[] gif = imageIo(image(10, 10, BufferedImage.TYPE_INT_RGB), "gif");

    ImageRejectedException e = assertReason(UNSUPPORTED_FORMAT, gif);
    assertEquals(
        "The upload is not a PNG, JPEG or WebP image; it starts with bytes 47 49 46 38 39 61 0a"
            + " 00.",
        e.getMessage());
  }

  @Test
  void rejectsBmpTextAndEmptyUploadsAsUnsupported() throws Exception {
    assertReason(UNSUPPORTED_FORMAT, imageIo(image(4, 4, BufferedImage.TYPE_INT_RGB), "bmp"));
    assertReason(UNSUPPORTED_FORMAT, "{\"prompt\": \"a cat\"}".getBytes(StandardCharsets.UTF_8));
    assertReason(UNSUPPORTED_FORMAT, new byte[0]);
  }

  @Test
  void rejectsEveryTruncationOfValidFilesAsTruncated() throws Exception {
    for (byte[] valid : validSamples()) {
      for (int length = 12; length < valid.length; length++) {
        byte[] prefix = Arrays.copyOf(valid, length);
        ImageRejectedException e =
            assertThrows(ImageRejectedException.class, () -> ImageProbe.probe(prefix));
        assertEquals(TRUNCATED, e.reason(), "prefix of " + length + ": " + e.getMessage());
      }
    }
  }

  @Test
  void throwsOnlyImageRejectedOnRandomOrCorruptedBytes() throws Exception {
    Random random = new Random(42);
    List<byte[]> samples = validSamples();
    for (int round = 0; round < 20_000; round++) {
      byte[] input;
      if (round % 2 == 0) {
        input = new byte[random.nextInt(64)];
        random.nextBytes(input);
        byte[] magic = samples.get(random.nextInt(samples.size()));
        System.arraycopy(magic, 0, input, 0, Math.min(input.length, random.nextInt(16)));
      } else {
        byte[] valid = samples.get(random.nextInt(samples.size()));
        input = Arrays.copyOf(valid, valid.length);
        for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
          input[random.nextInt(input.length)] = (byte) random.nextInt(256);
        }
      }
      probeExpectingNothingButRejection(input);
    }
  }

  @Test
  void rejectsMegabytesOfJpegFillBytesAsTruncated() {
    byte[] fill = new byte[8 << 20];
    Arrays.fill(fill, (byte) 0xFF);
    fill[1] = (byte) 0xD8;

    assertReason(TRUNCATED, fill);
  }

  @Test
  void acceptsBytesAfterTheEndMarker() throws Exception {
    byte[] jpeg = jpeg(image(8, 8, BufferedImage.TYPE_INT_RGB), false);
    byte[] png = imageIo(image(8, 8, BufferedImage.TYPE_INT_RGB), "png");
    byte[] junk = "trailing".getBytes(StandardCharsets.US_ASCII);

    assertEquals(8, ImageProbe.probe(concat(jpeg, junk)).width());
    assertEquals(8, ImageProbe.probe(concat(png, junk)).width());
  }

  // ---- fixtures ----

  private static void probeExpectingNothingButRejection(byte[] input) {
    try {
      ImageInfo info = ImageProbe.probe(input);
      assertFalse(info.width() <= 0 || info.height() <= 0);
    } catch (ImageRejectedException expected) {
      assertFalse(expected.getMessage().isBlank());
    } catch (RuntimeException e) {
      fail("probe threw " + e + " on " + Base64.getEncoder().encodeToString(input), e);
    }
  }

  private static ImageRejectedException assertReason(
      ImageRejectedException.Reason reason, byte[] bytes) {
    ImageRejectedException e =
        assertThrows(ImageRejectedException.class, () -> ImageProbe.probe(bytes));
    assertEquals(reason, e.reason(), e.getMessage());
    return e;
  }

  private static List<byte[]> validSamples() throws IOException {
    return List.of(
        imageIo(image(9, 7, BufferedImage.TYPE_INT_ARGB), "png"),
        jpeg(image(24, 16, BufferedImage.TYPE_INT_RGB), false),
        jpeg(image(24, 16, BufferedImage.TYPE_INT_RGB), true),
        webp(chunk("VP8L", vp8lHeader(400, 300))),
        webp(chunk("VP8 ", vp8KeyFrameHeader(64, 64))),
        craftPng(20000, 20000, 8, 6));
  }

  private static BufferedImage image(int width, int height, int type) {
    BufferedImage image = new BufferedImage(width, height, type);
    Random random = new Random(width * 31L + height);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, random.nextInt());
      }
    }
    return image;
  }

  private static byte[] imageIo(BufferedImage image, String format) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (!ImageIO.write(image, format, out)) {
      throw new IllegalStateException("no ImageIO writer for " + format);
    }
    return out.toByteArray();
  }

  private static byte[] jpeg(BufferedImage image, boolean progressive) throws IOException {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      if (progressive) {
        param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      }
      writer.write(null, new IIOImage(image, null, null), param);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  private static BufferedImage noise(int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Random random = new Random(7);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, random.nextInt(0x1000000));
      }
    }
    return image;
  }

  private static boolean containsStuffedFf(byte[] b) {
    for (int i = 0; i + 1 < b.length; i++) {
      if ((b[i] & 0xFF) == 0xFF && b[i + 1] == 0) {
        return true;
      }
    }
    return false;
  }

  /** A PNG whose IHDR says what we like, with a tiny IDAT the probe never inflates. */
  private static byte[] craftPng(int width, int height, int bitDepth, int colorType) {
    byte[] ihdr =
        ByteBuffer.allocate(13)
            .putInt(width)
            .putInt(height)
            .put((byte) bitDepth)
            .put((byte) colorType)
            .put(new byte[3])
            .array();
    Deflater deflater = new Deflater();
    deflater.setInput(new byte[1024]);
    deflater.finish();
    byte[] idat = new byte[64];
    idat = Arrays.copyOf(idat, deflater.deflate(idat));
    deflater.end();
    byte[] signature = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    return concat(
        signature, pngChunk("IHDR", ihdr), pngChunk("IDAT", idat), pngChunk("IEND", new byte[0]));
  }

  private static byte[] pngChunk(String type, byte[] data) {
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    return ByteBuffer.allocate(12 + data.length)
        .putInt(data.length)
        .put(typeBytes)
        .put(data)
        .putInt((int) crc.getValue())
        .array();
  }

  /** VP8L header: signature, 14-bit width-1, 14-bit height-1, alpha bit, version 0, plus a byte. */
  private static byte[] vp8lHeader(int width, int height) {
    int bits = (width - 1) | (height - 1) << 14 | 1 << 28;
    return le(ByteBuffer.allocate(6)).put((byte) 0x2F).putInt(bits).array();
  }

  /** VP8 key frame: frame tag, start code, 14-bit width and height, then the first partition. */
  private static byte[] vp8KeyFrameHeader(int width, int height) {
    int firstPartitionSize = 8;
    int tag = 0 /* key frame */ | 1 << 4 /* shown */ | firstPartitionSize << 5;
    return le(ByteBuffer.allocate(10 + firstPartitionSize))
        .put((byte) tag)
        .put((byte) (tag >> 8))
        .put((byte) (tag >> 16))
        .put((byte) 0x9D)
        .put((byte) 0x01)
        .put((byte) 0x2A)
        .putShort((short) width)
        .putShort((short) height)
        .array();
  }

  private static byte[] chunk(String fourcc, byte[] data) {
    ByteBuffer chunk = le(ByteBuffer.allocate(8 + data.length + (data.length & 1)));
    return chunk
        .put(fourcc.getBytes(StandardCharsets.US_ASCII))
        .putInt(data.length)
        .put(data)
        .array();
  }

  private static byte[] webp(byte[]... chunks) {
    byte[] body = concat(chunks);
    ByteBuffer riff = le(ByteBuffer.allocate(12 + body.length));
    return riff.put("RIFF".getBytes(StandardCharsets.US_ASCII))
        .putInt(4 + body.length)
        .put("WEBP".getBytes(StandardCharsets.US_ASCII))
        .put(body)
        .array();
  }

  private static ByteBuffer le(ByteBuffer buffer) {
    return buffer.order(ByteOrder.LITTLE_ENDIAN);
  }

  private static void put24(byte[] b, int at, int value) {
    b[at] = (byte) value;
    b[at + 1] = (byte) (value >> 8);
    b[at + 2] = (byte) (value >> 16);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static int indexOf(byte[] bytes, byte first, byte second) {
    for (int i = 0; i + 1 < bytes.length; i++) {
      if (bytes[i] == first && bytes[i + 1] == second) {
        return i;
      }
    }
    throw new IllegalArgumentException("marker not found");
  }
}
