package io.retina.platform.models;

import java.util.List;

/**
 * One request parameter a model version accepts: its name, what it means, the values allowed and
 * the default. Values travel as strings (query parameters or form fields); {@code allowed} lists
 * every accepted value.
 */
public record ParameterSpec(
    String name, String description, List<String> allowed, String defaultValue) {
  public ParameterSpec {
    allowed = List.copyOf(allowed);
    if (!allowed.contains(defaultValue)) {
      throw new IllegalArgumentException(name + ": default " + defaultValue + " is not allowed");
    }
  }
}
