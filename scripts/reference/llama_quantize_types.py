#!/usr/bin/env python3
"""Turns llama-quantize logs into rows of testdata/quant/recipe-iq.tsv.

Usage: llama_quantize_types.py MODEL FTYPE IMATRIX LOG
Prints one row per tensor, in the order llama-quantize visited them:
MODEL FTYPE IMATRIX tensor dims (ne0xne1...) type (ggml name, lower case;
the source type where it was not converted). Tab-separated.
"""
import re
import sys

model, ftype, imatrix, log = sys.argv[1:5]
text = open(log, errors='replace').read()
for item in re.split(r'\[\s*\d+/\s*\d+\]\s+', text)[1:]:
    name = item.split()[0]
    ne = [int(x) for x in re.search(r'- \[([^\]]*)\]', item).group(1).split(',')]
    while len(ne) > 1 and ne[-1] == 1:
        ne.pop()
    m = re.search(r'converting to (\S+) \.\.', item)
    ty = m.group(1) if m else re.search(r'type =\s+(\S+),', item).group(1)
    print('\t'.join([model, ftype, imatrix, name, 'x'.join(map(str, ne)), ty.lower()]))
