#!/usr/bin/python3
"""A small random Hugging Face DeepseekV2ForCausalLM checkpoint (config.json +
model.safetensors) with the tensor names and shapes transformers'
modeling_deepseek gives them (q_proj, or q_a_proj/q_a_layernorm/q_b_proj with
q_lora_rank; kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj; dense mlp in the
first first_k_dense_replace layers, then mlp.gate, mlp.experts.N.*,
mlp.shared_experts.*), to compare llmtk-quant's HF -> GGUF with
convert_hf_to_gguf.py. Usage: make-hf-deepseek2.py CONFIG OUTDIR [--layers N]
[--dtype F32|F16|BF16]"""
import argparse, json, os, struct

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("config")
ap.add_argument("outdir")
ap.add_argument("--layers", type=int, default=0)
ap.add_argument("--dtype", default="F32")
a = ap.parse_args()
cfg = json.load(open(a.config))
if a.layers:
    cfg["num_hidden_layers"] = a.layers
E, H, V, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["vocab_size"], cfg["num_hidden_layers"]
F, FE, X, S = cfg["intermediate_size"], cfg["moe_intermediate_size"], cfg["n_routed_experts"], cfg["n_shared_experts"]
NOPE, ROPE, VD = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
QR, KVR = cfg.get("q_lora_rank"), cfg["kv_lora_rank"]
shapes = [("model.embed_tokens.weight", [V, E])]
for l in range(L):
    p = f"model.layers.{l}."
    shapes.append((p + "input_layernorm.weight", [E]))
    if QR:
        shapes += [(p + "self_attn.q_a_proj.weight", [QR, E]), (p + "self_attn.q_a_layernorm.weight", [QR]),
                   (p + "self_attn.q_b_proj.weight", [H * (NOPE + ROPE), QR])]
    else:
        shapes.append((p + "self_attn.q_proj.weight", [H * (NOPE + ROPE), E]))
    shapes += [(p + "self_attn.kv_a_proj_with_mqa.weight", [KVR + ROPE, E]),
               (p + "self_attn.kv_a_layernorm.weight", [KVR]),
               (p + "self_attn.kv_b_proj.weight", [H * (NOPE + VD), KVR]),
               (p + "self_attn.o_proj.weight", [E, H * VD]),
               (p + "post_attention_layernorm.weight", [E])]
    if l < cfg["first_k_dense_replace"]:
        shapes += [(p + "mlp.gate_proj.weight", [F, E]), (p + "mlp.up_proj.weight", [F, E]),
                   (p + "mlp.down_proj.weight", [E, F])]
        continue
    shapes.append((p + "mlp.gate.weight", [X, E]))
    for x in range(X):
        q = p + f"mlp.experts.{x}."
        shapes += [(q + "gate_proj.weight", [FE, E]), (q + "up_proj.weight", [FE, E]), (q + "down_proj.weight", [E, FE])]
    if S:
        q = p + "mlp.shared_experts."
        shapes += [(q + "gate_proj.weight", [FE * S, E]), (q + "up_proj.weight", [FE * S, E]),
                   (q + "down_proj.weight", [E, FE * S])]
shapes.append(("model.norm.weight", [E]))
shapes.append(("lm_head.weight", [V, E]))
rng = np.random.default_rng(7)
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
