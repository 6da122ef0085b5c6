package io.retina.platform.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class JobErrorDetailTest {
  @Test
  void aTenantReadsTheReasonWithoutServerPathsOrClassNames() {
    assertEquals(
        "the model could not be loaded: Could not find SavedModel in <path>",
        JobErrorDetail.forTenant(
            "the model could not be loaded: org.tensorflow.exceptions.TensorFlowException:"
                + " Could not find SavedModel in /var/lib/retina/models/x@2/saved_model.pb"));
    assertEquals(
        "the model failed on this input",
        JobErrorDetail.forTenant(
            "the model failed on this input: java.lang.IllegalStateException"));
    assertEquals(
        "the model failed on this input: no more memory",
        JobErrorDetail.forTenant(
            "the model failed on this input: OutOfMemoryError: no more memory"));
  }

  @Test
  void anOrdinaryReasonIsKeptAsItIs() {
    String reason = "the image is 9000x9000; the model takes at most 4096 pixels a side (scale=4)";
    assertEquals(reason, JobErrorDetail.forTenant(reason));
  }
}
