package io.retina.platform.training;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * A labelled dataset as a tenant uploads it: a zip with one folder per class, each holding that
 * class's images ({@code cats/1.jpg}, {@code dogs/2.png}); one enclosing folder ({@code
 * pets/cats/1.jpg}) is allowed. The zip is read as a stream with every size counted as it is
 * inflated, never trusted from its headers, so a zip bomb stops at the limit. Stateless.
 */
public final class Dataset {

  /** One image and the class its folder names. */
  public record Item(String label, String file, byte[] bytes) {}

  /** The limits a read enforces. */
  public record Limits(int maxImages, long maxImageBytes, long maxTotalBytes) {}

  /** The dataset can't be used; the message is for the tenant. */
  public static final class InvalidDatasetException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidDatasetException(String message) {
      super(message);
    }
  }

  /** Class names: what a folder may be called, and the label a prediction gives. */
  private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}");

  private static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "webp", "jfif");

  private Dataset() {}

  /**
   * The images of the zip, in the zip's order. Folders, files of other kinds and the litter of
   * archivers ({@code __MACOSX/}, dot files) are skipped; anything else out of shape is refused.
   */
  public static List<Item> read(byte[] zip, Limits limits) throws InvalidDatasetException {
    return label(entries(zip, limits));
  }

  /** The zip's files, litter skipped, each read within the limits; refuses an empty zip. */
  private static List<RawEntry> entries(byte[] zip, Limits limits) throws InvalidDatasetException {
    List<RawEntry> entries = new ArrayList<>();
    long total = 0;
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      ZipEntry e;
      while ((e = in.getNextEntry()) != null) {
        String name = e.getName().replace('\\', '/');
        if (e.isDirectory() || skipped(name)) {
          continue;
        }
        if (entries.size() >= limits.maxImages()) {
          throw new InvalidDatasetException(
              "The dataset has more than " + limits.maxImages() + " images, your plan's limit.");
        }
        byte[] bytes = readLimited(in, name, limits.maxImageBytes());
        total += bytes.length;
        if (total > limits.maxTotalBytes()) {
          throw new InvalidDatasetException(
              "The dataset's images come to more than " + limits.maxTotalBytes() + " bytes.");
        }
        entries.add(new RawEntry(name, bytes));
      }
    } catch (ZipException e) {
      throw new InvalidDatasetException("The dataset is not a readable zip: " + e.getMessage());
    } catch (IOException e) {
      throw new InvalidDatasetException("The dataset could not be read: " + e.getMessage());
    }
    if (entries.isEmpty()) {
      throw new InvalidDatasetException(
          "The zip holds no images: put each class's images in a folder named after the class.");
    }
    return entries;
  }

  /**
   * The images of a zip whose folders mean nothing (a denoiser learns from images, not labels):
   * images at the top or in folders, at any depth, each with the path it has in the zip as its
   * label. The same limits and refusals as {@link #read}, but no class folders are required.
   */
  public static List<Item> readUnlabelled(byte[] zip, Limits limits)
      throws InvalidDatasetException {
    List<Item> items = new ArrayList<>();
    for (RawEntry e : entries(zip, limits)) {
      checkPath(e.name());
      checkExtension(e.name());
      items.add(new Item("", e.name(), e.bytes()));
    }
    return items;
  }

  /** The class names, sorted: the order of a classifier's outputs. */
  public static List<String> classes(List<Item> items) {
    return List.copyOf(new TreeSet<>(items.stream().map(Item::label).toList()));
  }

  private record RawEntry(String name, byte[] bytes) {}

  /** Labels each entry by its folder, dropping one enclosing folder all entries share. */
  private static List<Item> label(List<RawEntry> entries) throws InvalidDatasetException {
    Set<String> tops = new LinkedHashSet<>();
    boolean allDeep = true;
    for (RawEntry e : entries) {
      checkPath(e.name());
      String[] parts = e.name().split("/", -1);
      tops.add(parts[0]);
      allDeep &= parts.length == 3;
    }
    int skip = tops.size() == 1 && allDeep ? 1 : 0;
    List<Item> items = new ArrayList<>();
    for (RawEntry e : entries) {
      String[] parts = e.name().split("/");
      if (parts.length != 2 + skip) {
        throw new InvalidDatasetException(
            "'"
                + e.name()
                + "' is not in a class folder: the zip holds one folder per class"
                + " (cats/1.jpg, dogs/2.png), nothing deeper.");
      }
      String label = parts[skip];
      if (!LABEL.matcher(label).matches()) {
        throw new InvalidDatasetException(
            "Class folder '"
                + label
                + "' is not a usable class name: letters, digits, space, _ . + -, up to 64.");
      }
      checkExtension(e.name());
      items.add(new Item(label, e.name(), e.bytes()));
    }
    return items;
  }

  /** Refuses a path that is absolute or climbs out of the zip's folders. */
  private static void checkPath(String name) throws InvalidDatasetException {
    if (name.startsWith("/") || java.util.Arrays.asList(name.split("/", -1)).contains("..")) {
      throw new InvalidDatasetException(
          "'" + name + "' points outside the zip's folders; paths are class/file.");
    }
  }

  /** Refuses a file that is not named as an image. */
  private static void checkExtension(String name) throws InvalidDatasetException {
    int dot = name.lastIndexOf('.');
    String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    if (!IMAGE_EXTENSIONS.contains(ext) || name.endsWith("/")) {
      throw new InvalidDatasetException(
          "'" + name + "' is not an image file: PNG, JPEG or WebP only.");
    }
  }

  private static boolean skipped(String name) {
    if (name.startsWith("__MACOSX/")) {
      return true;
    }
    String last = name.substring(name.lastIndexOf('/') + 1);
    return last.startsWith(".") || last.equalsIgnoreCase("Thumbs.db");
  }

  private static byte[] readLimited(ZipInputStream in, String name, long max)
      throws IOException, InvalidDatasetException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[16384];
    long n = 0;
    int r;
    while ((r = in.read(buf)) > 0) {
      n += r;
      if (n > max) {
        throw new InvalidDatasetException(
            "'" + name + "' is larger than " + max + " bytes, the limit for one image.");
      }
      out.write(buf, 0, r);
    }
    return out.toByteArray();
  }
}
