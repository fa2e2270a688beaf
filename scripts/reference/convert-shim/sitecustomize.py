# torch 1.13 lacks the float8 dtypes convert_hf_to_gguf.py lists in its
# safetensors dtype table; map them to dtypes no checkpoint we convert uses.
try:
    import torch
    for _name, _stand_in in (("float8_e4m3fn", torch.complex64), ("float8_e5m2", torch.complex128)):
        if not hasattr(torch, _name):
            setattr(torch, _name, _stand_in)
except ImportError:
    pass
