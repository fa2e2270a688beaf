#!/usr/bin/python3
"""Writes the vocabulary-only GGUF llama.cpp's convert_hf_to_gguf.py writes for
a T5-style (SentencePiece Unigram) tokenizer, from a SentencePiece .model:
tokenizer.ggml.model "t5", pre "default", the pieces with their scores and
types, add_space_prefix and remove_extra_whitespaces from the model's
normalizer spec, its precompiled_charsmap, the unknown/bos/eos ids of the
model (spm_train's 0/1/2), add_bos false and add_eos true (llama.cpp's UGM
defaults, which T5's converter keeps). The converter itself needs protobuf's
Python package (not on this machine) to read the .model; this reads the
protobuf wire format directly. Architecture "llama": a vocabulary-only load
(llama-tokenize) reads no hyperparameters.

Usage: spm-t5-gguf.py IN.model OUT.gguf
"""
import struct
import sys

sys.path.insert(0, "/root/peers/llama.cpp/gguf-py")
import gguf  # noqa: E402


def fields(buf):
    """Yields (field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire} at byte {i}")
        yield num, wire, v


def varint(buf, i):
    shift = v = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


src, out = sys.argv[1], sys.argv[2]
model = open(src, "rb").read()
tokens, scores, types = [], [], []
charsmap, add_prefix, remove_ws, model_type = b"", True, True, 1
for num, wire, v in fields(model):
    if num == 1:  # SentencePiece
        piece, score, typ = b"", 0.0, 1
        for n2, _, v2 in fields(v):
            if n2 == 1:
                piece = v2
            elif n2 == 2:
                score = struct.unpack("<f", v2)[0]
            elif n2 == 3:
                typ = v2
        tokens.append(piece)
        scores.append(score)
        types.append(typ)
    elif num == 2:  # TrainerSpec
        for n2, _, v2 in fields(v):
            if n2 == 3:
                model_type = v2
    elif num == 3:  # NormalizerSpec
        for n2, _, v2 in fields(v):
            if n2 == 2:
                charsmap = v2
            elif n2 == 3:
                add_prefix = bool(v2)
            elif n2 == 4:
                remove_ws = bool(v2)
assert model_type == 1, "not a Unigram model"
w = gguf.GGUFWriter(out, "llama")
w.add_name("spm-t5-gguf " + src.rsplit("/", 1)[-1])
w.add_tokenizer_model("t5")
w.add_tokenizer_pre("default")
w.add_token_list(tokens)
w.add_token_scores(scores)
w.add_token_types(types)
w.add_add_space_prefix(add_prefix)
w.add_remove_extra_whitespaces(remove_ws)
if charsmap:
    w.add_precompiled_charsmap(charsmap)
w.add_unk_token_id(types.index(2))
w.add_bos_token_id(tokens.index(b"<s>"))
w.add_eos_token_id(tokens.index(b"</s>"))
w.add_add_bos_token(False)
w.add_add_eos_token(True)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(f"{out}: {len(tokens)} tokens, add_space_prefix {add_prefix}, remove_extra_whitespaces {remove_ws}, "
      f"charsmap {len(charsmap)} bytes", file=sys.stderr)
