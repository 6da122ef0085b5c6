package io.retina.workers.training;

import io.retina.workers.training.DenoiserTrainer.EpochReport;
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
 * Where a denoiser's training stands after an epoch, and its bytes (a {@link
 * DenoiserTrainer.Checkpoint}'s state): every variable of the training graph (the network's and
 * Adam's), the best epoch so far with its parameters, the epochs since it, and the history. Nothing
 * random is kept: the split, the patches, their noise and their order follow from the seed and the
 * epoch. A checkpoint names the examples and settings it was made from by their digest and resumes
 * only those. Not thread-safe.
 */
final class DenoiserState {

  /** "RTDN": what a denoiser's checkpoint starts with, so a classifier's is refused. */
  private static final int MAGIC = 0x5254444e;

  /** Raise when the layout below changes; an older checkpoint is then refused, not misread. */
  private static final int VERSION = 1;

  final byte[] fingerprint;
  int epoch;
  int epochsSinceBest;
  final List<EpochReport> history = new ArrayList<>();
  int bestEpoch;
  double bestLoss = Double.POSITIVE_INFINITY;
  double bestPsnr;
  Map<String, float[]> bestParameters = Map.of();
  Map<String, float[]> variables = Map.of();

  DenoiserState(byte[] fingerprint) {
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
        out.writeDouble(r.validationPsnr());
        out.writeLong(r.millis());
      }
      out.writeInt(bestEpoch);
      out.writeDouble(bestLoss);
      out.writeDouble(bestPsnr);
      writeMap(out, bestParameters);
      writeMap(out, variables);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return bytes.toByteArray();
  }

  /**
   * The state a checkpoint holds.
   *
   * @throws IllegalArgumentException if the bytes are not a denoiser's checkpoint of this version,
   *     or one made from other examples or settings than those {@code fingerprint} names
   */
  static DenoiserState fromBytes(byte[] state, byte[] fingerprint) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(state))) {
      if (in.readInt() != MAGIC || in.readInt() != VERSION) {
        throw new IllegalArgumentException("not a checkpoint of this denoiser trainer's version");
      }
      byte[] madeFrom = in.readNBytes(count(in, 1));
      if (!Arrays.equals(madeFrom, fingerprint)) {
        throw new IllegalArgumentException(
            "the checkpoint was made from other examples or settings than these");
      }
      DenoiserState s = new DenoiserState(fingerprint);
      s.epoch = in.readInt();
      s.epochsSinceBest = in.readInt();
      for (int i = count(in, 36); i > 0; i--) {
        s.history.add(
            new EpochReport(
                in.readInt(), in.readDouble(), in.readDouble(), in.readDouble(), in.readLong()));
      }
      s.bestEpoch = in.readInt();
      s.bestLoss = in.readDouble();
      s.bestPsnr = in.readDouble();
      s.bestParameters = readMap(in);
      s.variables = readMap(in);
      if (in.read() != -1) {
        throw new IllegalArgumentException("the checkpoint has bytes past its end");
      }
      return s;
    } catch (IOException e) {
      throw new IllegalArgumentException("the checkpoint is truncated or corrupt", e);
    }
  }

  private static void writeMap(DataOutputStream out, Map<String, float[]> values)
      throws IOException {
    out.writeInt(values.size());
    for (Map.Entry<String, float[]> v : values.entrySet()) {
      out.writeUTF(v.getKey());
      out.writeInt(v.getValue().length);
      for (float f : v.getValue()) {
        out.writeFloat(f);
      }
    }
  }

  private static Map<String, float[]> readMap(DataInputStream in) throws IOException {
    Map<String, float[]> values = new LinkedHashMap<>();
    for (int i = count(in, 6); i > 0; i--) {
      String name = in.readUTF();
      float[] v = new float[count(in, Float.BYTES)];
      for (int k = 0; k < v.length; k++) {
        v[k] = in.readFloat();
      }
      values.put(name, v);
    }
    return values;
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
}
