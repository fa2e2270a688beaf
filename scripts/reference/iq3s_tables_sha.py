#!/usr/bin/env python3
"""SHA-256 of IQ3_S's tables as ggml defines them (tests/quant_iq3s_test.cc).

Reads llama.cpp's ggml-common.h (iq3s_grid) and ggml-quants.c (kgrid_512)
and prints: the grid's SHA-256; then, following iq3xs_init_impl(512) --
every 4-level pattern off the grid maps to a list of the grid points at
the 3 smallest squared distances, by distance then index -- the length
and SHA-256 of the neighbour table (uint16) and of the map (int32).
Usage: iq3s_tables_sha.py [LLAMA_CPP_DIR]   (default ~/peers/llama.cpp)
"""
import hashlib
import os
import re
import struct
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser('~/peers/llama.cpp')
common = open(os.path.join(root, 'ggml/src/ggml-common.h')).read()
i = common.index('GGML_TABLE_BEGIN(uint32_t, iq3s_grid, 512)')
grid_words = [int(x, 16) for x in re.findall(r'0x[0-9a-f]+', common[i:common.index('GGML_TABLE_END', i)])]
print('iq3s_grid', hashlib.sha256(struct.pack('<512I', *grid_words)).hexdigest())
quants = open(os.path.join(root, 'ggml/src/ggml-quants.c')).read()
k = quants.index('kgrid_512[512] = {')
codes = [int(x) for x in re.findall(r'\d+', quants[k + len('kgrid_512[512]'):quants.index('};', k)])]
grid = [[2 * ((c >> 3 * i) & 7) + 1 for i in range(4)] for c in codes]
kmap = [-1] * 4096
for j, c in enumerate(codes):
    kmap[c] = j
neighbours = []
for p in range(4096):
    if kmap[p] >= 0:
        continue
    pos = [2 * ((p >> 3 * i) & 7) + 1 for i in range(4)]
    d = sorted((sum((g[i] - pos[i]) ** 2 for i in range(4)), j) for j, g in enumerate(grid))
    nearest = sorted(set(x for x, _ in d))[:3]
    chosen = [j for x, j in d if x in nearest]
    kmap[p] = -(len(neighbours) + 1)
    neighbours += [len(chosen)] + chosen
print('neighbours', len(neighbours), hashlib.sha256(struct.pack('<%dH' % len(neighbours), *neighbours)).hexdigest())
print('map', hashlib.sha256(struct.pack('<4096i', *kmap)).hexdigest())
