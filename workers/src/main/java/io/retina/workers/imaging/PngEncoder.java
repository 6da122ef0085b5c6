package io.retina.workers.imaging;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Encodes 8-bit RGBA, RGB and grey pixels as PNG: non-interlaced, straight (not premultiplied)
 * alpha as {@link RgbaImage} holds it, no colour-space chunks, so decoders read the bytes back
 * exactly. Stateless and thread-safe.
 */
public final class PngEncoder {

  /** The media type of what this class writes. */
  public static final String MEDIA_TYPE = "image/png";

  /** How rows are filtered and how hard deflate works; the benchmark tries others. */
  record Settings(int level, PngFilter filter) {
    Settings {
      if (level < 0 || level > 9) {
        throw new IllegalArgumentException("deflate level " + level);
      }
    }
  }

  /**
   * Deflate level 1 with the Up filter: the fastest setting measured, and smaller than ImageIO.
   * PngEncoderBenchmark on the 2-core machine (docs/benchmarks.md, "PNG encoding"), CPU time and
   * size per ESRGAN x2 256x256 RGB output: ImageIO 11.0 ms / 150 KiB; this 4.6 ms / 99 KiB; level 1
   * Paeth 6.8 ms / 95 KiB; level 6 adaptive 28.0 ms / 87 KiB. Over all 13 images this takes 44% of
   * ImageIO's time for 30% fewer bytes; the smallest setting saves 10% more for 5.5x the time.
   * Level 1 Average ties on time; Up is smaller on the model outputs (upscale, cutout, mask).
   */
  static final Settings DEFAULT = new Settings(1, PngFilter.UP);

  static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final int GREY = 0;
  static final int RGB = 2;
  static final int RGBA = 6;

  /**
   * Deflate output is cut into IDAT chunks of this size. The chunks' data together are one zlib
   * stream, so where it is cut means nothing to a decoder; the size bounds this class's buffer, and
   * at 64 KiB the 12 bytes of a chunk's framing are 0.02% of it.
   */
  private static final int IDAT_BYTES = 64 * 1024;

  /**
   * Filtered rows go to deflate in batches of about this many bytes: one native call per batch
   * rather than per row, and a bounded buffer whatever the image's size.
   */
  private static final int BATCH_BYTES = 64 * 1024;

  private PngEncoder() {}

  /** Encodes an image as RGBA when {@code withAlpha}, else as RGB (alpha dropped). */
  public static byte[] encode(RgbaImage img, boolean withAlpha) {
    return encode(img, withAlpha, DEFAULT);
  }

  /** Encodes one 8-bit grey channel, row-major. */
  public static byte[] encodeGray(int width, int height, byte[] gray) {
    return encodeGray(width, height, gray, DEFAULT);
  }

  static byte[] encode(RgbaImage img, boolean withAlpha, Settings settings) {
    int w = img.width();
    byte[] src = img.rgba();
    if (withAlpha) {
      return write(
          w,
          img.height(),
          RGBA,
          4,
          (y, row) -> System.arraycopy(src, y * w * 4, row, 0, w * 4),
          settings);
    }
    return write(
        w,
        img.height(),
        RGB,
        3,
        (y, row) -> {
          for (int x = 0, s = y * w * 4, d = 0; x < w; x++, s += 4, d += 3) {
            row[d] = src[s];
            row[d + 1] = src[s + 1];
            row[d + 2] = src[s + 2];
          }
        },
        settings);
  }

