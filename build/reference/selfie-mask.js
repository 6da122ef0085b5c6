// Computes the TF.js reference mask of the selfie segmentation model for one PNG, the way
// vladmandic/human preprocesses it (bilinear resize to the model's input, legacy sampling, /255),
// on TF.js's pure-JS CPU backend. Writes the [H,W] mask as a 16-bit grey PNG (value * 65535).
//
//   npm install --prefix /tmp/tfjs-ref @tensorflow/tfjs@4.22.0 pngjs@7.0.0
//   NODE_PATH=/tmp/tfjs-ref/node_modules node selfie-mask.js <selfie.json> <input.png> <mask16.png>
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

function writePng16(file, width, height, values) {
  const raw = Buffer.alloc(height * (1 + width * 2));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 2);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const v = Math.max(0, Math.min(65535, Math.round(values[y * width + x] * 65535)));
      raw.writeUInt16BE(v, row + 1 + x * 2);
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
  ihdr[9] = 0; // colour type: grey
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  fs.writeFileSync(file, Buffer.concat([signature, chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]));
}

async function main() {
  const [modelPath, inputPath, outputPath] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const model = await loadGraphModel(modelPath);
  const png = PNG.sync.read(fs.readFileSync(inputPath));
  const rgb = new Float32Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = png.data[i * 4 + c];
  }
  const [h, w] = [model.inputs[0].shape[1], model.inputs[0].shape[2]];
  const input = tf.tensor4d(rgb, [1, png.height, png.width, 3]);
  const resized = tf.image.resizeBilinear(input, [h, w], false);
  const norm = tf.div(resized, 255);
  const mask = model.execute(norm);
  const values = await mask.data();
  writePng16(outputPath, w, h, values);
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of values) { min = Math.min(min, v); max = Math.max(max, v); sum += v; }
  console.log(`mask ${mask.shape} min ${min} max ${max} mean ${sum / values.length}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
