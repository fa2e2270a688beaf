// HF tokenizers (npm `tokenizers`, the official Rust binding) side of the
// llmtk-tok train checks. Run by scripts/check-tok-train and
// scripts/bench/tok-train; NODE_PATH must reach node_modules/tokenizers.
//   node tok-train-hf.js encode TOKENIZER.json DOCS.jsonl OUT.ids
//       one line of space-separated ids per document; exits 1 if any
//       decode(encode(text)) != text
//   node tok-train-hf.js train TEMPLATE.json TEXT.txt OUT.json
//       trains HF's BpeTrainer (its default 30,000 vocabulary) with the
//       template's pre-tokenizer, decoder and special tokens
//   node tok-train-hf.js train-wordpiece TEXT.txt OUT.json [uncased|cased]
//       trains HF's WordPieceTrainer (its defaults: 30,000 tokens, no special
//       tokens) under BertWordPieceTokenizer's normalizer and pre-tokenizer
const fs = require('fs');
const readline = require('readline');
const { Tokenizer } = require('tokenizers');

async function encode(tokPath, docsPath, outPath) {
  const tok = Tokenizer.fromFile(tokPath);
  const out = fs.createWriteStream(outPath);
  const rl = readline.createInterface({ input: fs.createReadStream(docsPath), crlfDelay: Infinity });
  let docs = 0, bytes = 0, tokens = 0, roundTripFailures = 0;
  let batch = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const encs = await tok.encodeBatch(batch, { addSpecialTokens: false });
    for (let i = 0; i < encs.length; i++) {
      const ids = encs[i].getIds();
      tokens += ids.length;
      out.write(ids.join(' ') + '\n');
      const back = await tok.decode(ids, false);
      if (back !== batch[i]) {
        if (roundTripFailures++ < 3) console.error(`round trip differs for document ${docs + i}`);
      }
    }
    docs += batch.length;
    batch = [];
  };
  for await (const line of rl) {
    if (line.trim() === '') continue;
    const text = JSON.parse(line).text;
    bytes += Buffer.byteLength(text, 'utf8');
    batch.push(text);
    if (batch.length >= 256) await flush();
  }
  await flush();
  await new Promise((r) => out.end(r));
  console.log(JSON.stringify({ docs, bytes, tokens, bytes_per_token: bytes / tokens,
                               round_trip_failures: roundTripFailures }));
  if (roundTripFailures > 0) process.exit(1);
}

function train(templatePath, textPath, outPath) {
  const t = JSON.parse(fs.readFileSync(templatePath, 'utf8'));
  t.model.vocab = {};
  t.model.merges = [];
  const tok = Tokenizer.fromString(JSON.stringify(t));
  const t0 = Date.now();
  tok.train([textPath]);
  tok.save(outPath);
  console.log(JSON.stringify({ seconds: (Date.now() - t0) / 1000, vocab: tok.getVocabSize(true) }));
}

function trainWordPiece(textPath, outPath, casing) {
  const lowercase = casing !== 'cased';
  const t = {
    version: '1.0', truncation: null, padding: null, added_tokens: [],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true,
                  strip_accents: null, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' }, post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##',
             max_input_chars_per_word: 100, vocab: {} },
  };
  const tok = Tokenizer.fromString(JSON.stringify(t));
  const t0 = Date.now();
  tok.train([textPath]);
  tok.save(outPath);
  console.log(JSON.stringify({ seconds: (Date.now() - t0) / 1000, vocab: tok.getVocabSize(true) }));
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'encode') encode(...args).catch((e) => { console.error(e); process.exit(1); });
else if (cmd === 'train') train(...args);
else if (cmd === 'train-wordpiece') trainWordPiece(...args);
else { console.error('usage: tok-train-hf.js encode|train|train-wordpiece ...'); process.exit(2); }
