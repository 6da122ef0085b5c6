package io.retina.workers.imaging;

import io.retina.workers.budget.WorkBudget;
import io.retina.workers.budget.WorkStoppedException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadUpdateListener;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes PNG, JPEG and WebP bytes (any colour model, palette, grey or 16-bit) into 8-bit RGBA,
 * upright per the JPEG's EXIF orientation; plain 8-bit RGB(A) PNGs through {@link PngDecoder}, the
 * rest through ImageIO. A decode observes the {@link WorkBudget} bound to its thread: it stops
 * within a row of pixels (a batch of rows, at most 64 KiB of them, for those PNGs) once the job is
 * canceled or out of time, and throws {@link WorkStoppedException}. Stateless and thread-safe.
 */
public final class ImageDecoder {

  /**
   * A backstop against decompression bombs: admission already limits megapixels from the header,
   * this bounds what one decode may allocate (50 MP of RGBA is 200 MB).
   */
  public static final long MAX_PIXELS = 50_000_000L;

  static {
    ImageIO.setUseCache(false); // decode in memory, never through temp files
    ImageIO.scanForPlugins(); // the WebP and JPEG plugins register through the service loader
  }

  private ImageDecoder() {}

  /** Decodes an encoded image; fails on unknown formats, truncated or corrupt data and bombs. */
  public static RgbaImage decode(byte[] bytes) throws UnreadableImageException {
    if (bytes == null || bytes.length == 0) {
      throw new UnreadableImageException("empty image");
    }
    if (JpegScans.isJpeg(bytes) && JpegScans.count(bytes, JpegScans.MAX) > JpegScans.MAX) {
      throw new UnreadableImageException(
          "the JPEG has more than " + JpegScans.MAX + " scans; each costs a pass over the image");
    }
    WorkBudget budget = WorkBudget.current();
    budget.check();
    RgbaImage plain = PngDecoder.decode(bytes, MAX_PIXELS);
    if (plain != null) {
      return plain; // a PNG: no EXIF orientation to apply
    }
    return decodeWithImageIo(bytes, budget);
  }

  /** What {@link #decode} gives for images {@link PngDecoder} leaves to ImageIO. */
  static RgbaImage decodeWithImageIo(byte[] bytes, WorkBudget budget)
      throws UnreadableImageException {
    BufferedImage image = read(bytes, budget);
    budget.check(); // a read the budget aborted returns what it had
    RgbaImage rgba = toRgba(image);
    return ExifOrientation.upright(rgba, ExifOrientation.of(bytes));
  }

