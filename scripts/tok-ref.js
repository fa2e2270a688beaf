#!/usr/bin/env node
// Reference ids from HF tokenizers (npm `tokenizers`, the official Rust
// binding). Reads JSONL documents on stdin, writes one line of
// space-separated ids per document (add_special_tokens as the flag says).
// With --decoded FILE, also writes HF's decode(ids) of each document to FILE
// as one JSON string per line.
// Usage: node scripts/tok-ref.js TOKENIZER_JSON [--no-special] [--text-key K] [--decoded FILE] < docs.jsonl
// NODE_PATH must reach the `tokenizers` package (see scripts/tok-compare).
const { Tokenizer } = require('tokenizers');
const readline = require('readline');

const args = process.argv.slice(2);
const tokPath = args[0];
const special = !args.includes('--no-special');
const ki = args.indexOf('--text-key');
const key = ki >= 0 ? args[ki + 1] : 'text';
const di = args.indexOf('--decoded');
const decodedOut = di >= 0 ? require('fs').openSync(args[di + 1], 'w') : null;
const tok = Tokenizer.fromFile(tokPath);

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let batch = [];
  const out = process.stdout;
  const flush = async () => {
    if (batch.length === 0) return;
    const encs = await tok.encodeBatch(batch, { addSpecialTokens: special });
    out.write(encs.map((e) => e.getIds().join(' ')).join('\n') + '\n');
    if (decodedOut !== null) {
      const texts = await tok.decodeBatch(encs.map((e) => e.getIds()), false);
      require('fs').writeSync(decodedOut, texts.map((t) => JSON.stringify(t)).join('\n') + '\n');
    }
    batch = [];
  };
  for await (const line of rl) {
    if (line.trim() === '') continue;
    batch.push(JSON.parse(line)[key]);
    if (batch.length >= 512) await flush();
  }
  await flush();
}
main().catch((e) => { console.error(e); process.exit(1); });
