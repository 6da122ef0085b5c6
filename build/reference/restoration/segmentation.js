// Computes the TF.js reference person masks of MediaPipe Meet and Robust Video Matting for one PNG,
// on TF.js's pure-JS CPU backend, and writes each as a 16-bit grey PNG (value * 65535).
//   meet: bilinear resize to the model's 144x256 input (legacy sampling, as vladmandic/human does),
//         divide by 255; its two output channels are background and person logits, and the mask is
//         their softmax's person channel, at the model's resolution.
//   rvm:  the image / 255 at its own size, zero recurrent states (scalars, as RVM's own code feeds a
//         first frame) and the given downsample ratio; the mask is the output "pha".
//
//   npm install --prefix /tmp/tfjs-ref @tensorflow/tfjs@4.22.0 pngjs@7.0.0
//   NODE_PATH=/tmp/tfjs-ref/node_modules node segmentation.js meet <meet.json> <in.png> <out16.png>
//   NODE_PATH=/tmp/tfjs-ref/node_modules node segmentation.js rvm <rvm.json> <in.png> <ratio> <out16.png>
'use strict';
const { tf, loadGraphModel, readRgb, writePng16, stats } = require('./tfjs-graph.js');

async function meet(modelPath, inputPath, outputPath) {
  const model = await loadGraphModel(modelPath);
  const img = readRgb(inputPath);
  const [h, w] = [model.inputs[0].shape[1], model.inputs[0].shape[2]];
  const input = tf.tensor4d(img.rgb, [1, img.height, img.width, 3]);
  const norm = tf.div(tf.image.resizeBilinear(input, [h, w], false), 255);
  const logits = model.execute(norm);
  const person = tf.squeeze(tf.slice(tf.softmax(logits, -1), [0, 0, 0, 1], [1, h, w, 1]));
  const values = await person.data();
  stats(`meet ${logits.shape} person probability`, values);
  writePng16(outputPath, w, h, 1, values);
}

async function rvm(modelPath, inputPath, ratio, outputPath) {
  const model = await loadGraphModel(modelPath);
  const img = readRgb(inputPath);
  const feeds = {
    src: tf.div(tf.tensor4d(img.rgb, [1, img.height, img.width, 3]), 255),
    r1i: tf.tensor(0.0),
    r2i: tf.tensor(0.0),
    r3i: tf.tensor(0.0),
    r4i: tf.tensor(0.0),
    downsample_ratio: tf.tensor(+ratio),
  };
  const [, pha] = await model.executeAsync(feeds, ['fgr', 'pha']);
  const values = await pha.data();
  stats(`rvm ${pha.shape} alpha`, values);
  writePng16(outputPath, img.width, img.height, 1, values);
}

async function main() {
  const [which, ...args] = process.argv.slice(2);
  await tf.setBackend('cpu');
  if (which === 'meet') await meet(...args);
  else if (which === 'rvm') await rvm(...args);
  else throw new Error('first argument: meet or rvm');
}

main().catch((e) => { console.error(e); process.exit(1); });
