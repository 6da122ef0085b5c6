package io.retina.workers.imaging;

/**
 * Reads the EXIF orientation tag of a JPEG and turns an image upright accordingly. Stateless and
 * thread-safe.
 */
final class ExifOrientation {

  private static final int TAG_ORIENTATION = 0x0112;

  private ExifOrientation() {}

  /** The orientation (1 to 8) of a JPEG's EXIF block; 1 (as stored) when absent or unreadable. */
  static int of(byte[] b) {
    if (b.length < 4 || (b[0] & 0xff) != 0xFF || (b[1] & 0xff) != 0xD8) {
      return 1;
    }
    int p = 2;
    while (p + 4 <= b.length && (b[p] & 0xff) == 0xFF) {
      int marker = b[p + 1] & 0xff;
      int length = u16(b, p + 2, false);
      if (marker == 0xDA || length < 2) {
        return 1; // image data starts: no EXIF before it
      }
      if (marker == 0xE1 && p + 10 <= b.length && isExifHeader(b, p + 4)) {
        return orientationInTiff(b, p + 10, Math.min(b.length, p + 2 + length));
      }
      p += 2 + length;
    }
    return 1;
  }

  private static boolean isExifHeader(byte[] b, int p) {
    return b[p] == 'E' && b[p + 1] == 'x' && b[p + 2] == 'i' && b[p + 3] == 'f' && b[p + 4] == 0;
  }

  private static int orientationInTiff(byte[] b, int tiff, int end) {
    if (tiff + 8 > end) {
      return 1;
    }
    boolean little = b[tiff] == 'I';
    int ifd = tiff + (int) u32(b, tiff + 4, little);
    if (ifd < tiff || ifd + 2 > end) {
      return 1;
    }
    int entries = u16(b, ifd, little);
    for (int i = 0; i < entries; i++) {
      int e = ifd + 2 + i * 12;
      if (e + 12 > end) {
        return 1;
      }
      if (u16(b, e, little) == TAG_ORIENTATION) {
        int value = u16(b, e + 8, little);
        return value >= 1 && value <= 8 ? value : 1;
      }
    }
    return 1;
  }

  private static int u16(byte[] b, int p, boolean little) {
    int a = b[p] & 0xff;
    int c = b[p + 1] & 0xff;
    return little ? a | c << 8 : a << 8 | c;
  }

  private static long u32(byte[] b, int p, boolean little) {
    long hi = u16(b, little ? p + 2 : p, little);
    long lo = u16(b, little ? p : p + 2, little);
    return hi << 16 | lo;
  }

  /** The image as it should be displayed for the given EXIF orientation. */
  static RgbaImage upright(RgbaImage img, int orientation) {
    if (orientation <= 1 || orientation > 8) {
      return img;
    }
    int w = img.width();
    int h = img.height();
    boolean swap = orientation >= 5;
    int dw = swap ? h : w;
    int dh = swap ? w : h;
    byte[] src = img.rgba();
    byte[] dst = new byte[src.length];
    for (int dy = 0; dy < dh; dy++) {
      for (int dx = 0; dx < dw; dx++) {
        int sx;
        int sy;
        switch (orientation) {
          case 2 -> {
            sx = w - 1 - dx;
            sy = dy;
          }
          case 3 -> {
            sx = w - 1 - dx;
            sy = h - 1 - dy;
          }
          case 4 -> {
            sx = dx;
            sy = h - 1 - dy;
          }
          case 5 -> {
            sx = dy;
            sy = dx;
          }
          case 6 -> {
            sx = dy;
            sy = h - 1 - dx;
          }
          case 7 -> {
            sx = w - 1 - dy;
            sy = h - 1 - dx;
          }
          default -> {
            sx = w - 1 - dy;
            sy = dx;
          }
        }
        System.arraycopy(src, (sy * w + sx) * 4, dst, (dy * dw + dx) * 4, 4);
      }
    }
    return new RgbaImage(dw, dh, dst, img.hasAlpha());
  }
}
