package io.retina.workers.imaging;

/**
 * The PNG scanline filters (filter method 0) and the adaptive choice between them. A filter turns
 * each byte of a row into its difference from a prediction made from the byte one pixel to the left
 * ({@code a}), the byte above ({@code b}) and the byte above-left ({@code c}); bytes left of the
 * row and above the first row count as 0. Stateless and thread-safe.
 */
enum PngFilter {
  NONE,
  SUB,
  UP,
  AVERAGE,
  PAETH,
  /**
   * Per row, whichever of the five fixed filters gives the least sum of absolute values (each
   * output byte read as signed): the heuristic the PNG specification suggests for truecolour.
   */
  ADAPTIVE;

  /** The five filters a row can be written with; their ordinal is the PNG filter type byte. */
  private static final PngFilter[] FIXED = {NONE, SUB, UP, AVERAGE, PAETH};

  /**
   * Filters {@code row} ({@code prev} is the row above, all zeros for the first) into {@code out}
   * from {@code at}: the filter type byte, then {@code row.length} filtered bytes. {@code scratch}
   * holds five rows' worth of room for the adaptive choice; fixed filters leave it alone.
   */
  void filter(byte[] row, byte[] prev, int bpp, byte[] out, int at, byte[][] scratch) {
    if (this != ADAPTIVE) {
      out[at] = (byte) ordinal();
      apply(ordinal(), row, prev, bpp, out, at + 1);
      return;
    }
    int best = 0;
    long bestSum = Long.MAX_VALUE;
    for (int type = 0; type < FIXED.length; type++) {
      apply(type, row, prev, bpp, scratch[type], 0);
      long sum = absSum(scratch[type], row.length);
      if (sum < bestSum) {
        bestSum = sum;
        best = type;
      }
    }
    out[at] = (byte) best;
    System.arraycopy(scratch[best], 0, out, at + 1, row.length);
  }

  private static long absSum(byte[] filtered, int n) {
    long sum = 0;
    for (int i = 0; i < n; i++) {
      sum += Math.abs(filtered[i]);
    }
    return sum;
  }

  private static void apply(int type, byte[] row, byte[] prev, int bpp, byte[] out, int at) {
    int n = row.length;
    switch (type) {
      case 0 -> System.arraycopy(row, 0, out, at, n);
      case 1 -> {
        System.arraycopy(row, 0, out, at, bpp);
        for (int i = bpp; i < n; i++) {
          out[at + i] = (byte) (row[i] - row[i - bpp]);
        }
      }
      case 2 -> {
        for (int i = 0; i < n; i++) {
          out[at + i] = (byte) (row[i] - prev[i]);
        }
      }
      case 3 -> {
        for (int i = 0; i < bpp; i++) {
          out[at + i] = (byte) (row[i] - ((prev[i] & 0xff) >>> 1));
        }
        for (int i = bpp; i < n; i++) {
          out[at + i] = (byte) (row[i] - (((row[i - bpp] & 0xff) + (prev[i] & 0xff)) >>> 1));
        }
      }
      case 4 -> {
        for (int i = 0; i < bpp; i++) {
          out[at + i] = (byte) (row[i] - prev[i]); // with a = c = 0 the predictor is b
        }
        for (int i = bpp; i < n; i++) {
          out[at + i] =
              (byte) (row[i] - paeth(row[i - bpp] & 0xff, prev[i] & 0xff, prev[i - bpp] & 0xff));
        }
      }
      default -> throw new IllegalArgumentException("filter type " + type);
    }
  }

  /** Of left, above and above-left, the one nearest to left + above - above-left; ties in order. */
  static int paeth(int a, int b, int c) {
    int pa = Math.abs(b - c);
    int pb = Math.abs(a - c);
    int pc = Math.abs(a + b - 2 * c);
    if (pa <= pb && pa <= pc) {
      return a;
    }
    return pb <= pc ? b : c;
  }
}
