// Computes the TF.js reference class probabilities of the nsfwjs moderation models (MobileNetV2 and
// MobileNetV2Mid) with nsfwjs itself, on TF.js's pure-JS CPU backend: nsfwjs's own loader unpacks
// the base64 bundles and its own infer() preprocesses (divide by 255, bilinear resize with
// alignCorners). Writes {"<model>": {"<image file name>": [Drawing, Hentai, Neutral, Porn, Sexy]}}.
//
//   npm install --prefix /tmp/tfjs-ref @tensorflow/tfjs@4.22.0 pngjs@7.0.0
//   NODE_PATH=/tmp/tfjs-ref/node_modules node moderation.js <nsfwjs package dir> <out.json> <png>...
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { PNG } = require('pngjs');

async function main() {
  const [pkg, out, ...images] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const nsfwjs = require(path.resolve(pkg, 'dist/cjs/index.js'));
  const result = {};
  for (const name of ['MobileNetV2', 'MobileNetV2Mid']) {
    const model = await nsfwjs.load(name);
    result[name] = {};
    for (const file of images) {
      const png = PNG.sync.read(fs.readFileSync(file));
      const rgb = new Int32Array(png.width * png.height * 3);
      for (let i = 0; i < png.width * png.height; i++) {
        for (let c = 0; c < 3; c++) rgb[i * 3 + c] = png.data[i * 4 + c];
      }
      const input = tf.tensor3d(rgb, [png.height, png.width, 3], 'int32');
      const probs = Array.from(await model.infer(input).data());
      result[name][path.basename(file)] = probs;
      console.log(name, path.basename(file), probs.map((p) => p.toFixed(6)).join(' '));
    }
  }
  fs.writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
