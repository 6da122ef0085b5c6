package io.retina.workers.imaging;

import java.io.ByteArrayOutputStream;

/**
 * Writes tiny lossless (VP8L) WebP files of black and white pixels, so that decoder tests need no
 * encoder and no committed image: two-symbol "simple" prefix codes, one bit per channel.
 */
final class TinyWebp {

  private TinyWebp() {}

  static byte[] lossless(int w, int h, boolean[] white) {
    Bits bits = new Bits();
    bits.put(0x2f, 8); // VP8L signature
    bits.put(w - 1, 14);
    bits.put(h - 1, 14);
    bits.put(0, 1); // alpha unused
    bits.put(0, 3); // version 0
    bits.put(0, 1); // no transform
    bits.put(0, 1); // no colour cache
    bits.put(0, 1); // no meta prefix codes
    for (int code = 0; code < 3; code++) { // green, red, blue: symbols 0 and 255
      bits.put(1, 1); // simple code
      bits.put(1, 1); // two symbols
      bits.put(1, 1); // first symbol has 8 bits
      bits.put(0, 8);
      bits.put(255, 8);
    }
    for (int code = 0; code < 2; code++) { // alpha: always 255; distance: unused
      bits.put(1, 1);
      bits.put(0, 1); // one symbol
      bits.put(code == 0 ? 1 : 0, 1);
      bits.put(code == 0 ? 255 : 0, code == 0 ? 8 : 1);
    }
    for (boolean pixel : white) {
      int v = pixel ? 1 : 0;
      bits.put(v, 1); // green
      bits.put(v, 1); // red
      bits.put(v, 1); // blue
    }
    byte[] data = bits.bytes();
    int padded = data.length + (data.length & 1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("RIFF".getBytes());
    le32(out, 4 + 8 + padded);
    out.writeBytes("WEBPVP8L".getBytes());
    le32(out, data.length);
    out.writeBytes(data);
    if (padded != data.length) {
      out.write(0);
    }
    return out.toByteArray();
  }

  private static void le32(ByteArrayOutputStream out, int v) {
    for (int i = 0; i < 4; i++) {
      out.write(v >>> (8 * i) & 0xff);
    }
  }

  /** An LSB-first bit writer, as VP8L reads. */
  private static final class Bits {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int current;
    private int used;

    void put(int value, int n) {
      for (int i = 0; i < n; i++) {
        current |= (value >>> i & 1) << used;
        if (++used == 8) {
          out.write(current);
          current = 0;
          used = 0;
        }
      }
    }

    byte[] bytes() {
      if (used > 0) {
        out.write(current);
        current = 0;
        used = 0;
      }
      return out.toByteArray();
    }
  }
}
