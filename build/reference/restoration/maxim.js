// Computes the TF.js reference output of a MAXIM model (denoising or deblurring) on a window of a
// PNG whose sides are multiples of 64, so that no padding is involved: RGB / 255 in, the model's
// [0, 1] RGB out, written as a 16-bit RGB PNG. Slow: TF.js's pure-JS CPU backend takes tens of
// minutes for 64x64 (Retina's TensorFlow run takes under a second).
//
//   npm install --prefix /tmp/tfjs-ref @tensorflow/tfjs@4.22.0 pngjs@7.0.0
//   NODE_PATH=/tmp/tfjs-ref/node_modules node maxim.js <model.json> <input.png> x y w h <out16.png>
'use strict';
const { tf, loadGraphModel, readRgb, writePng16, stats } = require('./tfjs-graph.js');

async function main() {
  const [modelPath, inputPath, x, y, w, h, outputPath] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const model = await loadGraphModel(modelPath);
  const img = readRgb(inputPath, [+x, +y, +w, +h]);
  const input = tf.div(tf.tensor4d(img.rgb, [1, img.height, img.width, 3]), 255);
  const started = Date.now();
  const out = await model.executeAsync(input);
  const values = await out.data();
  console.log(`${modelPath}: ${out.shape} in ${(Date.now() - started) / 1000} s`);
  stats('output', values);
  writePng16(outputPath, img.width, img.height, 3, values);
}

main().catch((e) => { console.error(e); process.exit(1); });
