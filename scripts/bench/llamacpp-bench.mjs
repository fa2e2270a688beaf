#!/usr/bin/env node
// llama.cpp CPU-backend speed on one GGUF file, measured the way llama-bench
// measures pp512 and tg64, through the prebuilt llama.cpp that the npm
// package node-llama-cpp ships (scripts/bench/run-llamacpp installs it and
// runs this file).
//
// It drives node-llama-cpp's native addon directly (AddonModel/AddonContext:
// llama_batch + llama_decode + llama_synchronize per call), not its
// LlamaModel/LlamaContext classes: those tokenize test strings on load,
// which aborts the process on a model without a tokenizer, and add a batching
// scheduler per call.
//   pp: one llama_decode of PP random token ids, logits for the last one only
//       (llama-bench's llama_batch_get_one); the KV cache is cleared first.
//   tg: TG single-token llama_decode calls from an empty cache, random token
//       ids, nothing sampled (as llama-bench's test_gen).
// Load time is excluded; one warm-up run of each first; then REPS runs and
// the median tokens/s is reported (min, max and every run beside it), plus
// llama.cpp's own timing of the same decode calls (llama_perf_context), which
// shows what the JavaScript layer adds.
// Random models carry no tokenizer: such a file loads with
// tokenizer.ggml.model overridden to "none", so llama.cpp takes the vocab size
// from <arch>.vocab_size and never needs a tokenizer (we only feed ids).
// Prints one JSON line per measurement on stdout; llama.cpp's log goes to
// stderr only with --verbose.
// Usage: NLC_PREFIX=DIR node llamacpp-bench.mjs MODEL.gguf [--threads N]
//          [--pp 512] [--tg 64] [--reps 3] [--fa auto|on|off] [--verbose]
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

class UsageError extends Error {}
const USAGE = 'usage: llamacpp-bench.mjs MODEL.gguf [--threads N] [--pp 512] [--tg 64] [--reps 3] [--fa auto|on|off] [--verbose]';

function parseArgs(argv) {
  const o = { threads: 1, pp: 512, tg: 64, reps: 3, fa: 'auto', verbose: false, model: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (a === '--threads' || a === '-t') o.threads = Number(value());
    else if (a === '--pp') o.pp = Number(value());
    else if (a === '--tg') o.tg = Number(value());
    else if (a === '--reps') o.reps = Number(value());
    else if (a === '--fa') o.fa = value();
    else if (a === '--verbose') o.verbose = true;
    else if (!a.startsWith('-') && o.model === null) o.model = a;
    else throw new UsageError(`unknown argument ${a}\n${USAGE}`);
  }
  if (o.model === null) throw new UsageError(USAGE);
  for (const k of ['threads', 'pp', 'tg', 'reps'])
    if (!Number.isInteger(o[k]) || o[k] < (k === 'tg' ? 0 : 1)) throw new UsageError(`--${k} must be a whole number >= ${k === 'tg' ? 0 : 1}`);
  // llama.cpp books a one-token decode as generation, not prompt.
  if (o.pp < 2) throw new UsageError('--pp must be >= 2');
  if (!['auto', 'on', 'off'].includes(o.fa)) throw new UsageError('--fa must be auto, on or off');
  return o;
}

// Deterministic token ids (xorshift32), spread over the whole vocab.
function randomTokens(n, vocab, seed) {
  let s = seed >>> 0 || 1;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s % vocab;
  }
  return out;
}

