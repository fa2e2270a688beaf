#!/usr/bin/env python3
"""Copies chosen tensors of GGUF files into a new small GGUF (no metadata).

Usage: gguf_pick.py OUT.gguf NEW_NAME=FILE.gguf:TENSOR ...
Pure Python (no numpy, no gguf-py): reads GGUF v3 tensor tables and data,
writes GGUF v3 with alignment 32. Used to cut llama.cpp reference outputs
down to test data (testdata/quant/imatrix-attn_k.gguf).
"""
import struct
import sys

SCALAR = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
# ggml type id -> (block elements, block bytes) for the types picked here.
BLOCKS = {0: (1, 4), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 10: (256, 84), 11: (256, 110),
          12: (256, 144), 13: (256, 176), 14: (256, 210), 16: (256, 66), 18: (256, 98), 21: (256, 110), 20: (32, 18), 23: (256, 136),
          1: (1, 2), 8: (32, 34), 30: (1, 2)}
BLOCKS.update({17: (256, 74), 22: (256, 82)})  # IQ2_XS, IQ2_S
BLOCKS.update({19: (256, 50), 29: (256, 56)})  # IQ1_S, IQ1_M


def read_gguf(path):
    d = open(path, 'rb').read()
    o = 4
    _, n_t, n_kv = struct.unpack_from('<IQQ', d, o)
    o += 20
    align = 32

    def string(o):
        n, = struct.unpack_from('<Q', d, o)
        return d[o + 8:o + 8 + n].decode(), o + 8 + n

    def skip(t, o):
        if t in SCALAR:
            return o + SCALAR[t]
        if t == 8:
            return string(o)[1]
        et, n = struct.unpack_from('<IQ', d, o)
        o += 12
        for _ in range(n):
            o = skip(et, o)
        return o

    for _ in range(n_kv):
        k, o = string(o)
        t, = struct.unpack_from('<I', d, o)
        o += 4
        if k == 'general.alignment':
            align, = struct.unpack_from('<I', d, o)
        o = skip(t, o)
    infos = []
    for _ in range(n_t):
        name, o = string(o)
        nd, = struct.unpack_from('<I', d, o)
        dims = struct.unpack_from('<%dQ' % nd, d, o + 4)
        t, off = struct.unpack_from('<IQ', d, o + 4 + 8 * nd)
        o += 4 + 8 * nd + 12
        infos.append((name, dims, t, off))
    base = (o + align - 1) // align * align
    out = {}
    for name, dims, t, off in infos:
        n = 1
        for x in dims:
            n *= x
        be, bb = BLOCKS[t]
        out[name] = (dims, t, d[base + off:base + off + n // be * bb])
    return out


def main():
    picks = []
    for arg in sys.argv[2:]:
        new, src = arg.split('=', 1)
        path, tensor = src.rsplit(':', 1)
        picks.append((new, read_gguf(path)[tensor]))
    head = b'GGUF' + struct.pack('<IQQ', 3, len(picks), 0)
    infos, blob = b'', b''
    for new, (dims, t, data) in picks:
        nb = new.encode()
        infos += struct.pack('<Q', len(nb)) + nb + struct.pack('<I', len(dims))
        infos += struct.pack('<%dQ' % len(dims), *dims) + struct.pack('<IQ', t, len(blob))
        blob += data + b'\0' * ((-len(data)) % 32)
    meta = head + infos
    meta += b'\0' * ((-len(meta)) % 32)
    open(sys.argv[1], 'wb').write(meta + blob)


if __name__ == '__main__':
    main()
