package io.retina.workers.imaging;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Encodes 8-bit RGBA as a baseline JPEG (YCbCr, JFIF) at a quality from 1 to 100. JPEG has no
 * alpha: a transparent or translucent pixel is composited onto white, as image viewers show it.
 * Stateless and thread-safe (each call has its own writer).
 *
 * <p>The writer is the first ImageIO lists for "jpeg": with twelvemonkeys' imageio-jpeg on the
 * classpath that is its {@code JPEGImageWriter}, which hands the encoding to the JDK's (libjpeg)
 * writer. Quality {@code n} is ImageWriteParam's compression quality {@code n / 100}, which scales
 * the standard quantization tables.
 */
public final class JpegEncoder {

  /** The media type of what this class writes. */
  public static final String MEDIA_TYPE = "image/jpeg";

  private JpegEncoder() {}

  /** Encodes an image at {@code quality}, 1 (smallest) to 100 (best). */
  public static byte[] encode(RgbaImage img, int quality) {
    if (quality < 1 || quality > 100) {
      throw new IllegalArgumentException("JPEG quality is 1 to 100, not " + quality);
    }
    BufferedImage rgb = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_3BYTE_BGR);
    byte[] dst = ((DataBufferByte) rgb.getRaster().getDataBuffer()).getData();
    byte[] src = img.rgba();
    for (int i = 0, n = img.pixels(); i < n; i++) {
      int a = img.hasAlpha() ? src[i * 4 + 3] & 0xff : 255;
      for (int c = 0; c < 3; c++) {
        dst[i * 3 + 2 - c] = (byte) onWhite(src[i * 4 + c] & 0xff, a);
      }
    }
    return write(rgb, quality);
  }

  /** A channel value composited over white at alpha {@code a}, rounded. */
  private static int onWhite(int value, int a) {
    return (value * a + 255 * (255 - a) + 127) / 255;
  }

  private static byte[] write(BufferedImage image, int quality) {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    if (!writers.hasNext()) {
      throw new IllegalStateException("no JPEG writer in this JVM");
    }
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality / 100f);
      writer.setOutput(out);
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException("writing a JPEG in memory", e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }
}
