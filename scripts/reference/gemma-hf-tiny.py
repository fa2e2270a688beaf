#!/usr/bin/python3
"""Writes a tiny random Hugging Face checkpoint of Gemma 2 or Gemma 3 (text):
config.json (the real configs' keys at tiny shapes), model.safetensors in
BF16 (as Google publishes them; norm weights near 0, which the converter
shifts by 1 in BF16), and stories260K's SentencePiece tokenizer.model (512
pieces) with its tokenizer_config.json. Deterministic (numpy seed).

Usage: gemma-hf-tiny.py gemma2|gemma3 OUT_DIR TOKENIZER_DIR
"""
import json
import shutil
import struct
import sys

import numpy as np

arch, out, tok_dir = sys.argv[1], sys.argv[2], sys.argv[3]
H, HEADS, KV, HD, FF, L, V = 64, 4, 2, 16, 128, 2, 512
common = {"attention_bias": False, "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
          "head_dim": HD, "hidden_activation": "gelu_pytorch_tanh", "hidden_size": H, "initializer_range": 0.02,
          "intermediate_size": FF, "num_attention_heads": HEADS, "num_hidden_layers": L, "num_key_value_heads": KV,
          "pad_token_id": 0, "query_pre_attn_scalar": HD, "rms_norm_eps": 1e-06, "torch_dtype": "bfloat16",
          "vocab_size": V}
if arch == "gemma2":
    cfg = {"architectures": ["Gemma2ForCausalLM"], "attn_logit_softcapping": 50.0, "cache_implementation": "hybrid",
           "final_logit_softcapping": 30.0, "max_position_embeddings": 8192, "model_type": "gemma2",
           "rope_theta": 10000.0, "sliding_window": 16, **common}
else:
    cfg = {"architectures": ["Gemma3ForCausalLM"], "attn_logit_softcapping": None, "final_logit_softcapping": None,
           "max_position_embeddings": 32768, "model_type": "gemma3_text", "rope_local_base_freq": 10000,
           "rope_scaling": None, "rope_theta": 1000000, "sliding_window": 16, "sliding_window_pattern": 6, **common}
rng = np.random.default_rng(19 if arch == "gemma2" else 23)
tensors = {"model.embed_tokens.weight": (V, H), "model.norm.weight": (H,)}
for i in range(L):
    p = f"model.layers.{i}."
    tensors.update({p + "input_layernorm.weight": (H,), p + "self_attn.q_proj.weight": (HEADS * HD, H),
                    p + "self_attn.k_proj.weight": (KV * HD, H), p + "self_attn.v_proj.weight": (KV * HD, H),
                    p + "self_attn.o_proj.weight": (H, HEADS * HD), p + "post_attention_layernorm.weight": (H,),
                    p + "pre_feedforward_layernorm.weight": (H,), p + "post_feedforward_layernorm.weight": (H,),
                    p + "mlp.gate_proj.weight": (FF, H), p + "mlp.up_proj.weight": (FF, H),
                    p + "mlp.down_proj.weight": (H, FF)})
    if arch == "gemma3":
        tensors.update({p + "self_attn.q_norm.weight": (HD,), p + "self_attn.k_norm.weight": (HD,)})
header, blobs, off = {}, [], 0
for name, shape in tensors.items():
    scale = 0.3 if len(shape) == 1 else 0.05
    f = (rng.standard_normal(shape) * scale).astype(np.float32)
    bf = (f.view(np.uint32) + 0x7FFF + ((f.view(np.uint32) >> 16) & 1)) >> 16  # round to nearest even
    b = bf.astype(np.uint16).tobytes()
    header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open(f"{out}/model.safetensors", "wb") as fh:
    fh.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
with open(f"{out}/config.json", "w") as fh:
    json.dump(cfg, fh, indent=2)
for t in ("tokenizer.model", "tokenizer_config.json"):
    shutil.copy(f"{tok_dir}/{t}", f"{out}/{t}")