  static byte[] encodeGray(int width, int height, byte[] gray, Settings settings) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("empty image: " + width + "x" + height);
    }
    if (gray.length != (long) width * height) {
      throw new IllegalArgumentException("expected " + (long) width * height + " bytes");
    }
    return write(
        width,
        height,
        GREY,
        1,
        (y, row) -> System.arraycopy(gray, y * width, row, 0, width),
        settings);
  }

  /** Copies row {@code y}'s samples, as the PNG lays them out, into {@code row}. */
  private interface Rows {
    void read(int y, byte[] row);
  }

  private static byte[] write(
      int width, int height, int colourType, int channels, Rows rows, Settings settings) {
    int rowBytes = width * channels;
    Chunks out = new Chunks(rowBytes * height / 2 + 1024);
    out.raw(SIGNATURE, SIGNATURE.length);
    byte[] ihdr = new byte[13];
    putInt(ihdr, 0, width);
    putInt(ihdr, 4, height);
    ihdr[8] = 8; // bits per sample
    ihdr[9] = (byte) colourType;
    // bytes 10..12 stay 0: deflate, filter method 0, no interlace
    out.chunk("IHDR", ihdr, 13);
    Deflater deflater = new Deflater(settings.level());
    try {
      // a small image's buffers are its size, not the bounds a large one needs
      long filtered = (long) (rowBytes + 1) * height;
      Idat idat = new Idat(deflater, out, (int) Math.min(IDAT_BYTES, filtered + 64));
      byte[] row = new byte[rowBytes];
      byte[] prev = new byte[rowBytes];
      int rowsPerBatch = Math.max(1, Math.min(height, BATCH_BYTES / (rowBytes + 1)));
      byte[] batch = new byte[rowsPerBatch * (rowBytes + 1)];
      byte[][] scratch =
          settings.filter() == PngFilter.ADAPTIVE ? new byte[5][rowBytes] : new byte[0][];
      for (int y = 0; y < height; ) {
        int filled = 0;
        for (int end = Math.min(height, y + rowsPerBatch); y < end; y++) {
          rows.read(y, row);
          settings.filter().filter(row, prev, channels, batch, filled, scratch);
          filled += rowBytes + 1;
          byte[] t = prev;
          prev = row;
          row = t;
        }
        idat.deflate(batch, filled);
      }
      idat.finish();
    } finally {
      deflater.end();
    }
    out.chunk("IEND", new byte[0], 0);
    return out.bytes();
  }

  /** Drains a deflater into IDAT chunks of at most {@link #IDAT_BYTES}. */
  private static final class Idat {
    private final Deflater deflater;
    private final Chunks out;
    private final byte[] buf;
    private int len;

    Idat(Deflater deflater, Chunks out, int chunkBytes) {
      this.deflater = deflater;
      this.out = out;
      this.buf = new byte[chunkBytes];
    }

    void deflate(byte[] data, int n) {
      deflater.setInput(data, 0, n);
      while (!deflater.needsInput()) {
        drain();
      }
    }

    void finish() {
      deflater.finish();
      while (!deflater.finished()) {
        drain();
      }
      if (len > 0) {
        out.chunk("IDAT", buf, len);
      }
    }

    private void drain() {
      len += deflater.deflate(buf, len, buf.length - len);
      if (len == buf.length) {
        out.chunk("IDAT", buf, len);
        len = 0;
      }
    }
  }

  /** A growing byte array of chunks: length, type, data, CRC-32 of type and data. */
  private static final class Chunks {
    private final CRC32 crc = new CRC32();
    private final byte[] word = new byte[4];
    private byte[] buf;
    private int len;

    Chunks(int capacity) {
      buf = new byte[capacity];
    }

    void chunk(String type, byte[] data, int n) {
      byte[] t = type.getBytes(StandardCharsets.US_ASCII);
      putInt(word, 0, n);
      raw(word, 4);
      raw(t, 4);
      raw(data, n);
      crc.reset();
      crc.update(t);
      crc.update(data, 0, n);
      putInt(word, 0, (int) crc.getValue());
      raw(word, 4);
    }

    void raw(byte[] data, int n) {
      if (buf.length - len < n) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
      }
      System.arraycopy(data, 0, buf, len, n);
      len += n;
    }

    byte[] bytes() {
      return Arrays.copyOf(buf, len);
    }
  }

  private static void putInt(byte[] b, int at, int v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
  }
}
