#!/usr/bin/env node
// llama.cpp's answers on pre-tokenized input, through the prebuilt llama.cpp
// that node-llama-cpp ships (scripts/bench/run-llamacpp installs it into
// NLC_DIR), for architectures the reference build (c392e50) predates or
// cannot run shrunk (Gemma 3; Gemma 2 with a layer count other than 26, 42
// or 46, which c392e50 aborts on). No tokenizer is needed: the model loads
// with tokenizer.ggml.model overridden to "none", as llamacpp-bench.mjs does.
//
//   ppl    -- llama-perplexity's number on the ids: chunks of --ctx tokens,
//             each one batch from an empty cache, the second half scored
//             (no BOS put in: a file without a vocabulary has none), the
//             log-softmax of each scored token over its full logit row.
//             Prints "PPL = x" (6 decimals) and each chunk's running value.
//   greedy -- the ids as a prompt (one batch), then --n greedy tokens one at a
//             time; prints the generated ids on one line.
//   logits -- the ids in one batch; prints each position's full logit row
//             (for small vocabularies: golden files).
// Flash attention is off (llama-perplexity's default on CPU in c392e50;
// llmtk follows the non-flash graph). --no-repack: run under the
// nlc_norepack LD_PRELOAD shim (../shared/peers/) for K-quant files.
//
// Usage: NLC_PREFIX=DIR node llamacpp-ids.mjs ppl|greedy|logits MODEL.gguf IDS.txt
//          [--ctx N] [--n 64] [--threads N]
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const USAGE = 'usage: llamacpp-ids.mjs ppl|greedy|logits MODEL.gguf IDS.txt [--ctx N] [--n 64] [--threads N]';
function parseArgs(argv) {
  const o = { mode: argv[0], model: argv[1], ids: argv[2], ctx: 0, n: 64, threads: 2 };
  if (!['ppl', 'greedy', 'logits'].includes(o.mode) || !o.model || !o.ids) throw new Error(USAGE);
  for (let i = 3; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    if (argv[i] === '--ctx') o.ctx = v;
    else if (argv[i] === '--n') o.n = v;
    else if (argv[i] === '--threads') o.threads = v;
    else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
    i++;
  }
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const prefix = process.env.NLC_PREFIX;
  if (!prefix) throw new Error('set NLC_PREFIX to the npm prefix holding node_modules/node-llama-cpp');
  const nlc = await import(pathToFileURL(path.join(prefix, 'node_modules/node-llama-cpp/dist/index.js')).href);
  const ids = Uint32Array.from(fs.readFileSync(o.ids, 'utf8').trim().split(/\s+/).map(Number));
  const llama = await nlc.getLlama({ gpu: false, build: 'never', logLevel: process.env.NLC_VERBOSE ? nlc.LlamaLogLevel.info : nlc.LlamaLogLevel.error });
  const info = await nlc.readGgufFileInfo(o.model, { readTensorInfo: false });
  const hasTokenizer = info.metadata.tokenizer?.ggml?.model != null;
  const b = llama._bindings;
  const model = new b.AddonModel(path.resolve(o.model), {
    addonExports: b, gpuLayers: 0, useMmap: true,
    ...(hasTokenizer ? {} : { overridesList: [['tokenizer.ggml.model', 'none']] }),
  });
  if (!(await model.init())) throw new Error(`${o.model}: llama.cpp could not load the model`);
  const ctxSize = o.mode === 'ppl' ? o.ctx : ids.length + (o.mode === 'greedy' ? o.n : 0);
  if (!(ctxSize > 0)) throw new Error('ppl needs --ctx');
  const ctx = new b.AddonContext(model, {
    contextSize: ctxSize, batchSize: Math.max(ctxSize, 1), sequences: 1, threads: o.threads,
    flashAttention: false, swaFullCache: true,
  });
  if (!(await ctx.init())) throw new Error(`${o.model}: llama.cpp could not create a context`);
  const sampler = new b.AddonSampler(model);
  sampler.applyConfig({ temperature: 0 });

  async function decode(tokens, pos, logitIdx) {
    ctx.initBatch(tokens.length);
    const idx = ctx.addToBatch(0, pos, tokens, logitIdx);
    await ctx.decodeBatch();
    return idx;
  }
  const all = (n) => Uint32Array.from({ length: n }, (_, i) => i);

  if (o.mode === 'ppl') {
    const n = o.ctx, first = n / 2, chunks = Math.floor(ids.length / n);
    if (chunks < 1) throw new Error(`${ids.length} ids are fewer than one context of ${n}`);
    let nll = 0, count = 0;
    const line = [];
    for (let c = 0; c < chunks; c++) {
      ctx.disposeSequence(0);
      const chunk = ids.subarray(c * n, (c + 1) * n);
      const idx = await decode(chunk, 0, all(n));
      for (let j = first; j < n - 1; j++) {
        const target = chunk[j + 1];
        // The whole row, and llama-perplexity's arithmetic on it (expf of
        // each logit minus the maximum, summed in double): the addon's own
        // sum (totalLogitWeight) is in float, which drifts by a few 1e-3 on
        // a 256k vocabulary.
        const [, , , flat] = await ctx.sampleToken(idx[j], sampler, false, false, true);
        let mx = -Infinity, lt = NaN;
        for (let i = 0; i < flat.length; i += 2) {
          if (flat[i + 1] > mx) mx = flat[i + 1];
          if (flat[i] === target) lt = flat[i + 1];
        }
        let sum = 0;
        for (let i = 1; i < flat.length; i += 2) sum += Math.fround(Math.exp(Math.fround(flat[i] - mx)));
        nll += -(lt - mx - Math.log(sum));
        count++;
      }
      line.push(`[${c + 1}]${Math.exp(nll / count).toFixed(4)}`);
    }
    console.log(line.join(','));
    console.log(`PPL = ${Math.exp(nll / count).toFixed(6)} (${chunks} chunks of ${n}, ${count} scored)`);
  } else if (o.mode === 'greedy') {
    const idx = await decode(ids, 0, Uint32Array.of(ids.length - 1));
    let li = idx[0];
    const out = [];
    for (let i = 0; i < o.n; i++) {
      const tok = await ctx.sampleToken(li, sampler);
      out.push(tok);
      const r = await decode(Uint32Array.of(tok), ids.length + i, Uint32Array.of(0));
      li = r[0];
    }
    console.log(out.join(' '));
  } else {
    const idx = await decode(ids, 0, all(ids.length));
    for (let j = 0; j < ids.length; j++) {
      const [, , , logits] = await ctx.sampleToken(idx[j], sampler, false, false, [[], false, false, false, 1 << 30]);
      const row = new Float32Array(logits.length / 2);
      for (let i = 0; i < logits.length; i += 2) row[logits[i]] = logits[i + 1];
      console.log(Array.from(row, (v) => v.toPrecision(9)).join(' '));
    }
  }
  await ctx.dispose();
  await model.dispose();
  await llama.dispose();
}

main().catch((e) => {
  process.stderr.write(`llamacpp-ids: ${e.message}\n`);
  process.exit(1);
});
