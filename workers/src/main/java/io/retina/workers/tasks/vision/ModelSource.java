package io.retina.workers.tasks.vision;

import io.retina.workers.tfjs.TfModel;
import java.io.IOException;

/** Loads the model an artifact option names (e.g. "model", "faceres"). */
@FunctionalInterface
public interface ModelSource {
  TfModel load(String option) throws IOException;
}
