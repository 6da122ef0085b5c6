package io.retina.platform.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import io.retina.platform.store.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParameterSpecTest {
  private static final ParameterSpec WIDTH = ParameterSpec.range("width", "pixels", 1, 4096, 1024);

  @Test
  void aRangeTakesWholeNumbersFromMinToMaxInclusive() {
    for (String v : List.of("1", "2", "1024", "4095", "4096")) {
      assertTrue(WIDTH.accepts(v), v);
    }
    for (String v : List.of("0", "4097", "99999999999", "-1")) {
      assertFalse(WIDTH.accepts(v), v);
    }
  }

  @Test
  void aRangeRefusesAnythingButPlainDigits() {
    for (String v : List.of("+5", " 5", "5 ", "05", "5.0", "1e3", "0x10", "", "٥")) {
      assertFalse(WIDTH.accepts(v), "'" + v + "'");
    }
    assertTrue(ParameterSpec.range("n", "", 0, 3, 0).accepts("0"));
    assertFalse(ParameterSpec.range("n", "", 0, 3, 0).accepts("00"));
  }

  @Test
  void aRefusalSaysTheRange() {
    ModelVersion v = version(List.of(WIDTH));
    ModelVersion.InvalidParametersException e =
        assertThrows(
            ModelVersion.InvalidParametersException.class,
            () -> v.resolveParameters(Map.of("width", "5000")));
    assertEquals("width", e.parameter());
    assertEquals(
        "width must be a whole number from 1 to 4096 (digits only), not '5000'", e.getMessage());
  }

  @Test
  void aRangeDefaultIsFilledInAndAGivenValueKept() throws Exception {
    ModelVersion v =
        version(
            List.of(WIDTH, new ParameterSpec("fit", "how", List.of("contain", "fill"), "contain")));
    assertEquals(Map.of("width", "1024", "fit", "contain"), v.resolveParameters(Map.of()));
    assertEquals(
        Map.of("width", "32", "fit", "fill"),
        v.resolveParameters(Map.of("width", "32", "fit", "fill")));
  }

  @Test
  void aListParameterStillTakesOnlyItsValues() {
    ModelVersion v = TestModels.echo(1);
    ModelVersion.InvalidParametersException e =
        assertThrows(
            ModelVersion.InvalidParametersException.class,
            () -> v.resolveParameters(Map.of("scale", "3")));
    assertEquals("scale must be one of [2, 4], not '3'", e.getMessage());
  }

  @Test
  void aSpecIsAListOrARangeWithItsDefaultInside() {
    assertThrows(
        IllegalArgumentException.class,
        () -> ParameterSpec.range("width", "", 1, 4096, 0)); // default outside
    assertThrows(IllegalArgumentException.class, () -> ParameterSpec.range("w", "", 5, 4, 5));
    assertThrows(IllegalArgumentException.class, () -> ParameterSpec.range("w", "", -2, 4, 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> new ParameterSpec("w", "", List.of("1"), "1", 1, 4)); // both
    assertThrows(
        IllegalArgumentException.class, () -> new ParameterSpec("w", "", List.of(), "1", 1, null));
    assertThrows(IllegalArgumentException.class, () -> new ParameterSpec("w", "", List.of(), "1"));
  }

  @Test
  void aRangeWritesMinAndMaxAndAListWritesAllowed() {
    assertEquals(
        "{\"name\":\"width\",\"description\":\"pixels\",\"defaultValue\":\"1024\","
            + "\"min\":1,\"max\":4096}",
        Json.write(WIDTH));
    assertEquals(
        "{\"name\":\"fit\",\"description\":\"how\",\"allowed\":[\"contain\"],"
            + "\"defaultValue\":\"contain\"}",
        Json.write(new ParameterSpec("fit", "how", List.of("contain"), "contain")));
  }

  @Test
  void storedSpecsReadBackAndOldRowsWithoutARangeStillLoad() {
    List<ParameterSpec> specs =
        List.of(WIDTH, new ParameterSpec("fit", "how", List.of("contain", "fill"), "fill"));
    assertEquals(specs, Json.read(Json.write(specs), new TypeReference<List<ParameterSpec>>() {}));
    String before =
        "[{\"name\":\"scale\",\"description\":\"d\",\"allowed\":[\"2\",\"4\"],"
            + "\"defaultValue\":\"2\"}]";
    assertEquals(
        List.of(new ParameterSpec("scale", "d", List.of("2", "4"), "2")),
        Json.read(before, new TypeReference<List<ParameterSpec>>() {}));
  }

  private static ModelVersion version(List<ParameterSpec> parameters) {
    ModelVersion echo = TestModels.echo(1);
    return new ModelVersion(
        echo.modelName(),
        1,
        echo.task(),
        echo.format(),
        echo.source(),
        echo.artifactDigest(),
        echo.artifact(),
        parameters,
        false,
        1,
        0,
        0,
        0,
        ModelVersion.Status.ACTIVE);
  }
}
