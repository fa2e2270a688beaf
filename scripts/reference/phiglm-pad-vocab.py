#!/usr/bin/python3
"""Writes a vocabulary-only GGUF: Phi-3's (ggml-vocab-phi-3.gguf) padded with
unused [PADi] tokens to N entries, so a random model with GLM-4-9B's 151,552-row
embedding can run text through llama.cpp (the text only ever uses the first
32,064 ids). Usage: phiglm-pad-vocab.py OUT.gguf N"""
import sys
sys.path.insert(0, '/root/peers/llama.cpp/gguf-py')
import gguf
r = gguf.GGUFReader('/work/shared/tokenizers/ggml-vocab/ggml-vocab-phi-3.gguf')
n = int(sys.argv[2])
w = gguf.GGUFWriter(sys.argv[1], 'phi3')
toks = [bytes(r.fields['tokenizer.ggml.tokens'].parts[i]) for i in r.fields['tokenizer.ggml.tokens'].data]
scores = [float(r.fields['tokenizer.ggml.scores'].parts[i][0]) for i in r.fields['tokenizer.ggml.scores'].data]
types = [int(r.fields['tokenizer.ggml.token_type'].parts[i][0]) for i in r.fields['tokenizer.ggml.token_type'].data]
for i in range(len(toks), n):
    toks.append(f"[PAD{i}]".encode()); scores.append(-10000.0); types.append(5)
w.add_tokenizer_model('llama'); w.add_tokenizer_pre('default')
w.add_token_list(toks); w.add_token_scores(scores); w.add_token_types(types)
w.add_bos_token_id(1); w.add_eos_token_id(32000); w.add_unk_token_id(0); w.add_add_bos_token(True); w.add_add_eos_token(False)
w.write_header_to_file(); w.write_kv_data_to_file(); w.close()
