package io.retina.workers.training;

import io.retina.workers.training.ClassifierTrainer.Example;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * A labelled dataset drawn on the spot: circles, stripes and checkerboards in random colours,
 * places and sizes, so that only the pattern tells the classes apart. The same seed draws the same
 * images; another seed draws images none of the first set's.
 */
public final class GeneratedShapes {

  public static final List<String> CLASSES = List.of("checkerboard", "circles", "stripes");

  /** The side of every image: small, and unlike the backbone's 224, so the resize is exercised. */
  static final int SIZE = 96;

  private GeneratedShapes() {}

  /** {@code perClass} PNG images of each class, the classes interleaved. */
  public static List<Example> examples(int perClass, long seed) {
    Random random = new Random(seed);
    List<Example> out = new ArrayList<>();
    for (int i = 0; i < perClass; i++) {
      for (String label : CLASSES) {
        out.add(new Example(png(draw(label, random)), label));
      }
    }
    return out;
  }

  static BufferedImage draw(String label, Random random) {
    BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    float light = 0.1f + 0.9f * random.nextFloat();
    Color background = colour(random, light);
    Color ink = colour(random, light > 0.55f ? light - 0.45f : light + 0.45f);
    g.setColor(background);
    g.fillRect(0, 0, SIZE, SIZE);
    g.setColor(ink);
    switch (label) {
      case "circles" -> {
        for (int n = 1 + random.nextInt(3); n > 0; n--) {
          int d = 20 + random.nextInt(40);
          g.fillOval(random.nextInt(SIZE - d), random.nextInt(SIZE - d), d, d);
        }
      }
      case "stripes" -> {
        int period = 8 + random.nextInt(16);
        boolean vertical = random.nextBoolean();
        for (int p = random.nextInt(period); p < SIZE; p += period) {
          if (vertical) {
            g.fillRect(p, 0, period / 2, SIZE);
          } else {
            g.fillRect(0, p, SIZE, period / 2);
          }
        }
      }
      case "checkerboard" -> {
        int cell = 8 + random.nextInt(12);
        int dx = random.nextInt(cell);
        int dy = random.nextInt(cell);
        for (int y = -1; y * cell < SIZE; y++) {
          for (int x = -1; x * cell < SIZE; x++) {
            if (((x + y) & 1) == 0) {
              g.fillRect(x * cell + dx, y * cell + dy, cell, cell);
            }
          }
        }
      }
      default -> throw new IllegalArgumentException(label);
    }
    g.dispose();
    return img;
  }

  /** A colour of any hue at {@code brightness}: ink and background always differ by 0.45. */
  private static Color colour(Random random, float brightness) {
    return Color.getHSBColor(random.nextFloat(), 0.3f + 0.7f * random.nextFloat(), brightness);
  }

  public static byte[] png(BufferedImage img) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(img, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
