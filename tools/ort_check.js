#!/usr/bin/env node
// Cross-check the xbar reference models in ONNX Runtime (onnxruntime-node 1.30, CPU).
//
//   cd tools && npm install --ignore-scripts      (once; puts onnxruntime-node in tools/node_modules)
//   node tools/ort_check.js [MODEL ...]            (default: every models/*.golden.json)
//
// For each model: reads the preprocessing from the ONNX metadata_props (xbar.dataset, xbar.mean, xbar.std,
// xbar.input_channels), reads the full test set itself (IDX .gz for MNIST / Fashion-MNIST, test_batch.bin for
// CIFAR-10; looked up in $XBAR_DATA/<ds>, datasets/data/<ds>, then the shared copies), computes
// input = (pixel/255 - mean[c]) / std[c] in float32 exactly like models/train.py, runs ORT over all test images
// (batches of 500, exercising the dynamic batch axis) and over the first 16 images, and compares with
// models/<name>.golden.json: the count of correct predictions must be equal and every one of the 16x10 logits
// must match within 1e-4 (absolute). Prints PASS/FAIL per model, writes models/ort_check_results.json and exits
// non-zero on any failure.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const crypto = require('crypto');
const ort = require('onnxruntime-node');

const REPO = path.resolve(__dirname, '..');
const MODELS = path.join(REPO, 'models');
const SHARED = process.env.XBAR_SHARED || path.join(REPO, '..', 'shared');
const TOL = 1e-4;
const BATCH = 500;

// ---- minimal protobuf walk: ModelProto.metadata_props (field 14) = StringStringEntryProto {key=1, value=2}
function readVarint(buf, pos) {
  let result = 0, mul = 1, b;
  do { b = buf[pos++]; result += (b & 0x7f) * mul; mul *= 128; } while (b & 0x80);
  return [result, pos];
}
function fields(buf) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    let key; [key, pos] = readVarint(buf, pos);
    const fno = Math.floor(key / 8), wt = key & 7;
    if (wt === 0) { let v; [v, pos] = readVarint(buf, pos); out.push([fno, v]); }
    else if (wt === 1) { pos += 8; }
    else if (wt === 5) { pos += 4; }
    else if (wt === 2) { let len; [len, pos] = readVarint(buf, pos); out.push([fno, buf.subarray(pos, pos + len)]); pos += len; }
    else throw new Error('unsupported protobuf wire type ' + wt);
  }
  return out;
}
function onnxMetadata(file) {
  const meta = {};
  for (const [f, v] of fields(fs.readFileSync(file))) {
    if (f !== 14) continue;
    let k = '', val = '';
    for (const [g, w] of fields(v)) { if (g === 1) k = w.toString('utf8'); if (g === 2) val = w.toString('utf8'); }
    meta[k] = val;
  }
  return meta;
}

// ---- datasets
function dataDirs(ds) {
  const d = [];
  if (process.env.XBAR_DATA) d.push(path.join(process.env.XBAR_DATA, ds));
  d.push(path.join(REPO, 'datasets', 'data', ds));
  if (ds === 'fashion-mnist') d.push('/usr/share/datasets/fashion-mnist');
  else d.push(path.join(SHARED, 'datasets', ds));
  return d;
}
function findFile(ds, name) {
  for (const d of dataDirs(ds)) { const p = path.join(d, name); if (fs.existsSync(p)) return p; }
  throw new Error(`${name} not found in ${dataDirs(ds).join(', ')} (run datasets/fetch.sh ${ds})`);
}
function readIdx(file) {
  const raw = zlib.gunzipSync(fs.readFileSync(file));
  const magic = raw.readUInt32BE(0), nd = magic & 0xff;
  const dims = []; for (let i = 0; i < nd; i++) dims.push(raw.readUInt32BE(4 + 4 * i));
  return { dims, data: raw.subarray(4 + 4 * nd) };
}
function loadTest(ds) {
  if (ds === 'mnist' || ds === 'fashion-mnist') {
    const x = readIdx(findFile(ds, 't10k-images-idx3-ubyte.gz')), y = readIdx(findFile(ds, 't10k-labels-idx1-ubyte.gz'));
    return { n: y.dims[0], c: 1, h: x.dims[1], w: x.dims[2], pixels: (i) => x.data.subarray(i * 784, (i + 1) * 784), label: (i) => y.data[i] };
  }
  if (ds === 'cifar10') {
    const raw = fs.readFileSync(findFile(ds, 'test_batch.bin'));
    return { n: raw.length / 3073, c: 3, h: 32, w: 32, pixels: (i) => raw.subarray(i * 3073 + 1, (i + 1) * 3073), label: (i) => raw[i * 3073] };
  }
  throw new Error('unknown dataset ' + ds);
}

// float32 preprocessing, step by step like torch: fl(fl(p/255) - mean) / std, each op rounded to float32
function makeBatch(set, start, count, mean, std) {
  const per = set.c * set.h * set.w, hw = set.h * set.w;
  const out = new Float32Array(count * per);
  const m = mean.map(Math.fround), s = std.map(Math.fround);
  for (let b = 0; b < count; b++) {
    const px = set.pixels(start + b);
    for (let c = 0; c < set.c; c++) {
      for (let i = 0; i < hw; i++) {
        const v = Math.fround(px[c * hw + i] / 255);
        out[b * per + c * hw + i] = Math.fround(Math.fround(v - m[c]) / s[c]);
      }
    }
  }
  return new ort.Tensor('float32', out, [count, set.c, set.h, set.w]);
}

