#!/usr/bin/env node
// HF tokenizers (npm `tokenizers`, Rust) as a whole process, for
// scripts/bench/tok: load the tokenizer, read JSONL on stdin, encode every
// document (no special tokens; encodeBatch, 1024 documents a call, threads
// as RAYON_NUM_THREADS says), write a line of space-separated ids per
// document to OUT. Prints one JSON line on stderr: documents, tokens, text
// bytes, and the CPU seconds (user + sys, all threads) of the encodeBatch
// calls alone and of the whole process so far.
// Usage: node tok-hf-e2e.js TOKENIZER_JSON OUT < docs.jsonl
const { Tokenizer } = require('tokenizers');
const fs = require('fs');

const [tokPath, outPath] = process.argv.slice(2);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const tok = Tokenizer.fromFile(tokPath);
const chunks = [];
const buf = Buffer.allocUnsafe(1 << 22);
for (;;) {
  let n = 0;
  try {
    n = fs.readSync(0, buf, 0, buf.length, null);
  } catch (e) {
    if (e.code === 'EAGAIN') continue;
    if (e.code === 'EOF') break;
    throw e;
  }
  if (n === 0) break;
  chunks.push(Buffer.from(buf.subarray(0, n)));
}
const texts = [];
let bytes = 0;
for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
  if (line.trim() === '') continue;
  const t = JSON.parse(line).text;
  texts.push(t);
  bytes += Buffer.byteLength(t, 'utf8');
}
const out = fs.openSync(outPath, 'w');
(async () => {
  let encodeCpu = 0;
  let tokens = 0;
  for (let i = 0; i < texts.length; i += 1024) {
    const c0 = cpu();
    const encs = await tok.encodeBatch(texts.slice(i, i + 1024), { addSpecialTokens: false });
    const ids = encs.map((e) => e.getIds());
    encodeCpu += cpu() - c0;
    for (const x of ids) tokens += x.length;
    fs.writeSync(out, ids.map((x) => x.join(' ')).join('\n') + '\n');
  }
  fs.closeSync(out);
  console.error(JSON.stringify({ documents: texts.length, tokens, bytes, encode_cpu_s: encodeCpu, process_cpu_s: cpu() }));
})();
