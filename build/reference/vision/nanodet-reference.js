// Computes the TF.js reference of Retina's second object detector, NanoDet-g (object-detection@2), on
// TF.js's pure-JS CPU backend, with the same pre- and post-processing as the workers' task
// (io.retina.workers.tasks.vision.NanoDet), and writes it as a small JSON fixture.
//
//   npm install --prefix /tmp/tfjs-ref @tensorflow/tfjs@4.22.0 pngjs@7.0.0 jpeg-js@0.4.4
//   NODE_PATH=/tmp/tfjs-ref/node_modules node nanodet-reference.js <models-dir> <image.png|jpg> <out.json> [raw|final]
//
// The processing is NanoDet's own (RangiLyu/nanodet v0.x, config nanodet-g.yml and the GFL head's
// get_bboxes), not that of @vladmandic/human's nanodet.ts: see docs/models.md for why.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { loadGraphModel, readImage, letterbox, nms, round, COCO } = require('./vision-reference.js');

// nanodet-g.yml's normalize: per channel of a BGR image (OpenCV's order), mean then std
const MEAN_BGR = [103.53, 116.28, 123.675];
const STD_BGR = [57.375, 57.12, 58.395];

/** Softmax expectation of one distribution of bins: a distance in strides. */
function expectation(bins) {
  const max = Math.max(...bins);
  const e = bins.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.reduce((a, v, i) => a + v * i, 0) / sum;
}

async function nanodet(dir, image, minScore) {
  const model = await loadGraphModel(path.join(dir, 'nanodet.json'));
  const size = model.inputs[0].shape[2]; // [1,3,S,S]
  const lb = letterbox(image, size);
  const bgr = tf.reverse(lb.tensor, 3);
  const input = tf.transpose(tf.div(tf.sub(bgr, MEAN_BGR), STD_BGR), [0, 3, 1, 2]);
  const outs = model.execute(input);
  // a level per pair of outputs [1,N,80] (class scores, sigmoid) and [1,N,4*bins] (distributions)
  const levels = outs.filter((t) => t.shape[2] === COCO.length).map((s) => {
    const d = outs.find((t) => t.shape[1] === s.shape[1] && t.shape[2] !== COCO.length);
    const columns = Math.round(Math.sqrt(s.shape[1]));
    return { stride: size / columns, columns, cells: s.shape[1], bins: d.shape[2] / 4, scores: s.dataSync(), dist: d.dataSync() };
  }).sort((a, b) => a.stride - b.stride);
  const byClass = COCO.map(() => ({ boxes: [], scores: [] }));
  for (const l of levels) {
    for (let i = 0; i < l.cells; i++) {
      const cx = (i % l.columns + 0.5) * l.stride;
      const cy = (Math.floor(i / l.columns) + 0.5) * l.stride;
      let box = null;
      for (let c = 0; c < COCO.length; c++) {
        const s = l.scores[i * COCO.length + c];
        if (!(s > minScore)) continue;
        if (!box) {
          const d = [0, 1, 2, 3].map((k) => expectation(Array.from(l.dist.slice((i * 4 + k) * l.bins, (i * 4 + k + 1) * l.bins))) * l.stride);
          const clamp = (v) => Math.max(0, Math.min(size, v));
          const [x1, y1, x2, y2] = [clamp(cx - d[0]), clamp(cy - d[1]), clamp(cx + d[2]), clamp(cy + d[3])];
          const s2i = lb.side / size;
          box = [x1 * s2i - lb.left, y1 * s2i - lb.top, x2 * s2i - lb.left, y2 * s2i - lb.top];
        }
        byClass[c].boxes.push(box);
        byClass[c].scores.push(s);
      }
    }
  }
  let found = [];
  byClass.forEach((k, c) => {
    if (k.boxes.length === 0) return;
    for (const j of nms(k.boxes, k.scores, 0.6, minScore)) {
      const b = k.boxes[j];
      found.push({ label: COCO[c], score: round(k.scores[j], 4),
        box: { x: round(b[0], 2), y: round(b[1], 2), width: round(b[2] - b[0], 2), height: round(b[3] - b[1], 2) } });
    }
  });
  found = found.sort((a, b) => b.score - a.score).slice(0, 100);
  // the raw outputs: every cell's best class score (strides 8, 16, 32 in turn), and the whole row
  // (80 scores, 4 distributions) of the 8 best cells
  const cells = [];
  for (const l of levels) {
    for (let i = 0; i < l.cells; i++) {
      cells.push({ l, i, max: Math.max(...l.scores.slice(i * COCO.length, (i + 1) * COCO.length)) });
    }
  }
  const rows = [...cells].sort((a, b) => b.max - a.max).slice(0, 8).map(({ l, i }) => ({
    stride: l.stride, cell: i,
    scores: Array.from(l.scores.slice(i * COCO.length, (i + 1) * COCO.length)).map((v) => round(v)),
    distributions: Array.from(l.dist.slice(i * 4 * l.bins, (i + 1) * 4 * l.bins)).map((v) => round(v, 5)),
  }));
  return { raw: { maxScores: cells.map((c) => round(c.max)), rows }, objects: found };
}

async function main() {
  const [dir, imagePath, outPath, mode = 'raw'] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const image = readImage(imagePath);
  const result = { image: path.basename(imagePath), width: image.shape[2], height: image.shape[1] };
  result.nanodet = await nanodet(dir, image, 0.3);
  if (mode === 'final') delete result.nanodet.raw;
  fs.writeFileSync(outPath, JSON.stringify(result, null, 1) + '\n');
  console.log(JSON.stringify(result.nanodet.objects, null, 1));
}

main().catch((e) => { console.error(e); process.exit(1); });