function argmax(a, off, n) { let k = 0; for (let i = 1; i < n; i++) if (a[off + i] > a[off + k]) k = i; return k; }

async function checkModel(name) {
  const file = path.join(MODELS, name + '.onnx');
  const golden = JSON.parse(fs.readFileSync(path.join(MODELS, name + '.golden.json'), 'utf8'));
  const meta = onnxMetadata(file);
  const ds = meta['xbar.dataset'];
  const mean = meta['xbar.mean'].split(',').map(Number), std = meta['xbar.std'].split(',').map(Number);
  const set = loadTest(ds);
  if (String(set.c) !== meta['xbar.input_channels']) throw new Error('xbar.input_channels does not match the dataset');
  // XBAR_ORT_OPT=disabled|basic|extended|all (default: ORT's default, all). lenet5_mnist_w1a2 needs disabled: ORT's
  // basic-level graph optimizations change its Clip -> QuantizeLinear -> DequantizeLinear -> Conv arithmetic
  // (models/README.md, "ORT optimizations and the W1A2 model").
  const opt = process.env.XBAR_ORT_OPT;
  const sess = await ort.InferenceSession.create(file, opt ? { intraOpNumThreads: 1, graphOptimizationLevel: opt }
                                                           : { intraOpNumThreads: 1 });
  const t0 = Date.now();
  let correct = 0;
  const preds = new Uint8Array(set.n);
  for (let s = 0; s < set.n; s += BATCH) {
    const cnt = Math.min(BATCH, set.n - s);
    const res = await sess.run({ input: makeBatch(set, s, cnt, mean, std) });
    const lg = res.logits.data, k = res.logits.dims[1];
    for (let b = 0; b < cnt; b++) { preds[s + b] = argmax(lg, b * k, k); if (preds[s + b] === set.label(s + b)) correct++; }
  }
  const res16 = await sess.run({ input: makeBatch(set, 0, 16, mean, std) });
  const k = res16.logits.dims[1];
  // Quantized (QDQ) models: the logits are int8 values times the output scale. PyTorch (qnnpack fixed-point
  // requantization) and ORT (float DequantizeLinear -> op -> QuantizeLinear) may round a value lying within a hair
  // of .5 LSB differently; such an entry differs by exactly one output step. Those are counted and reported
  // separately (allowed), every other logit must still match within TOL.
  const step = golden.output_scale;
  let maxDiff = 0, maxOther = 0, labelsOk = true;
  const oneStep = [];
  for (let i = 0; i < 16; i++) {
    if (set.label(i) !== golden.first16_labels[i]) labelsOk = false;
    for (let j = 0; j < k; j++) {
      const d = Math.abs(res16.logits.data[i * k + j] - golden.first16_logits[i][j]);
      maxDiff = Math.max(maxDiff, d);
      if (step && d > TOL && Math.abs(d - step) <= TOL) oneStep.push([i, j]);
      else maxOther = Math.max(maxOther, d);
    }
  }
  const ok = correct === golden.correct && set.n === golden.total && maxOther <= TOL && labelsOk;
  const r = {
    model: name, dataset: ds, status: ok ? 'PASS' : 'FAIL', ort_correct: correct, total: set.n,
    ort_accuracy: correct / set.n, pytorch_correct: golden.correct, pytorch_total: golden.total,
    max_abs_logit_diff_first16: maxDiff, tolerance: TOL, first16_labels_match: labelsOk,
    strict_logits_within_tol: maxDiff <= TOL, graph_optimization_level: process.env.XBAR_ORT_OPT || 'default (all)',
    ...(step ? { output_scale: step, one_step_diffs: oneStep, max_abs_diff_excluding_one_step: maxOther } : {}),
    seconds: (Date.now() - t0) / 1000,
    onnx_sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
  };
  console.log(`${r.status} ${name}: ORT ${correct}/${set.n} (${(100 * correct / set.n).toFixed(2)}%), PyTorch ` +
    `${golden.correct}/${golden.total}; first-16 logits max |diff| ${maxDiff.toExponential(2)} (tol ${TOL})` +
    (step ? `; ${oneStep.length}/${16 * k} logits differ by exactly one output quantization step ` +
      `(${step.toPrecision(6)}) [${oneStep.map((p) => 'img ' + p[0] + ' class ' + p[1]).join(', ')}], ` +
      `all others within ${maxOther.toExponential(2)}` : ''));
  return r;
}

async function main() {
  let names = process.argv.slice(2);
  if (names.length === 0) {
    names = fs.readdirSync(MODELS).filter((f) => f.endsWith('.golden.json')).map((f) => f.replace('.golden.json', '')).sort();
  }
  const resPath = path.join(MODELS, 'ort_check_results.json');
  let all = {};
  if (fs.existsSync(resPath)) all = JSON.parse(fs.readFileSync(resPath, 'utf8')).models || {};
  let fail = 0;
  for (const n of names) {
    try {
      const r = await checkModel(n);
      all[n] = r;
      if (r.status !== 'PASS') fail++;
    } catch (e) {
      console.log(`FAIL ${n}: ${e.message}`);
      all[n] = { model: n, status: 'FAIL', error: e.message };
      fail++;
    }
  }
  fs.writeFileSync(resPath, JSON.stringify({ onnxruntime: ort.env.versions, models: all }, null, 1) + '\n');
  console.log(fail ? `ort_check: ${fail} FAILED` : 'ort_check: all PASS');
  process.exit(fail ? 1 : 0);
}
main();
