package io.retina.platform.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which artifact options fit a task, and which of them name files. */
class ModelTasksTest {

  @Test
  void anUpscaleRangeIsASettingThatNamesNoFile() {
    Map<String, String> options = Map.of("x2", "models/x2/model.json", "range", "0..1");
    assertEquals(Optional.empty(), ModelTasks.checkOptions("upscale", options));
    assertEquals(Map.of("x2", "models/x2/model.json"), ModelTasks.modelFiles("upscale", options));
  }

  @Test
  void anUpscaleRangeOtherThanTheTwoKnownIsRefused() {
    Optional<String> why =
        ModelTasks.checkOptions("upscale", Map.of("x2", "m.json", "range", "-1..1"));
    assertTrue(why.isPresent() && why.get().contains("'range'"), why.toString());
  }

  @Test
  void aTaskThatRunsNoModelTakesNoUpload() {
    assertEquals(
        Optional.of("resize runs no model, so it has no versions to upload"),
        ModelTasks.checkOptions("resize", Map.of("model", "m.json")));
  }
}
