package io.retina.workers.tfjs;

/** IEEE 754 half-precision to single-precision conversion (Java 17 has none). Thread-safe. */
final class Float16 {

  private Float16() {}

  /** The float value of the half-precision bits in the low 16 bits of {@code bits}. */
  static float toFloat(int bits) {
    int sign = (bits & 0x8000) << 16;
    int exponent = (bits >>> 10) & 0x1f;
    int mantissa = bits & 0x3ff;
    if (exponent == 0x1f) { // infinity or NaN: keep the payload
      return Float.intBitsToFloat(sign | 0x7f800000 | mantissa << 13);
    }
    if (exponent == 0) {
      if (mantissa == 0) {
        return Float.intBitsToFloat(sign); // signed zero
      }
      // subnormal half: mantissa * 2^-24, exact in float
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | (exponent + 112) << 23 | mantissa << 13);
  }
}