// The ggml CPU-variant libraries mapped into this process: ggml loads the
// best one the CPU supports at run time, and this is what it picked.
function loadedCpuVariants() {
  const libs = new Set();
  for (const m of fs.readFileSync('/proc/self/maps', 'utf8').matchAll(/\/(libggml-cpu-[\w-]+\.so)/g)) libs.add(m[1]);
  return [...libs].sort();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const now = () => Number(process.hrtime.bigint()) / 1e9;
const tick = () => new Promise((r) => setTimeout(r, 50));
const round = (x) => Number(x.toFixed(3));

async function main() {
  const o = parseArgs(process.argv.slice(2));
  // ES modules ignore NODE_PATH: load the package from the npm prefix that
  // run-llamacpp installed it into.
  const prefix = process.env.NLC_PREFIX;
  if (!prefix) throw new Error('set NLC_PREFIX to the npm prefix holding node_modules/node-llama-cpp');
  const nlc = await import(pathToFileURL(path.join(prefix, 'node_modules/node-llama-cpp/dist/index.js')).href);
  const nlcVersion = JSON.parse(fs.readFileSync(path.join(prefix, 'node_modules/node-llama-cpp/package.json'), 'utf8')).version;
  if (!fs.existsSync(o.model)) throw new Error(`${o.model}: no such file`);

  const log = [];
  const llama = await nlc.getLlama({
    gpu: false,            // the CPU backend only: no CUDA/Vulkan probing
    build: 'never',        // the prebuilt binaries or nothing
    logLevel: nlc.LlamaLogLevel.info,
    logger: (level, message) => {
      log.push(message);
      if (o.verbose) process.stderr.write(message.endsWith('\n') ? message : message + '\n');
    },
  });
  const info = await nlc.readGgufFileInfo(o.model, { readTensorInfo: false });
  const md = info.metadata;
  const arch = md.general?.architecture;
  const hasTokenizer = md.tokenizer?.ggml?.model != null;
  const nVocab = Number(md[arch]?.vocab_size ?? md.tokenizer?.ggml?.tokens?.length);
  if (!Number.isInteger(nVocab) || nVocab <= 0) throw new Error(`${o.model}: no ${arch}.vocab_size and no tokenizer.ggml.tokens`);

  const b = llama._bindings;
  const model = new b.AddonModel(path.resolve(o.model), {
    addonExports: b, gpuLayers: 0, useMmap: true,
    ...(hasTokenizer ? {} : { overridesList: [['tokenizer.ggml.model', 'none']] }),
  });
  if (!(await model.init())) throw new Error(`${o.model}: llama.cpp could not load the model (rerun with --verbose)`);
  const ctx = new b.AddonContext(model, {
    contextSize: o.pp + o.tg,   // llama-bench: n_prompt + n_gen
    batchSize: o.pp,            // the addon sets n_batch = n_ubatch = this: one ubatch of PP
    sequences: 1,
    threads: o.threads,         // n_threads and n_threads_batch
    flashAttention: o.fa === 'auto' ? 'auto' : o.fa === 'on',  // llama-bench's default is auto
    performanceTracking: true,
  });
  if (!(await ctx.init())) throw new Error(`${o.model}: llama.cpp could not create a context`);
  await tick();  // the addon forwards log lines asynchronously
  // What "auto" resolved to (llama.cpp logs it while reserving the graph).
  const faLog = log.join('').match(/Flash Attention (enabled|disabled)/);
  const faResolved = faLog ? faLog[1] === 'enabled' : null;

  async function decode(tokens, pos) {
    ctx.initBatch(tokens.length);
    ctx.addToBatch(0, pos, tokens, Uint32Array.of(tokens.length - 1));
    await ctx.decodeBatch();
  }
  async function runPP(seed) {
    ctx.disposeSequence(0);
    const tokens = randomTokens(o.pp, nVocab, seed);
    const t0 = now();
    await decode(tokens, 0);
    return now() - t0;
  }
  async function runTG(n, seed) {
    ctx.disposeSequence(0);
    const tokens = randomTokens(n, nVocab, seed);
    const t0 = now();
    for (let i = 0; i < n; i++) await decode(tokens.subarray(i, i + 1), i);
    return now() - t0;
  }
  // llama.cpp's own count and time of the decode calls since the last reset.
  async function perf() {
    log.length = 0;
    ctx.printTimings();
    await tick();  // the addon forwards log lines asynchronously
    const text = log.join('');
    const p = text.match(/prompt eval time =\s*([\d.]+) ms \/\s*(\d+) tokens/);
    const e = text.match(/\beval time =\s*([\d.]+) ms \/\s*(\d+) runs/);
    return { p_ms: p ? Number(p[1]) : NaN, p_n: p ? Number(p[2]) : 0, e_ms: e ? Number(e[1]) : NaN, e_n: e ? Number(e[2]) : 0 };
  }

  const common = {
    impl: 'llama.cpp', via: `node-llama-cpp ${nlcVersion} (${llama.buildType})`,
    llama_cpp_release: `${llama.llamaCppRelease.repo} ${llama.llamaCppRelease.release}`, model: o.model,
    threads: o.threads, threads_used: ctx.getThreads(), cpu_variant: loadedCpuVariants().join(','),
    // What the loaded CPU library was compiled with (llama_print_system_info).
    cpu_features: llama.systemInfo.replace(/^CPU : /, '').replace(/ = 1/g, '').replace(/[| ]+$/, ''),
    gpu: llama.gpu, vocab_override: !hasTokenizer, n_vocab: nVocab, flash_attn: o.fa, flash_attn_enabled: faResolved, reps: o.reps, stat: 'median',
  };
  // calls: llama_decode calls per run; llamaMs: llama.cpp's time for all runs.
  const report = (test, n, calls, secs, llamaMs, llamaCount, cpuS) => {
    const tps = secs.map((s) => n / s);
    const wallMs = secs.reduce((a, x) => a + x, 0) * 1e3;
    console.log(JSON.stringify({
      ...common, test, n_tokens: n, tokens_per_s: round(median(tps)),
      min_tokens_per_s: round(Math.min(...tps)), max_tokens_per_s: round(Math.max(...tps)),
      runs_tokens_per_s: tps.map(round),
      // llama.cpp's own timing of the same calls (all runs together, so a
      // mean, not a median) and what the JS layer added to each call.
      llama_perf_tokens_per_s: round((n * o.reps) / (llamaMs / 1e3)), llama_perf_decoded: llamaCount,
      // Process CPU seconds per wall second over the timed runs: ~threads
      // when the cores are free (ggml's workers spin between ops), lower when
      // other jobs take the cores.
      cpu_s_per_wall_s: round(cpuS / (wallMs / 1e3)),
      js_overhead_ms_per_call: round((wallMs - llamaMs) / (calls * o.reps)),
    }));
  };

  await runPP(1); // warm-up: pages the weights in, sizes the graph
  await perf();   // reset the counters
  const cpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  let cpu0 = cpuSeconds();
  const pp = [];
  for (let r = 0; r < o.reps; r++) pp.push(await runPP(100 + r));
  const ppCpu = cpuSeconds() - cpu0;
  const ppPerf = await perf();
  // Every prompt token went through the model: llama.cpp counted them.
  if (ppPerf.p_n !== o.pp * o.reps) throw new Error(`llama.cpp counted ${ppPerf.p_n} prompt tokens, expected ${o.pp * o.reps}`);
  report(`pp${o.pp}`, o.pp, 1, pp, ppPerf.p_ms, ppPerf.p_n, ppCpu);
  if (o.tg > 0) {
    await runTG(Math.min(o.tg, 4), 2); // warm-up: the one-token graph
    await perf();
    cpu0 = cpuSeconds();
    const tg = [];
    for (let r = 0; r < o.reps; r++) tg.push(await runTG(o.tg, 200 + r));
    const tgCpu = cpuSeconds() - cpu0;
    const tgPerf = await perf();
    if (tgPerf.e_n !== o.tg * o.reps) throw new Error(`llama.cpp counted ${tgPerf.e_n} generation steps, expected ${o.tg * o.reps}`);
    report(`tg${o.tg}`, o.tg, o.tg, tg, tgPerf.e_ms, tgPerf.e_n, tgCpu);
  }
  await ctx.dispose();
  await model.dispose();
  await llama.dispose();
}

main().catch((e) => {
  process.stderr.write(`llamacpp-bench: ${e.message}\n`);
  process.exit(e instanceof UsageError ? 2 : 1);
});
