// Computes the TF.js reference output of an UpscalerJS ESRGAN package's generator on a window of a PNG:
// the package's own model definition (its custom layers registered by its setup, its input and output
// ranges) on @tensorflow/tfjs's pure-JS CPU backend. Writes the output, as 0..1 of the range's white,
// as a 16-bit RGB PNG.
//
//   npm install --prefix /tmp/tfjs-ref @tensorflow/tfjs@4.22.0 pngjs@7.0.0
//   NODE_PATH=/tmp/tfjs-ref/node_modules node esrgan.js <package dir> <scale> <input.png> x y w h <out16.png>
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { readRgb, writePng16, stats } = require('../restoration/tfjs-graph.js');

async function main() {
  const [pkg, scale, inputPath, x, y, w, h, outputPath] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const name = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).name.split('/')[1];
  const definition = require(path.resolve(pkg, `dist/cjs/models/${name}/src/x${scale}/cjs.js`));
  if (definition.setup) definition.setup(tf);
  const modelJson = path.join(pkg, definition._internals.path);
  const json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const weightSpecs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(path.dirname(modelJson), p)));
  }
  const all = Buffer.concat(buffers);
  const model = await tf.loadLayersModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      weightSpecs,
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    }),
  });
  const white = definition.inputRange[1];
  if (definition.outputRange[1] !== white) throw new Error('input and output ranges differ');
  const img = readRgb(inputPath, [+x, +y, +w, +h]);
  const input = tf.mul(tf.tensor4d(img.rgb, [1, img.height, img.width, 3]), white / 255);
  const started = Date.now();
  const out = model.predict(input);
  const values = tf.div(out, white).dataSync();
  console.log(`${name} x${scale} (range 0..${white}): ${out.shape} in ${(Date.now() - started) / 1000} s`);
  stats('output / white', values);
  writePng16(outputPath, out.shape[2], out.shape[1], 3, values);
}

main().catch((e) => { console.error(e); process.exit(1); });
