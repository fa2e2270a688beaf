#!/usr/bin/env node
// The doubles HF tokenizers (npm `tokenizers`, serde_json without
// float_roundtrip) makes of JSON numbers used as Unigram scores: reads one
// JSON number a line on stdin, writes "number<TAB>HF's double" (the shortest
// text of the double it holds, as its own serializer writes it). The golden
// testdata/tok/serde-scores.tsv for lib/tokenizer/serde_number.
// Usage: NODE_PATH=/work/tok-ref/node_modules node scripts/reference/serde-scores.js < numbers.txt
const { Tokenizer } = require('tokenizers');
const fs = require('fs');
const os = require('os');
const path = require('path');

const numbers = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.trim() !== '');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serde-scores-'));
// The numbers go in as raw JSON text: JSON.stringify would rewrite them.
const vocab = numbers.map((n, i) => `[${JSON.stringify('p' + i)}, ${n}]`).join(',\n');
const json = `{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
 "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
 "model": {"type": "Unigram", "unk_id": 0, "vocab": [${vocab}]}}`;
fs.writeFileSync(path.join(dir, 'in.json'), json);
const tok = Tokenizer.fromFile(path.join(dir, 'in.json'));
tok.save(path.join(dir, 'out.json'));
const saved = fs.readFileSync(path.join(dir, 'out.json'), 'utf8');
// serde_json writes each entry as ["pN",score]; pick the score text as written.
const re = /\["p(\d+)",\s*([-+0-9.eE]+)\]/g;
const out = new Array(numbers.length);
for (let m; (m = re.exec(saved)) !== null;) out[Number(m[1])] = m[2];
fs.rmSync(dir, { recursive: true });
for (let i = 0; i < numbers.length; ++i) {
  if (out[i] === undefined) throw new Error(`no score for ${numbers[i]}`);
  process.stdout.write(`${numbers[i]}\t${out[i]}\n`);
}
