package io.retina.server;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;

/**
 * Generated labelled images for training tests: three classes a pretrained backbone tells apart but
 * was never trained on as such (discs, stripes, checkerboards), each drawn with random colours,
 * sizes and positions from a seed, so that a held-out set from another seed shares no image.
 */
final class ShapeSets {
  static final List<String> CLASSES = List.of("checks", "discs", "stripes");

  private ShapeSets() {}

  /** One PNG of the class, drawn from {@code random}. */
  static byte[] image(String label, Random random, int size) {
    BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    Color back = new Color(random.nextInt(0xffffff));
    Color fore = new Color(random.nextInt(0xffffff));
    g.setColor(back);
    g.fillRect(0, 0, size, size);
    g.setColor(fore);
    switch (label) {
      case "discs" -> {
        for (int i = 0, n = 1 + random.nextInt(3); i < n; i++) {
          int d = size / 4 + random.nextInt(size / 3);
          g.fillOval(random.nextInt(size - d), random.nextInt(size - d), d, d);
        }
      }
      case "stripes" -> {
        int width = 3 + random.nextInt(size / 10);
        g.setStroke(new BasicStroke(width));
        g.rotate(random.nextDouble() * Math.PI, size / 2.0, size / 2.0);
        for (int x = -size; x < 2 * size; x += 2 * width + random.nextInt(3)) {
          g.drawLine(x, -size, x, 2 * size);
        }
      }
      case "checks" -> {
        int cell = 4 + random.nextInt(size / 8);
        for (int y = 0; y < size; y += cell) {
          for (int x = (y / cell % 2) * cell; x < size; x += 2 * cell) {
            g.fillRect(x, y, cell, cell);
          }
        }
      }
      default -> throw new IllegalArgumentException(label);
    }
    g.dispose();
    return png(img);
  }

  /** A dataset zip: {@code perClass} images of each class in its folder. */
  static byte[] zip(int perClass, long seed) {
    Random random = new Random(seed);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      for (String label : CLASSES) {
        for (int i = 0; i < perClass; i++) {
          zip.putNextEntry(new ZipEntry(label + "/" + i + ".png"));
          zip.write(image(label, random, 96));
          zip.closeEntry();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A zip of the given entries, names to bytes, in order. */
  static byte[] zipOf(java.util.Map<String, byte[]> entries) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      for (var e : entries.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue());
        zip.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static byte[] png(BufferedImage img) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
