package io.retina.workers.tasks;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import io.retina.workers.models.ModelFiles;
import io.retina.workers.tfjs.TfModel;
import io.retina.workers.tfjs.TfjsModels;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * Reads a TF.js model that nsfwjs ships as browserify UMD bundles: {@code model.min.js} exports the
 * model.json object as a JavaScript literal, and each {@code <shard>.min.js} exports the shard's
 * bytes as one base64 string. Writes them out as a plain {@code model.json} plus binary shards,
 * which the TF.js importers read. Stateless and thread-safe; nothing is evaluated, only parsed.
 */
public final class ModerationUmdBundle {

  /** Where the bundle's single module body starts: {@code {1:[function(e,a,n){a.exports=...}. */
  private static final String MODULE_START = "{1:[function(";

  private ModerationUmdBundle() {}

  /**
   * Imports a classifier from its nsfwjs bundle ({@code dist/models/<name>/model.min.js}): the
   * weights are unpacked from the bundle into a temporary directory, imported, and deleted. An
   * {@link io.retina.workers.models.CanonicalModels.Importer}.
   */
  public static TfModel importModel(Path modelJs) throws IOException {
    Path tmp = Files.createTempDirectory("retina-moderation");
    try {
      return TfjsModels.load(extract(modelJs, tmp));
    } finally {
      ModelFiles.deleteTree(tmp);
    }
  }

  /**
   * Writes {@code model.json} and its shards into {@code outDir} from the bundle {@code modelJs} (a
   * {@code model.min.js}; its shards are the manifest's paths plus {@code .min.js} beside it).
   * Returns the written model.json. Fails with IOException if the files are not such bundles.
   */
  static Path extract(Path modelJs, Path outDir) throws IOException {
    JsonElement model = exported(modelJs);
    if (!model.isJsonObject() || !model.getAsJsonObject().has("weightsManifest")) {
      throw new IOException(modelJs + " does not export a TF.js model with a weights manifest");
    }
    Path dir = modelJs.toAbsolutePath().getParent();
    for (JsonElement group : model.getAsJsonObject().getAsJsonArray("weightsManifest")) {
      for (JsonElement p : group.getAsJsonObject().getAsJsonArray("paths")) {
        String shard = p.getAsString();
        if (!shard.matches("[A-Za-z0-9_.-]+") || shard.startsWith(".")) {
          throw new IOException(modelJs + " names an unsafe shard path: " + shard);
        }
        JsonElement base64 = exported(dir.resolve(shard + ".min.js"));
        if (!base64.isJsonPrimitive() || !base64.getAsJsonPrimitive().isString()) {
          throw new IOException(shard + ".min.js does not export a base64 string");
        }
        try {
          Files.write(outDir.resolve(shard), Base64.getDecoder().decode(base64.getAsString()));
        } catch (IllegalArgumentException e) {
          throw new IOException(shard + ".min.js holds malformed base64", e);
        }
      }
    }
    Path json = outDir.resolve("model.json");
    Files.writeString(json, model.toString(), StandardCharsets.UTF_8);
    return json;
  }

  /** The value a bundle's module assigns to its {@code exports}. */
  static JsonElement exported(Path bundle) throws IOException {
    String js = Files.readString(bundle, StandardCharsets.UTF_8);
    int module = js.indexOf(MODULE_START);
    int assign = module < 0 ? -1 : js.indexOf(".exports=", module);
    if (assign < 0) {
      throw new IOException(bundle + " is not a browserify bundle with one exported value");
    }
    try {
      return new Literal(js, assign + ".exports=".length()).value();
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new IOException(bundle + " holds no literal Retina can read: " + e.getMessage(), e);
    }
  }

  /**
   * A parser for the subset of JavaScript literals that minifiers emit for JSON data: objects with
   * bare or quoted keys, arrays, double-quoted strings, numbers such as {@code -.5}, {@code null},
   * and {@code !0}/{@code !1} for true/false.
   */
  private static final class Literal {
    private final String s;
    private int i;

    Literal(String s, int start) {
      this.s = s;
      this.i = start;
    }

    JsonElement value() {
      char c = peek();
      switch (c) {
        case '{':
          return object();
        case '[':
          return array();
        case '"':
        case '\'':
          return new JsonPrimitive(string());
        case '!':
          i++;
          char b = s.charAt(i++);
          if (b != '0' && b != '1') {
            throw error("expected !0 or !1");
          }
          return new JsonPrimitive(b == '0');
        default:
          if (c == '-' || c == '.' || Character.isDigit(c)) {
            return number();
          }
          String word = identifier();
          return switch (word) {
            case "null" -> JsonNull.INSTANCE;
            case "true" -> new JsonPrimitive(true);
            case "false" -> new JsonPrimitive(false);
            default -> throw error("unexpected '" + word + "'");
          };
      }
    }

    private JsonObject object() {
      JsonObject o = new JsonObject();
      i++; // {
      if (peek() == '}') {
        i++;
        return o;
      }
      while (true) {
        char c = peek();
        String key =
            c == '"' || c == '\'' ? string() : Character.isDigit(c) ? digits() : identifier();
        expect(':');
        o.add(key, value());
        char next = s.charAt(i++);
        if (next == '}') {
          return o;
        }
        if (next != ',') {
          throw error("expected , or }");
        }
      }
    }

    private JsonArray array() {
      JsonArray a = new JsonArray();
      i++; // [
      if (peek() == ']') {
        i++;
        return a;
      }
      while (true) {
        a.add(value());
        char next = s.charAt(i++);
        if (next == ']') {
          return a;
        }
        if (next != ',') {
          throw error("expected , or ]");
        }
      }
    }

    private String string() {
      char quote = s.charAt(i++);
      StringBuilder b = new StringBuilder();
      while (true) {
        char c = s.charAt(i++);
        if (c == quote) {
          return b.toString();
        }
        if (c != '\\') {
          b.append(c);
          continue;
        }
        char e = s.charAt(i++);
        switch (e) {
          case 'n' -> b.append('\n');
          case 't' -> b.append('\t');
          case 'r' -> b.append('\r');
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'u' -> {
            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> b.append(e); // \" \\ \/ \'
        }
      }
    }

    private JsonPrimitive number() {
      int start = i;
      while (i < s.length() && "+-.0123456789eE".indexOf(s.charAt(i)) >= 0) {
        i++;
      }
      String text = s.substring(start, i);
      try {
        // BigDecimal takes ".5" and "-.5" as they are; JSON would not
        return new JsonPrimitive(new BigDecimal(text));
      } catch (NumberFormatException e) {
        throw error("bad number " + text);
      }
    }

    private String digits() {
      int start = i;
      while (i < s.length() && Character.isDigit(s.charAt(i))) {
        i++;
      }
      return s.substring(start, i);
    }

    private String identifier() {
      int start = i;
      while (i < s.length() && (Character.isJavaIdentifierPart(s.charAt(i)))) {
        i++;
      }
      if (start == i) {
        throw error("unexpected character");
      }
      return s.substring(start, i);
    }

    private void expect(char c) {
      if (s.charAt(i++) != c) {
        throw error("expected " + c);
      }
    }

    private char peek() {
      if (i >= s.length()) {
        throw error("unexpected end");
      }
      return s.charAt(i);
    }

    private IllegalArgumentException error(String what) {
      int from = Math.max(0, i - 20);
      int to = Math.min(s.length(), i + 20);
      return new IllegalArgumentException(
          what + " at offset " + i + " near '" + s.substring(from, to) + "'");
    }
  }
}
