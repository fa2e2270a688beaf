"""A numpy reader standing in for the safetensors package's safe_open."""
import json
import struct

import numpy as np
import torch

_NP = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.int16, "I64": np.int64,
       "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


class _Slice:
    def __init__(self, f, name):
        self._f, self._name = f, name

    def get_dtype(self):
        return self._f._meta[self._name]["dtype"]

    def get_shape(self):
        return list(self._f._meta[self._name]["shape"])

    def __getitem__(self, key):
        return self._f.get_tensor(self._name)[key]


class safe_open:  # noqa: N801 (the package's name)
    def __init__(self, path, framework="pt", device="cpu"):
        del framework, device
        with open(path, "rb") as fh:
            n = struct.unpack("<Q", fh.read(8))[0]
            header = json.loads(fh.read(n))
        self._meta = {k: v for k, v in header.items() if k != "__metadata__"}
        self._data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def keys(self):
        return sorted(self._meta)

    def get_slice(self, name):
        return _Slice(self, name)

    def get_tensor(self, name):
        m = self._meta[name]
        begin, end = m["data_offsets"]
        raw = np.array(self._data[begin:end])
        arr = raw.view(_NP[m["dtype"]]).reshape(m["shape"])
        t = torch.from_numpy(arr.copy())
        return t.view(torch.bfloat16) if m["dtype"] == "BF16" else t
