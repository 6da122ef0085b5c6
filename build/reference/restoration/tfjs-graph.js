// Shared helpers of the restoration reference scripts: load a TF.js graph model from its model.json
// and shards on disk, read a PNG as RGB floats, write 16-bit grey or RGB PNGs (value * 65535).
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const tf = require('@tensorflow/tfjs');
const { PNG } = require('pngjs');

async function loadGraphModel(modelJsonPath) {
  const json = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8'));
  const dir = path.dirname(modelJsonPath);
  const weightSpecs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      signature: json.signature,
      weightSpecs,
      weightData,
    }),
  });
}

/** The RGB of a PNG (or of the window x, y, w, h of it) as [h, w, 3] floats in 0..255. */
function readRgb(file, crop) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const [x0, y0, w, h] = crop || [0, 0, png.width, png.height];
  const rgb = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = ((y + y0) * png.width + x + x0) * 4;
      for (let c = 0; c < 3; c++) rgb[(y * w + x) * 3 + c] = png.data[s + c];
    }
  }
  return { rgb, width: w, height: h };
}

function writePng16(file, width, height, channels, values) {
  const rowBytes = 1 + width * channels * 2;
  const raw = Buffer.alloc(height * rowBytes);
  for (let y = 0; y < height; y++) {
    raw[y * rowBytes] = 0; // filter: none
    for (let i = 0; i < width * channels; i++) {
      const v = Math.max(0, Math.min(65535, Math.round(values[y * width * channels + i] * 65535)));
      raw.writeUInt16BE(v, y * rowBytes + 1 + i * 2);
    }
  }
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body) >>> 0, 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 16; // bit depth
  ihdr[9] = channels === 3 ? 2 : 0; // colour type: RGB or grey
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  fs.writeFileSync(file, Buffer.concat([signature, chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]));
}

function stats(label, values) {
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of values) { min = Math.min(min, v); max = Math.max(max, v); sum += v; }
  console.log(`${label}: min ${min} max ${max} mean ${sum / values.length}`);
}

module.exports = { tf, loadGraphModel, readRgb, writePng16, stats };
