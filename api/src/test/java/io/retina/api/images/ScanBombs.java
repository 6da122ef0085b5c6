package io.retina.api.images;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes decoding bombs for tests from a valid JPEG: one of its scans repeated many times before
 * EOI. Every repeat is well formed, so only counting scans tells the file apart from a real one.
 */
final class ScanBombs {
  private ScanBombs() {}

  /** {@code jpeg} with its last scan written {@code repeats} more times before its EOI. */
  static byte[] repeatLastScan(byte[] jpeg, int repeats) {
    List<int[]> scans = scans(jpeg);
    int[] last = scans.get(scans.size() - 1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(jpeg, 0, last[1]);
    for (int i = 0; i < repeats; i++) {
      out.write(jpeg, last[0], last[1] - last[0]);
    }
    out.write(0xFF);
    out.write(0xD9);
    return out.toByteArray();
  }

  /** How many SOS segments the JPEG has. */
  static int scanCount(byte[] jpeg) {
    return scans(jpeg).size();
  }

  /** Each scan's [start, end): its SOS segment and the entropy-coded data after it. */
  private static List<int[]> scans(byte[] b) {
    List<int[]> scans = new ArrayList<>();
    int pos = 2;
    while (true) {
      while ((b[pos] & 0xFF) == 0xFF) {
        pos++;
      }
      int marker = b[pos++] & 0xFF;
      if (marker == 0xD9) {
        return scans;
      }
      int start = pos - 2;
      pos += (b[pos] & 0xFF) << 8 | (b[pos + 1] & 0xFF);
      if (marker == 0xDA) {
        // entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or an RSTn
        while (true) {
          if ((b[pos] & 0xFF) == 0xFF) {
            int next = b[pos + 1] & 0xFF;
            if (next != 0x00 && (next < 0xD0 || next > 0xD7)) {
              break;
            }
            pos++;
          }
          pos++;
        }
        scans.add(new int[] {start, pos});
      }
    }
  }
}
