package io.retina.workers.training;

import io.retina.workers.training.ClassifierTrainer.EpochReport;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a training stands after an epoch, and its bytes (a {@link ClassifierTrainer.Checkpoint}'s
 * state): every variable of the head's graph (weights, bias, Adam's moments and step counters), the
 * best epoch so far with its head and validation confusion, the epochs since it, and the history.
 * Nothing random is kept: the split, the augmentations and the batch order follow from the seed and
 * the epoch. A checkpoint names the examples and settings it was made from by their digest and
 * resumes only those. Not thread-safe.
 */
final class TrainingState {

  /** "RTCK": what a checkpoint starts with. */
  private static final int MAGIC = 0x5254434b;

  /** Raise when the layout below changes; an older checkpoint is then refused, not misread. */
  private static final int VERSION = 1;

  final byte[] fingerprint;
  int epoch;
  Map<String, float[]> variables = Map.of();
  final List<EpochReport> history = new ArrayList<>();
  int bestEpoch;
  double bestLoss = Double.POSITIVE_INFINITY;
  double bestAccuracy;
  ClassifierHead bestHead;
  long[][] bestConfusion = new long[0][];
  int epochsSinceBest;

  TrainingState(byte[] fingerprint) {
    this.fingerprint = fingerprint.clone();
  }

  byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeInt(fingerprint.length);
      out.write(fingerprint);
      out.writeInt(epoch);
      out.writeInt(epochsSinceBest);
      out.writeInt(history.size());
      for (EpochReport r : history) {
        out.writeInt(r.epoch());
        out.writeDouble(r.trainLoss());
        out.writeDouble(r.validationLoss());
        out.writeDouble(r.validationAccuracy());
        out.writeLong(r.millis());
      }
      out.writeInt(bestEpoch);
      out.writeDouble(bestLoss);
      out.writeDouble(bestAccuracy);
      out.writeBoolean(bestHead != null);
      if (bestHead != null) {
        out.writeInt(bestHead.classes().size());
        for (String c : bestHead.classes()) {
          out.writeUTF(c);
        }
        writeFloats(out, bestHead.weights());
        writeFloats(out, bestHead.bias());
      }
      out.writeInt(bestConfusion.length);
      for (long[] row : bestConfusion) {
        out.writeInt(row.length);
        for (long v : row) {
          out.writeLong(v);
        }
      }
      out.writeInt(variables.size());
      for (Map.Entry<String, float[]> v : variables.entrySet()) {
        out.writeUTF(v.getKey());
        writeFloats(out, v.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return bytes.toByteArray();
  }

  /**
   * The state a checkpoint holds.
   *
   * @throws IllegalArgumentException if the bytes are not a checkpoint of this version, or one made
   *     from other examples or settings than those {@code fingerprint} names
   */
  static TrainingState fromBytes(byte[] state, byte[] fingerprint) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
      if (in.readInt() != MAGIC || in.readInt() != VERSION) {
        throw new IllegalArgumentException("not a checkpoint of this trainer's version");
      }
      byte[] madeFrom = in.readNBytes(count(in, 1));
      if (!Arrays.equals(madeFrom, fingerprint)) {
        throw new IllegalArgumentException(
            "the checkpoint was made from other examples or settings than these");
      }
      TrainingState s = new TrainingState(fingerprint);
      s.epoch = in.readInt();
      s.epochsSinceBest = in.readInt();
      for (int i = count(in, 36); i > 0; i--) {
        s.history.add(
            new EpochReport(
                in.readInt(), in.readDouble(), in.readDouble(), in.readDouble(), in.readLong()));
      }
      s.bestEpoch = in.readInt();
      s.bestLoss = in.readDouble();
      s.bestAccuracy = in.readDouble();
      if (in.readBoolean()) {
        List<String> classes = new ArrayList<>();
        for (int i = count(in, 2); i > 0; i--) {
          classes.add(in.readUTF());
        }
        s.bestHead = new ClassifierHead(classes, readFloats(in), readFloats(in));
      }
      s.bestConfusion = new long[count(in, 4)][];
      for (int r = 0; r < s.bestConfusion.length; r++) {
        s.bestConfusion[r] = new long[count(in, 8)];
        for (int c = 0; c < s.bestConfusion[r].length; c++) {
          s.bestConfusion[r][c] = in.readLong();
        }
      }
      Map<String, float[]> variables = new LinkedHashMap<>();
      for (int i = count(in, 6); i > 0; i--) {
        variables.put(in.readUTF(), readFloats(in));
      }
      s.variables = variables;
      if (in.read() != -1) {
        throw new IllegalArgumentException("the checkpoint has bytes past its end");
      }
      return s;
    } catch (IOException e) {
      throw new IllegalArgumentException("the checkpoint is truncated or corrupt", e);
    }
  }

  /**
   * A count of items of at least {@code bytesEach} bytes that the rest of the checkpoint can hold:
   * a corrupt count fails here instead of allocating gigabytes.
   */
  private static int count(DataInputStream in, int bytesEach) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > in.available() / bytesEach) {
      throw new IOException("a count of " + n + " does not fit the checkpoint");
    }
    return n;
  }

  private static void writeFloats(DataOutputStream out, float[] values) throws IOException {
    out.writeInt(values.length);
    for (float v : values) {
      out.writeFloat(v);
    }
  }

  private static float[] readFloats(DataInputStream in) throws IOException {
    float[] values = new float[count(in, Float.BYTES)];
    for (int i = 0; i < values.length; i++) {
      values[i] = in.readFloat();
    }
    return values;
  }
}