  private static BufferedImage read(byte[] bytes, WorkBudget budget)
      throws UnreadableImageException {
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new UnreadableImageException("not a PNG, JPEG or WebP image");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
        if (pixels <= 0 || pixels > MAX_PIXELS) {
          throw new UnreadableImageException(
              "image is " + reader.getWidth(0) + "x" + reader.getHeight(0) + ", over the limit");
        }
        List<String> warnings = new ArrayList<>();
        reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
        if (budget != WorkBudget.UNBOUNDED) {
          reader.addIIOReadUpdateListener(new AbortWhenSpent(budget));
        }
        BufferedImage image = reader.read(0);
        for (String warning : warnings) {
          // the JPEG decoder pads a truncated stream with grey and only warns about it
          String w = warning.toLowerCase(Locale.ROOT);
          if (w.contains("premature") || w.contains("truncat")) {
            throw new UnreadableImageException("image data is truncated");
          }
        }
        return image;
      } finally {
        reader.dispose();
      }
    } catch (UnreadableImageException | WorkStoppedException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new UnreadableImageException("image data is corrupt or truncated", e);
    }
  }

  /**
   * Aborts a read once its budget is spent. The readers call this listener on the decoding thread
   * at every pass and row (the JDK's JPEG reader even for each scan of a progressive JPEG, where
   * its progress listeners fall silent), and abort() is only allowed from that thread. Measured on
   * a 2048x2048 JPEG repeating one scan: the read returns about 0.3 s after the abort on a loaded
   * 2-core machine.
   */
  private record AbortWhenSpent(WorkBudget budget) implements IIOReadUpdateListener {
    private void check(ImageReader reader) {
      if (budget.spent() != null) {
        reader.abort();
      }
    }

    @Override
    public void passStarted(
        ImageReader r,
        BufferedImage t,
        int p,
        int min,
        int max,
        int x,
        int y,
        int px,
        int py,
        int[] b) {
      check(r);
    }

    @Override
    public void imageUpdate(
        ImageReader r, BufferedImage t, int x, int y, int w, int h, int px, int py, int[] b) {
      check(r);
    }

    @Override
    public void passComplete(ImageReader r, BufferedImage t) {}

    @Override
    public void thumbnailPassStarted(
        ImageReader r,
        BufferedImage t,
        int p,
        int min,
        int max,
        int x,
        int y,
        int px,
        int py,
        int[] b) {}

    @Override
    public void thumbnailUpdate(
        ImageReader r, BufferedImage t, int x, int y, int w, int h, int px, int py, int[] b) {}

    @Override
    public void thumbnailPassComplete(ImageReader r, BufferedImage t) {}
  }

  /** Converts any colour model to sRGB 8-bit RGBA. */
  static RgbaImage toRgba(BufferedImage image) {
    RgbaImage direct = interleavedSrgb(image);
    if (direct != null) {
      return direct;
    }
    int w = image.getWidth();
    int h = image.getHeight();
    ColorModel cm = image.getColorModel();
    boolean alpha = cm.hasAlpha();
    byte[] out = new byte[w * h * 4];
    Raster raster = image.getRaster();
    boolean plainGray =
        cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY
            && !(cm instanceof IndexColorModel)
            && raster.getNumBands() <= 2;
    if (plainGray) {
      // read grey samples as they are: the JDK's grey colour space is linear, and converting it to
      // sRGB would brighten 16-bit PNGs that were written in sRGB
      double grayMax = (1 << cm.getComponentSize(0)) - 1;
      double alphaMax = alpha ? (1 << cm.getComponentSize(1)) - 1 : 1;
      int[] row = new int[w * raster.getNumBands()];
      for (int y = 0; y < h; y++) {
        raster.getPixels(0, y, w, 1, row);
        for (int x = 0; x < w; x++) {
          int o = (y * w + x) * 4;
          byte g = (byte) Math.round(row[x * raster.getNumBands()] * 255 / grayMax);
          out[o] = g;
          out[o + 1] = g;
          out[o + 2] = g;
          out[o + 3] =
              alpha ? (byte) Math.round(row[x * raster.getNumBands() + 1] * 255 / alphaMax) : -1;
        }
      }
    } else {
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        image.getRGB(0, y, w, 1, row, 0, w);
        for (int x = 0; x < w; x++) {
          int argb = row[x];
          int o = (y * w + x) * 4;
          out[o] = (byte) (argb >> 16);
          out[o + 1] = (byte) (argb >> 8);
          out[o + 2] = (byte) argb;
          out[o + 3] = alpha ? (byte) (argb >>> 24) : -1;
        }
      }
    }
    return new RgbaImage(w, h, out, alpha);
  }

  /**
   * The pixels of the layouts the PNG and JPEG readers give for ordinary 8-bit sRGB images (BGR, or
   * ABGR with straight alpha), copied straight from the raster's bytes; null for any other layout.
   * The same bytes {@link BufferedImage#getRGB} gives for these, without its per-pixel colour-model
   * calls, which cost more than the copy.
   */
  private static RgbaImage interleavedSrgb(BufferedImage image) {
    int type = image.getType();
    if ((type != BufferedImage.TYPE_3BYTE_BGR && type != BufferedImage.TYPE_4BYTE_ABGR)
        || !image.getColorModel().getColorSpace().isCS_sRGB()
        || !(image.getRaster().getDataBuffer() instanceof DataBufferByte buffer)
        || !(image.getRaster().getSampleModel() instanceof PixelInterleavedSampleModel model)
        || image.getRaster().getSampleModelTranslateX() != 0
        || image.getRaster().getSampleModelTranslateY() != 0
        || buffer.getNumBanks() != 1) {
      return null;
    }
    int w = image.getWidth();
    int h = image.getHeight();
    boolean alpha = type == BufferedImage.TYPE_4BYTE_ABGR;
    int step = model.getPixelStride();
    int stride = model.getScanlineStride();
    int[] offsets = model.getBandOffsets(); // R, G, B (then A) within a pixel
    if (step != (alpha ? 4 : 3) || offsets.length != step) {
      return null;
    }
    byte[] in = buffer.getData();
    byte[] out = new byte[w * h * 4];
    for (int y = 0; y < h; y++) {
      int from = buffer.getOffset() + y * stride;
      for (int x = 0, o = y * w * 4; x < w; x++, o += 4, from += step) {
        out[o] = in[from + offsets[0]];
        out[o + 1] = in[from + offsets[1]];
        out[o + 2] = in[from + offsets[2]];
        out[o + 3] = alpha ? in[from + offsets[3]] : (byte) -1;
      }
    }
    return new RgbaImage(w, h, out, alpha);
  }
}
