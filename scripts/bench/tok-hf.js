#!/usr/bin/env node
// HF tokenizers (npm `tokenizers`, Rust) encoding speed on a JSONL file:
// loads the tokenizer and the texts first, then times encodeBatch only.
// Threads: RAYON_NUM_THREADS. Prints one JSON line.
const { Tokenizer } = require('tokenizers');
const fs = require('fs');
const [tokPath, file] = process.argv.slice(2);
const tok = Tokenizer.fromFile(tokPath);
const texts = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l).text);
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
(async () => {
  const t0 = process.hrtime.bigint();
  let tokens = 0;
  for (let i = 0; i < texts.length; i += 1024) {
    const encs = await tok.encodeBatch(texts.slice(i, i + 1024), { addSpecialTokens: false });
    for (const e of encs) tokens += e.getIds().length;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ bytes, tokens, seconds: s, mb_per_s: bytes / s / 1e6 }));
})();
