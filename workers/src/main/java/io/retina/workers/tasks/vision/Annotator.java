package io.retina.workers.tasks.vision;

import io.retina.workers.imaging.RgbaImage;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/** Draws labelled boxes onto a copy of an image. Stateless and thread-safe (AWT runs headless). */
public final class Annotator {

  /** A box to draw and the text above it. */
  public record Label(Box box, String text) {}

  private static final Color[] COLORS = {
    new Color(0xE6194B), new Color(0x3CB44B), new Color(0x4363D8), new Color(0xF58231),
    new Color(0x911EB4), new Color(0x42D4F4), new Color(0xF032E6), new Color(0xBFEF45)
  };

  private Annotator() {}

  /** The image, opaque, with each label's box outlined and its text written above it. */
  public static RgbaImage draw(RgbaImage img, List<Label> labels) {
    int w = img.width();
    int h = img.height();
    BufferedImage canvas = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] rgb = new int[w * h];
    byte[] px = img.rgba();
    for (int i = 0; i < rgb.length; i++) {
      rgb[i] = (px[i * 4] & 0xff) << 16 | (px[i * 4 + 1] & 0xff) << 8 | (px[i * 4 + 2] & 0xff);
    }
    canvas.setRGB(0, 0, w, h, rgb, 0, w);
    Graphics2D g = canvas.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      // lines and text grow with the image so they stay readable on large photos
      int stroke = Math.max(2, Math.max(w, h) / 400);
      g.setStroke(new BasicStroke(stroke));
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, Math.max(12, Math.max(w, h) / 60)));
      FontMetrics fm = g.getFontMetrics();
      for (int i = 0; i < labels.size(); i++) {
        Box b = labels.get(i).box().clip(w, h);
        g.setColor(COLORS[i % COLORS.length]);
        int x = (int) Math.round(b.x1());
        int y = (int) Math.round(b.y1());
        g.drawRect(x, y, (int) Math.round(b.width()), (int) Math.round(b.height()));
        String text = labels.get(i).text();
        int ty = Math.max(fm.getAscent(), y - stroke);
        g.fillRect(x, ty - fm.getAscent(), fm.stringWidth(text) + 4, fm.getHeight());
        g.setColor(Color.WHITE);
        g.drawString(text, x + 2, ty - fm.getAscent() + fm.getAscent());
      }
    } finally {
      g.dispose();
    }
    canvas.getRGB(0, 0, w, h, rgb, 0, w);
    byte[] out = new byte[w * h * 4];
    for (int i = 0; i < rgb.length; i++) {
      out[i * 4] = (byte) (rgb[i] >> 16);
      out[i * 4 + 1] = (byte) (rgb[i] >> 8);
      out[i * 4 + 2] = (byte) rgb[i];
      out[i * 4 + 3] = (byte) 255;
    }
    return new RgbaImage(w, h, out, false);
  }
}
