package io.retina.workers.imaging;

/**
 * Counts a JPEG's scans without decoding it, walking marker segments and skipping each scan's
 * entropy-coded data (where 0xFF00 is a stuffed data byte and RSTn a restart marker, not the end).
 * The API's probe refuses a JPEG with too many scans before storing it; workers count again before
 * decoding, so that a job stored some other way (or before the probe counted) is refused too.
 * Stateless; linear in the input.
 */
public final class JpegScans {

  /**
   * The most scans a JPEG may have, as the API's probe allows: encoders write about ten, and each
   * scan costs the decoder a pass over the whole image.
   */
  public static final int MAX = 256;

  private JpegScans() {}

  /** Whether the bytes start like a JPEG (SOI then a marker). */
  public static boolean isJpeg(byte[] b) {
    return b.length >= 3 && u8(b, 0) == 0xFF && u8(b, 1) == 0xD8 && u8(b, 2) == 0xFF;
  }

  /**
   * The number of SOS segments up to EOI, or up to where the structure breaks off (the decoder
   * judges a broken file; this only bounds the work), counting no further than {@code max + 1}.
   */
  public static int count(byte[] b, int max) {
    int pos = 2;
    int scans = 0;
    while (pos < b.length && scans <= max) {
      if (u8(b, pos) != 0xFF) {
        return scans;
      }
      while (pos < b.length && u8(b, pos) == 0xFF) {
        pos++;
      }
      if (pos >= b.length) {
        return scans;
      }
      int marker = u8(b, pos++);
      if (marker == 0xD9) {
        return scans;
      }
      if (marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
        continue; // stand-alone markers, without a length
      }
      if (b.length - pos < 2) {
        return scans;
      }
      pos += u8(b, pos) << 8 | u8(b, pos + 1);
      if (marker == 0xDA) {
        scans++;
        pos = endOfEntropyCodedData(b, pos);
      }
    }
    return scans;
  }

  /** The index of the first 0xFF of the marker that ends a scan's data, or the length. */
  private static int endOfEntropyCodedData(byte[] b, int from) {
    int i = from;
    while (i < b.length) {
      if (u8(b, i) != 0xFF) {
        i++;
        continue;
      }
      int j = i + 1;
      while (j < b.length && u8(b, j) == 0xFF) {
        j++;
      }
      if (j >= b.length) {
        return b.length;
      }
      int next = u8(b, j);
      if (next != 0x00 && (next < 0xD0 || next > 0xD7)) {
        return i;
      }
      i = j + 1;
    }
    return b.length;
  }

  private static int u8(byte[] b, int i) {
    return b[i] & 0xFF;
  }
}
