#!/usr/bin/python3
"""A small random Hugging Face checkpoint (config.json + model.safetensors)
for MixtralForCausalLM, Qwen2MoeForCausalLM or Qwen3MoeForCausalLM, with the tensor names and
shapes transformers gives them (experts one tensor each), to compare
llmtk-quant's HF -> GGUF with convert_hf_to_gguf.py. Usage: make-hf-moe.py
CONFIG OUTDIR [--layers N] [--dtype F32|F16|BF16] [--tokenizer-model PATH]"""
import argparse, json, os, shutil, struct

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("config")
ap.add_argument("outdir")
ap.add_argument("--layers", type=int, default=0)
ap.add_argument("--dtype", default="F32")
ap.add_argument("--tokenizer-model")
a = ap.parse_args()
cfg = json.load(open(a.config))
if a.layers:
    cfg["num_hidden_layers"] = a.layers
arch = cfg["architectures"][0]
E, H = cfg["hidden_size"], cfg["num_attention_heads"]
KV = cfg.get("num_key_value_heads", H)
D = cfg.get("head_dim", E // H)
F, V, L = cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
shapes = [("model.embed_tokens.weight", [V, E])]
for l in range(L):
    p = f"model.layers.{l}."
    shapes.append((p + "input_layernorm.weight", [E]))
    for n, rows in (("q", H * D), ("k", KV * D), ("v", KV * D)):
        shapes.append((p + f"self_attn.{n}_proj.weight", [rows, E]))
        if arch == "Qwen2MoeForCausalLM":
            shapes.append((p + f"self_attn.{n}_proj.bias", [rows]))
    if arch == "Qwen3MoeForCausalLM":
        shapes += [(p + "self_attn.q_norm.weight", [D]), (p + "self_attn.k_norm.weight", [D])]
    shapes.append((p + "self_attn.o_proj.weight", [E, H * D]))
    shapes.append((p + "post_attention_layernorm.weight", [E]))
    if arch == "MixtralForCausalLM":
        X = cfg["num_local_experts"]
        shapes.append((p + "block_sparse_moe.gate.weight", [X, E]))
        for x in range(X):
            q = p + f"block_sparse_moe.experts.{x}."
            shapes += [(q + "w1.weight", [F, E]), (q + "w2.weight", [E, F]), (q + "w3.weight", [F, E])]
    else:
        X, FE = cfg["num_experts"], cfg["moe_intermediate_size"]
        shapes.append((p + "mlp.gate.weight", [X, E]))
        for x in range(X):
            q = p + f"mlp.experts.{x}."
            shapes += [(q + "gate_proj.weight", [FE, E]), (q + "up_proj.weight", [FE, E]), (q + "down_proj.weight", [E, FE])]
        if arch == "Qwen2MoeForCausalLM":
            S = cfg["shared_expert_intermediate_size"]
            q = p + "mlp.shared_expert."
            shapes += [(q + "gate_proj.weight", [S, E]), (q + "up_proj.weight", [S, E]), (q + "down_proj.weight", [E, S])]
            shapes.append((p + "mlp.shared_expert_gate.weight", [1, E]))
shapes.append(("model.norm.weight", [E]))
if not cfg.get("tie_word_embeddings"):
    shapes.append(("lm_head.weight", [V, E]))
rng = np.random.default_rng(5)
header, blobs, off = {}, [], 0
for name, shape in shapes:
    x = rng.standard_normal(shape).astype(np.float32) * 0.05
    if name.endswith("norm.weight"):
        x += 1.0
    if a.dtype == "F16":
        b = x.astype(np.float16).tobytes()
    elif a.dtype == "BF16":
        b = (x.view(np.uint32) >> 16).astype(np.uint16).tobytes()  # truncation is fine for test data
    else:
        b = x.tobytes()
    header[name] = {"dtype": a.dtype, "shape": shape, "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
os.makedirs(a.outdir, exist_ok=True)
with open(os.path.join(a.outdir, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
json.dump(cfg, open(os.path.join(a.outdir, "config.json"), "w"), indent=2)
if a.tokenizer_model:
    shutil.copy(a.tokenizer_model, os.path.join(a.outdir, "tokenizer.model"))
