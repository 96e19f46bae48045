#!/usr/bin/env node
// Throughput of ONNX Runtime (npm onnxruntime-node, CPU) on one model, as
// the reference point for bench/xbar_bench.  Prints one JSON line.
//
// usage: node tools/ort_bench.js --model M.onnx --shape C,H,W [--threads T]
//            [--batch B] [--images N] [--reps R] [--warmup W]
//
// Inputs are deterministic pseudo-random values in [0,1): throughput of
// dense float kernels does not depend on the values (no denormals arise from
// such inputs), and it keeps this script free of dataset parsing.
//
// Threads: intraOpNumThreads = T, interOpNumThreads = 1, sequential
// execution, all graph optimizations on: ORT's own best CPU configuration at
// T threads.  Batching: N images are fed as ceil(N/B) runs of B images (the
// last run smaller); if the model's batch dimension is fixed, B falls back to
// the fixed size.  The N images are timed R times; the median rep counts
// (the machine may be shared, and the median is robust to a disturbed rep).
'use strict';
const path = require('path');

function parseArgs(argv) {
  const a = { threads: 1, batch: 1, images: 1000, reps: 3, warmup: 2 };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    if (k === '--model') a.model = v;
    else if (k === '--shape') a.shape = v.split(',').map(Number);
    else if (k === '--threads') a.threads = Number(v);
    else if (k === '--batch') a.batch = Number(v);
    else if (k === '--images') a.images = Number(v);
    else if (k === '--warmup') a.warmup = Number(v);
    else if (k === '--reps') a.reps = Number(v);
    else if (k === '--help' || k === '-h') { a.help = true; continue; }
    else throw new Error(`unknown argument ${k}`);
    i++;
  }
  return a;
}

function loadOrt() {
  // tools/node_modules next to this script, then the normal resolution.
  try { return require(path.join(__dirname, 'node_modules', 'onnxruntime-node')); }
  catch (e) { return require('onnxruntime-node'); }
}

async function main() {
  const a = parseArgs(process.argv);
  if (a.help || !a.model || !a.shape) {
    console.log('usage: node tools/ort_bench.js --model M.onnx --shape C,H,W [--threads T] ' +
                '[--batch B] [--images N] [--reps R] [--warmup W]');
    process.exit(a.help ? 0 : 2);
  }
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(a.model, {
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inName = session.inputNames[0];
  const per = a.shape.reduce((x, y) => x * y, 1);
  let seed = 12345;
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) / 16777216; };
  const make = (b) => {
    const d = new Float32Array(b * per);
    for (let i = 0; i < d.length; i++) d[i] = rnd();
    return new ort.Tensor('float32', d, [b, ...a.shape]);
  };
  let batch = a.batch;
  let full = make(batch);
  try {
    await session.run({ [inName]: full });
  } catch (e) {
    if (batch === 1) throw e;
    batch = 1; // fixed-batch model
    full = make(1);
    await session.run({ [inName]: full });
  }
  const rest = a.images % batch;
  const tail = rest ? make(rest) : null;
  for (let i = 0; i < a.warmup; i++) await session.run({ [inName]: full });
  const secs = [];
  let done = 0;
  for (let r = 0; r < Math.max(1, a.reps); r++) {
    const t0 = process.hrtime.bigint();
    done = 0;
    while (done + batch <= a.images) { await session.run({ [inName]: full }); done += batch; }
    if (tail) { await session.run({ [inName]: tail }); done += rest; }
    secs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  secs.sort((x, y) => x - y);
  const s = secs[Math.floor((secs.length - 1) / 2)];
  console.log(JSON.stringify({
    runtime: 'onnxruntime-node', version: ort.env.versions ? ort.env.versions.common : undefined,
    model: a.model, threads: a.threads, batch, images: done, reps: secs.length, seconds: s, images_per_s: done / s,
  }));
}

main().catch((e) => { console.error(`ort_bench: ${e.message || e}`); process.exit(1); });
