#!/usr/bin/env node
// Reference for tiktoken rank files: the npm `tiktoken` package (OpenAI's
// Rust core compiled to WASM, with the cl100k_base and o200k_base rank data
// embedded).
//   node scripts/tiktoken-ref.js ranks cl100k_base|o200k_base OUT
//       writes the package's embedded ranks as a rank file ("base64 rank" lines)
//   node scripts/tiktoken-ref.js ranks-from-json TOKENIZER_JSON N OUT
//       writes ids 0..N-1 of a byte-level tokenizer.json's vocabulary as a rank
//       file (Llama 3: its tokenizer.json vocabulary is original/tokenizer.model's)
//   node scripts/tiktoken-ref.js encode cl100k_base|o200k_base|llama3 [RANKFILE] < docs.jsonl
//       one line of space-separated ids per document, encode(text, "all");
//       llama3 takes its ranks from RANKFILE with Meta's pattern and specials
// NODE_PATH must reach the `tiktoken` package (see scripts/tiktoken-compare).
const fs = require('fs');
const readline = require('readline');

const [mode, a1, a2, a3] = process.argv.slice(2);

// The package's compact form: lines "! OFFSET tok tok ..." (ranks OFFSET, OFFSET+1, ...).
function expandRanks(compact) {
  const ranks = [];
  for (const line of compact.split('\n')) {
    if (!line) continue;
    const [, off, ...toks] = line.split(' ');
    toks.forEach((t, i) => ranks.push([t, Number(off) + i]));
  }
  return ranks;
}

function byteLevelDecoder() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const m = new Map();
  bs.forEach((b, i) => m.set(String.fromCodePoint(cs[i]), b));
  return m;
}

if (mode === 'ranks') {
  const data = require(`tiktoken/encoders/${a1}.json`);
  fs.writeFileSync(a2, expandRanks(data.bpe_ranks).map(([t, r]) => `${t} ${r}\n`).join(''));
} else if (mode === 'ranks-from-json') {
  const vocab = JSON.parse(fs.readFileSync(a1, 'utf8')).model.vocab;
  const n = Number(a2);
  const dec = byteLevelDecoder();
  const byId = [];
  for (const [tok, id] of Object.entries(vocab)) if (id < n) byId[id] = tok;
  const lines = [];
  for (let id = 0; id < n; id++) {
    const bytes = Buffer.from([...byId[id]].map((c) => dec.get(c)));
    lines.push(`${bytes.toString('base64')} ${id}\n`);
  }
  fs.writeFileSync(a3, lines.join(''));
} else if (mode === 'encode') {
  const { Tiktoken } = require('tiktoken/lite');
  let enc;
  if (a1 === 'llama3') {
    const lines = fs.readFileSync(a2, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
    const specials = { '<|begin_of_text|>': 128000, '<|end_of_text|>': 128001 };
    const named = ['<|reserved_special_token_0|>', '<|reserved_special_token_1|>', '<|reserved_special_token_2|>',
      '<|reserved_special_token_3|>', '<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_4|>',
      '<|eot_id|>'];
    named.forEach((s, i) => (specials[s] = 128002 + i));
    for (let i = 5; i < 251; i++) specials[`<|reserved_special_token_${i}|>`] = 128010 + i - 5;
    const cl = require('tiktoken/encoders/cl100k_base.json');  // Meta's llama3 pattern is cl100k's
    enc = new Tiktoken(`! 0 ${lines.join(' ')}`, specials, cl.pat_str);
  } else {
    const d = require(`tiktoken/encoders/${a1}.json`);
    enc = new Tiktoken(d.bpe_ranks, d.special_tokens, d.pat_str);
  }
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  const out = [];
  rl.on('line', (line) => {
    if (!line) return;
    out.push(Array.from(enc.encode(JSON.parse(line).text, 'all')).join(' '));
    if (out.length >= 256) process.stdout.write(out.splice(0).join('\n') + '\n');
  });
  rl.on('close', () => {
    if (out.length) process.stdout.write(out.join('\n') + '\n');
    enc.free();
  });
} else {
  console.error('usage: see the header of scripts/tiktoken-ref.js');
  process.exit(2);
}
