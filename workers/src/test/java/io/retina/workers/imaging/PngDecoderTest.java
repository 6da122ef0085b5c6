package io.retina.workers.imaging;

import static io.retina.workers.imaging.PngEncoderTest.chunks;
import static io.retina.workers.imaging.PngEncoderTest.opaque;
import static io.retina.workers.imaging.PngEncoderTest.photoLike;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.retina.workers.budget.WorkBudget;
import io.retina.workers.budget.WorkStoppedException;
import io.retina.workers.imaging.PngEncoderTest.Chunk;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.junit.jupiter.api.Test;

/**
 * The PNGs {@link PngDecoder} reads decode to ImageIO's pixels exactly; every other PNG, and every
 * malformed one, is left to ImageIO and so decodes, or is refused, as it always was.
 */
class PngDecoderTest {

  private static byte[] png(List<Chunk> chunks) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
    for (Chunk c : chunks) {
      ByteBuffer b = ByteBuffer.allocate(12 + c.data().length);
      b.putInt(c.data().length).put(c.type().getBytes(StandardCharsets.US_ASCII)).put(c.data());
      CRC32 crc = new CRC32();
      crc.update(b.array(), 4, 4 + c.data().length);
      b.putInt((int) crc.getValue());
      out.writeBytes(b.array());
    }
    return out.toByteArray();
  }

  /** The same PNG with its image data cut into IDAT chunks of {@code size} bytes. */
  private static byte[] idatsOf(byte[] png, int size) {
    List<Chunk> in = chunks(png);
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    in.stream().filter(c -> c.type().equals("IDAT")).forEach(c -> data.writeBytes(c.data()));
    byte[] all = data.toByteArray();
    List<Chunk> out = new ArrayList<>();
    out.add(in.get(0));
    for (int at = 0; at < all.length; at += size) {
      out.add(new Chunk("IDAT", Arrays.copyOfRange(all, at, Math.min(all.length, at + size))));
    }
    out.add(new Chunk("IEND", new byte[0]));
    return png(out);
  }

  /** The same PNG with {@code extra} just before its first IDAT. */
  private static byte[] withChunk(byte[] png, Chunk extra) {
    List<Chunk> cs = new ArrayList<>(chunks(png));
    int idat = 0;
    while (!cs.get(idat).type().equals("IDAT")) {
      idat++;
    }
    cs.add(idat, extra);
    return png(cs);
  }

  private static byte[] imageIo(BufferedImage img, boolean interlaced) throws Exception {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setProgressiveMode(
          interlaced ? ImageWriteParam.MODE_DEFAULT : ImageWriteParam.MODE_DISABLED);
      writer.write(null, new IIOImage(img, null, null), param);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  private static BufferedImage buffered(RgbaImage img, int type) {
    BufferedImage b = new BufferedImage(img.width(), img.height(), type);
    byte[] p = img.rgba();
    for (int y = 0; y < img.height(); y++) {
      for (int x = 0; x < img.width(); x++) {
        int o = (y * img.width() + x) * 4;
        b.setRGB(
            x,
            y,
            (p[o + 3] & 0xff) << 24
                | (p[o] & 0xff) << 16
                | (p[o + 1] & 0xff) << 8
                | p[o + 2] & 0xff);
      }
    }
    return b;
  }

  private static void assertSameAsImageIo(byte[] png) throws Exception {
    RgbaImage fast = PngDecoder.decode(png, ImageDecoder.MAX_PIXELS);
    assertNotNull(fast, "the PNG was left to ImageIO");
    RgbaImage imageIo = ImageDecoder.decodeWithImageIo(png, WorkBudget.UNBOUNDED);
    assertEquals(imageIo.width(), fast.width());
    assertEquals(imageIo.height(), fast.height());
    assertEquals(imageIo.hasAlpha(), fast.hasAlpha());
    assertArrayEquals(imageIo.rgba(), fast.rgba());
  }

  /** Left to ImageIO: the decoder gives exactly what ImageIO gives, or refuses as it refuses. */
  private static void assertLeftToImageIo(byte[] png) throws Exception {
    assertNull(PngDecoder.decode(png, ImageDecoder.MAX_PIXELS));
    RgbaImage expected;
    try {
      expected = ImageDecoder.decodeWithImageIo(png, WorkBudget.UNBOUNDED);
    } catch (UnreadableImageException e) {
      assertThrows(UnreadableImageException.class, () -> ImageDecoder.decode(png));
      return;
    }
    RgbaImage actual = ImageDecoder.decode(png);
    assertEquals(expected.hasAlpha(), actual.hasAlpha());
    assertArrayEquals(expected.rgba(), actual.rgba());
  }

  @Test
  void everyFilterLevelSizeAndLayoutDecodesToImageIosPixels() throws Exception {
    int[][] sizes = {{1, 1}, {2, 3}, {17, 5}, {64, 64}, {130, 67}};
    long seed = 0;
    for (int[] size : sizes) {
      for (boolean alpha : new boolean[] {false, true}) {
        RgbaImage img = photoLike(size[0], size[1], alpha, seed++);
        for (PngFilter filter : PngFilter.values()) {
          for (int level : new int[] {0, 1, 9}) {
            byte[] png = PngEncoder.encode(img, alpha, new PngEncoder.Settings(level, filter));
            assertSameAsImageIo(png);
            assertArrayEquals(
                alpha ? img.rgba() : opaque(img),
                PngDecoder.decode(png, ImageDecoder.MAX_PIXELS).rgba(),
                filter + " level " + level);
          }
        }
        // written by ImageIO itself
        assertSameAsImageIo(
            imageIo(
                buffered(img, alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB),
                false));
      }
    }
  }

  @Test
  void imageDataCutIntoManyChunksAndTextChunksAreRead() throws Exception {
    RgbaImage img = photoLike(40, 30, true, 7);
    byte[] png = PngEncoder.encode(img, true);
    assertSameAsImageIo(idatsOf(png, 7));
    assertSameAsImageIo(idatsOf(png, 1));
    byte[] text = "Comment\0made by a test".getBytes(StandardCharsets.ISO_8859_1);
    assertSameAsImageIo(withChunk(png, new Chunk("tEXt", text)));
    assertSameAsImageIo(withChunk(png, new Chunk("sRGB", new byte[] {0})));
    // a background colour and a pixel size are only metadata to ImageIO
    assertSameAsImageIo(withChunk(png, new Chunk("bKGD", new byte[] {0, 10, 0, 20, 0, 30})));
    assertSameAsImageIo(
        withChunk(png, new Chunk("pHYs", new byte[] {0, 0, 11, 19, 0, 0, 11, 19, 1})));
  }

  @Test
  void pngsThatMayChangeAPixelAreLeftToImageIo() throws Exception {
    RgbaImage img = photoLike(33, 21, false, 3);
    byte[] png = PngEncoder.encode(img, false);
    // gamma 1/2.2, a transparent colour key, an ICC-less chromaticity: ImageIO decides what they
    // mean
    assertLeftToImageIo(
        withChunk(png, new Chunk("gAMA", new byte[] {0, 0, (byte) 0xb1, (byte) 0x8f})));
    assertLeftToImageIo(withChunk(png, new Chunk("tRNS", new byte[] {0, 10, 0, 20, 0, 30})));
    assertLeftToImageIo(imageIo(buffered(img, BufferedImage.TYPE_INT_RGB), true)); // interlaced
    assertLeftToImageIo(imageIo(buffered(img, BufferedImage.TYPE_BYTE_INDEXED), false));
    assertLeftToImageIo(imageIo(buffered(img, BufferedImage.TYPE_BYTE_GRAY), false));
    assertLeftToImageIo(PngEncoder.encodeGray(5, 4, new byte[20]));
    BufferedImage sixteen = new BufferedImage(4, 3, BufferedImage.TYPE_USHORT_GRAY);
    sixteen.getRaster().setPixels(0, 0, 4, 3, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 65535});
    assertLeftToImageIo(imageIo(sixteen, false));
  }

  @Test
  void malformedPngsAreLeftToImageIo() throws Exception {
    RgbaImage img = photoLike(50, 40, true, 11);
    byte[] png = PngEncoder.encode(img, true);

    byte[] badCrc = png.clone();
    badCrc[badCrc.length - 20] ^= 0x40; // inside the last IDAT's data
    assertLeftToImageIo(badCrc);

    assertLeftToImageIo(Arrays.copyOf(png, png.length / 2)); // truncated
    assertLeftToImageIo(Arrays.copyOf(png, png.length - 12)); // no IEND

    // well-framed chunks whose stream holds too few rows, or a row with filter type 7
    byte[] raw = new byte[40 * (1 + 50 * 4)];
    assertLeftToImageIo(imageWith(50, 40, Arrays.copyOf(raw, raw.length / 2)));
    raw[(1 + 50 * 4) * 3] = 7;
    assertLeftToImageIo(imageWith(50, 40, raw));
    assertThrows(UnreadableImageException.class, () -> ImageDecoder.decode(imageWith(50, 40, raw)));

    // over the pixel limit: ImageIO's path refuses it with the message it always gave
    assertNull(PngDecoder.decode(png, 50 * 40 - 1));
  }

  /**
   * A large PNG stops between batches of rows once its job is canceled, as ImageIO's reader stops
   * between rows: the decoder asks the budget after each batch, not only before it starts.
   */
  @Test
  void aCanceledDecodeStopsBetweenBatches() {
    byte[] png = PngEncoder.encode(photoLike(1000, 400, false, 13), false); // 20 batches of 21 rows
    AtomicInteger asked = new AtomicInteger();
    WorkBudget canceledAfterTwo =
        WorkBudget.of(null, () -> asked.incrementAndGet() <= 2, Duration.ZERO);
    try (var bound = canceledAfterTwo.bind()) {
      WorkStoppedException e =
          assertThrows(
              WorkStoppedException.class, () -> PngDecoder.decode(png, ImageDecoder.MAX_PIXELS));
      assertEquals(WorkStoppedException.Reason.CANCELED, e.reason());
    }
    assertEquals(3, asked.get());
  }

  /** An RGBA PNG of the given size whose image data is {@code raw} (filter bytes and samples). */
  private static byte[] imageWith(int w, int h, byte[] raw) {
    ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 6);
    Deflater deflater = new Deflater(1);
    deflater.setInput(raw);
    deflater.finish();
    byte[] buf = new byte[raw.length + 1024];
    int n = deflater.deflate(buf);
    deflater.end();
    return png(
        List.of(
            new Chunk("IHDR", ihdr.array()),
            new Chunk("IDAT", Arrays.copyOf(buf, n)),
            new Chunk("IEND", new byte[0])));
  }
}
