"""A stand-in for the `safetensors` package (not in Debian) with what
llama.cpp's convert_hf_to_gguf.py calls: safe_open(...).keys(), get_slice()
(get_dtype, get_shape, [:]) and get_tensor(), reading the file with numpy."""
import json
import struct

import numpy as np
import torch

_NP = {"F32": np.float32, "F16": np.float16, "BF16": np.int16, "F64": np.float64,
       "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


class _Slice:
    def __init__(self, mm, base, info):
        self._mm, self._base, self._info = mm, base, info

    def get_dtype(self):
        return self._info["dtype"]

    def get_shape(self):
        return list(self._info["shape"])

    def __getitem__(self, _):
        a, b = self._info["data_offsets"]
        dt = self._info["dtype"]
        arr = np.frombuffer(self._mm, dtype=_NP[dt], count=(b - a) // np.dtype(_NP[dt]).itemsize,
                            offset=self._base + a).reshape(self._info["shape"]).copy()
        t = torch.from_numpy(arr)
        return t.view(torch.bfloat16) if dt == "BF16" else t


class safe_open:
    def __init__(self, path, framework="pt", device="cpu"):
        with open(path, "rb") as f:
            self._mm = f.read()
        n = struct.unpack("<Q", self._mm[:8])[0]
        header = json.loads(self._mm[8:8 + n])
        header.pop("__metadata__", None)
        self._header, self._base = header, 8 + n

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def keys(self):
        return list(self._header.keys())

    def get_slice(self, name):
        return _Slice(self._mm, self._base, self._header[name])

    def get_tensor(self, name):
        return self.get_slice(name)[:]
