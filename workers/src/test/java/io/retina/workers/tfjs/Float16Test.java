package io.retina.workers.tfjs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Float16Test {

  @Test
  void convertsNormalNumbers() {
    assertEquals(1.0f, Float16.toFloat(0x3C00));
    assertEquals(-2.0f, Float16.toFloat(0xC000));
    assertEquals(0.333251953125f, Float16.toFloat(0x3555));
    assertEquals(65504f, Float16.toFloat(0x7BFF));
  }

  @Test
  void convertsZerosSubnormalsAndSpecials() {
    assertEquals(0f, Float16.toFloat(0x0000));
    assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(Float16.toFloat(0x8000)));
    assertEquals(0x1p-24f, Float16.toFloat(0x0001));
    assertEquals(0x3FFp-24f, Float16.toFloat(0x03FF));
    assertEquals(Float.POSITIVE_INFINITY, Float16.toFloat(0x7C00));
    assertEquals(Float.NEGATIVE_INFINITY, Float16.toFloat(0xFC00));
    assertTrue(Float.isNaN(Float16.toFloat(0x7E00)));
  }
}
