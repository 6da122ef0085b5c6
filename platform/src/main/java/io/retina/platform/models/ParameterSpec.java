package io.retina.platform.models;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One request parameter a model version accepts: its name, what it means, the values it takes and
 * the default. Values travel as strings (query parameters or form fields). A parameter takes either
 * one of a list of values ({@code allowed}) or a whole number in an inclusive range ({@code min} to
 * {@code max}, written in decimal without sign, spaces or leading zeros); never both. Immutable.
 *
 * <p>Its JSON (stored in {@code model_versions.parameters} and shown by the API) carries {@code
 * allowed} for a list and {@code min} and {@code max} for a range; rows written before ranges
 * existed have only {@code allowed}, and read as lists.
 */
public record ParameterSpec(
    String name,
    String description,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> allowed,
    String defaultValue,
    @JsonInclude(JsonInclude.Include.NON_NULL) Integer min,
    @JsonInclude(JsonInclude.Include.NON_NULL) Integer max) {

  /** "0", or digits without a leading zero; ten at most, so that any of them fits a long. */
  private static final Pattern WHOLE_NUMBER = Pattern.compile("0|[1-9][0-9]{0,9}");

  @JsonCreator
  public ParameterSpec {
    allowed = allowed == null ? List.of() : List.copyOf(allowed);
    if ((min == null) != (max == null)) {
      throw new IllegalArgumentException(name + ": a range needs both min and max");
    }
    if (min != null && !allowed.isEmpty()) {
      throw new IllegalArgumentException(
          name + ": a parameter takes a list of values or a range, not both");
    }
    if (min == null && allowed.isEmpty()) {
      throw new IllegalArgumentException(name + ": give the allowed values, or min and max");
    }
    if (min != null && (min < 0 || min > max)) {
      // values are written without a sign, so a range cannot reach below 0
      throw new IllegalArgumentException(
          name + ": a range is 0 <= min <= max, not " + min + " to " + max);
    }
    if (!accepts(defaultValue, allowed, min, max)) {
      throw new IllegalArgumentException(
          name + ": default " + defaultValue + " is not " + expectation(allowed, min, max));
    }
  }

  /** A parameter that takes one of {@code allowed}. */
  public ParameterSpec(String name, String description, List<String> allowed, String defaultValue) {
    this(name, description, allowed, defaultValue, null, null);
  }

  /** A parameter that takes a whole number from {@code min} to {@code max}, both included. */
  public static ParameterSpec range(
      String name, String description, int min, int max, int defaultValue) {
    return new ParameterSpec(
        name, description, List.of(), Integer.toString(defaultValue), min, max);
  }

  /** Whether this is a range rather than a list of values. */
  @JsonIgnore // min and max say it in the JSON
  public boolean isRange() {
    return min != null;
  }

  /** Whether {@code value} is one this parameter takes. */
  public boolean accepts(String value) {
    return accepts(value, allowed, min, max);
  }

  /** What the parameter takes, in words, e.g. "one of [2, 4]" or "a whole number from 1 to 8". */
  public String expectation() {
    return expectation(allowed, min, max);
  }

  private static boolean accepts(String value, List<String> allowed, Integer min, Integer max) {
    if (value == null) {
      return false;
    }
    if (min == null) {
      return allowed.contains(value);
    }
    if (!WHOLE_NUMBER.matcher(value).matches()) {
      return false;
    }
    long n = Long.parseLong(value);
    return n >= min && n <= max;
  }

  private static String expectation(List<String> allowed, Integer min, Integer max) {
    return min == null
        ? "one of " + allowed
        : "a whole number from " + min + " to " + max + " (digits only)";
  }
}
