package io.retina.workers.imaging;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Encodes 8-bit RGBA, RGB and grey pixels as PNG. Stateless and thread-safe. */
public final class PngEncoder {

  /** The media type of what this class writes. */
  public static final String MEDIA_TYPE = "image/png";

  private PngEncoder() {}

  /** Encodes an image as RGBA when {@code withAlpha}, else as RGB (alpha dropped). */
  public static byte[] encode(RgbaImage img, boolean withAlpha) {
    int n = img.pixels();
    byte[] src = img.rgba();
    BufferedImage out;
    if (withAlpha) {
      out = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_4BYTE_ABGR);
      byte[] dst = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
      for (int i = 0; i < n; i++) {
        dst[i * 4] = src[i * 4 + 3];
        dst[i * 4 + 1] = src[i * 4 + 2];
        dst[i * 4 + 2] = src[i * 4 + 1];
        dst[i * 4 + 3] = src[i * 4];
      }
    } else {
      out = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_3BYTE_BGR);
      byte[] dst = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
      for (int i = 0; i < n; i++) {
        dst[i * 3] = src[i * 4 + 2];
        dst[i * 3 + 1] = src[i * 4 + 1];
        dst[i * 3 + 2] = src[i * 4];
      }
    }
    return write(out);
  }

  /** Encodes one 8-bit grey channel, row-major. */
  public static byte[] encodeGray(int width, int height, byte[] gray) {
    if (gray.length != width * height) {
      throw new IllegalArgumentException("expected " + width * height + " bytes");
    }
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    byte[] dst = ((DataBufferByte) out.getRaster().getDataBuffer()).getData();
    System.arraycopy(gray, 0, dst, 0, gray.length);
    return write(out);
  }

  private static byte[] write(BufferedImage image) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(image, "png", bytes)) {
        throw new IllegalStateException("no PNG writer in this JVM");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writing to memory does not fail
    }
    return bytes.toByteArray();
  }
}
