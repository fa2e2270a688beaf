#!/usr/bin/env bash
# Makes, in directory $1, the files the README's examples name, from
# testdata/ (see scripts/readme-examples). Names listed in `standins` are
# smaller stand-ins for the real files; the others are the real thing.
set -euo pipefail
T=$TESTDATA
cd "$1"
ln -s "$T" testdata
# Real files.
mkdir -p llama3
zstd -dcq "$T/tok/llama3-tokenizer.json.zst" > llama3/tokenizer.json
cp "$T/tok/stories260K-tokenizer.json" stories260K-tokenizer.json
# Llama 3's original/tokenizer.model (a tiktoken rank file): ids 0..127999 of
# its tokenizer.json, bytes in base64, one per line (sha256 82e9d319...: Meta's file).
mkdir -p llama3/original
python3 -c 'import base64,json,sys
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
cs = bs[:] + [256 + n for n in range(256 - len(bs))]
bs += [b for b in range(256) if b not in bs]
dec = {chr(c): b for b, c in zip(bs, cs)}
vocab = {i: t for t, i in json.load(open(sys.argv[1]))["model"]["vocab"].items() if i < 128000}
sys.stdout.write("".join("%s %d\n" % (base64.b64encode(bytes(dec[ch] for ch in vocab[i])).decode(), i) for i in range(128000)))' \
  llama3/tokenizer.json > llama3/original/tokenizer.model
cp "$T/run/stories260K-hf-f32.gguf" stories260K-hf-f32.gguf
mkdir -p bert
zstd -dcq "$T/tok/bert-base-uncased-vocab.txt.zst" > bert/vocab.txt
cp "$T/tok/spm/uni.model" spm-unigram.model
cp "$T/corpus/sample.jsonl" sample.jsonl
# Stand-ins.
cp "$T/corpus/sample.jsonl.zst" heldout.jsonl.zst
cp "$T/corpus/sample.jsonl.zst" train.jsonl.zst
for i in 0 1 2 3; do
  zstd -dcq "$T/corpus/sample.jsonl.zst" | awk -v i=$i 'NR % 4 == i' | zstd -q -o part-$i.jsonl.zst
done
cp "$T/run/stories260K-hf-f16.gguf" model.gguf
cp "$T/run/stories260K-chat.gguf" chat-model.gguf
cp "$T/configs/meta-llama__Llama-3.1-8B.config.json" config.json
printf 'Once upon a time' > prompt.txt
printf '%s\n' '{"id": 1, "messages": [{"role": "system", "content": "You tell stories."}, {"role": "user", "content": "Hi"}]}' > chat.jsonl
printf '%s\n' '{"prompt": "Once upon a time"}' '{"prompt": "Lily and Tom"}' > prompts.jsonl
printf '%s\n' '{"prompt":"Once upon a time,","completion":" there was a little girl"}' \
  '{"prompt":"Once upon a time, ","completion":"there was a little girl"}' \
  '{"prompt":"Once upon a time,","completion":"there was a little girl"}' > choices.jsonl
python3 -c 'import json,sys
for i, l in enumerate(l for l in open(sys.argv[1]).read(4000).split("\n") if l.strip()):
    print(json.dumps({"id": i, "text": l}))' "$T/ppl/stories_selfgen.txt" > docs.jsonl
cp "$T/run/stories260K-hf-f32.gguf" f32.gguf
cp "$T/run/stories260K-hf-Q4_K_M.gguf" q4_k_m.gguf
cp "$T/ppl/stories_selfgen.txt" text.txt
