// ort_bench.js — the ONNX Runtime contender of bench/compare/compare.py.
//
// A long-lived worker: compare.py starts it once (NODE_PATH pointing at an
// `npm install --ignore-scripts onnxruntime-node@<pinned>` outside git) and
// sends one JSON command per line on stdin; every answer is one JSON line on
// stdout. Sessions are created on first use and kept, one per (model file,
// thread count), because intraOpNumThreads is fixed when a session is made.
//
//   {"op":"info"}
//       -> {"ok":true,"version":"1.22.0","backends":[...]}
//   {"op":"time","model":M,"threads":T,"input":"pixels","shape":[B,3,224,224],"runs":N,"warmup":W}
//   {"op":"time","model":M,"threads":T,"input":"ids","ids":[[...],...],"runs":N,"warmup":W}
//       -> {"ok":true,"ms":[...N timings...],"load_ms":L}
//   {"op":"run","model":M,"threads":T,"input":"pixels"|"ids","file":F,"shape":[...]}
//       -> {"ok":true,"output":[[...],...]}      (F: raw little-endian float32 or int64)
//
// Errors are answered as {"ok":false,"error":"..."}; the worker keeps going.
'use strict';

const fs = require('fs');
const readline = require('readline');
const ort = require('onnxruntime-node');

const sessions = new Map();

async function session(model, threads) {
  const key = `${model}\u0000${threads}`;
  let s = sessions.get(key);
  if (!s) {
    const t0 = process.hrtime.bigint();
    s = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    s.loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    sessions.set(key, s);
  }
  return s;
}

// feeds builds the input tensor of one call.
function feeds(s, cmd) {
  const name = s.inputNames[0];
  if (cmd.input === 'ids') {
    let ids;
    if (cmd.file) {
      const b = fs.readFileSync(cmd.file);
      ids = new BigInt64Array(b.buffer, b.byteOffset, b.length / 8);
      return { [name]: new ort.Tensor('int64', BigInt64Array.from(ids), cmd.shape) };
    }
    const rows = cmd.ids;
    const flat = new BigInt64Array(rows.length * rows[0].length);
    rows.forEach((r, i) => r.forEach((v, j) => { flat[i * r.length + j] = BigInt(v); }));
    return { [name]: new ort.Tensor('int64', flat, [rows.length, rows[0].length]) };
  }
  const n = cmd.shape.reduce((a, b) => a * b, 1);
  let data;
  if (cmd.file) {
    const b = fs.readFileSync(cmd.file);
    data = Float32Array.from(new Float32Array(b.buffer, b.byteOffset, b.length / 4));
  } else {
    // Values do not change the cost; a fixed pseudo-random fill keeps it honest.
    data = new Float32Array(n);
    let x = 12345;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      data[i] = (x / 4294967296) * 4 - 2;
    }
  }
  if (data.length !== n) throw new Error(`input has ${data.length} values, shape wants ${n}`);
  return { [name]: new ort.Tensor('float32', data, cmd.shape) };
}

async function handle(cmd) {
  switch (cmd.op) {
    case 'info':
      return { ok: true, version: ort.env.versions.common, backends: ort.listSupportedBackends() };
    case 'time': {
      const s = await session(cmd.model, cmd.threads);
      const f = feeds(s, cmd);
      for (let i = 0; i < (cmd.warmup || 0); i++) await s.run(f);
      const ms = [];
      for (let i = 0; i < cmd.runs; i++) {
        const t0 = process.hrtime.bigint();
        await s.run(f);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      return { ok: true, ms, load_ms: s.loadMs };
    }
    case 'run': {
      const s = await session(cmd.model, cmd.threads);
      const out = await s.run(feeds(s, cmd));
      const t = out[s.outputNames[0]];
      const [rows, cols] = t.dims;
      const output = [];
      for (let i = 0; i < rows; i++) output.push(Array.from(t.data.subarray(i * cols, (i + 1) * cols)));
      return { ok: true, output };
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(cmd.op)}`);
  }
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let answer;
    try {
      answer = await handle(JSON.parse(line));
    } catch (e) {
      answer = { ok: false, error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
  }
}

main().catch((e) => {
  process.stderr.write(`ort_bench: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
