#!/usr/bin/env python3
"""Compares the `attributes` of llmtk-filter tag output with a reference's.

Usage: compare_attributes.py LLMTK.jsonl REFERENCE.jsonl [--tol 1e-12]
Both files: one JSON object a line, the same documents in the same order,
each with an "attributes" object. Every key must be present in both, in the
same order, with the same number of spans, the same offsets and scores equal
within --tol. Prints the documents and attributes compared and every
mismatch (the first 20 in full); exit status 1 on any mismatch.
"""
import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("ref")
    ap.add_argument("--tol", type=float, default=1e-12)
    ap.add_argument("--keys", default="", help="only keys starting with one of these (comma-separated)")
    a = ap.parse_args()
    prefixes = tuple(p for p in a.keys.split(",") if p)
    docs = attrs = bad = 0
    with open(a.ours, encoding="utf-8") as fo, open(a.ref, encoding="utf-8") as fr:
        for n, (lo, lr) in enumerate(zip(fo, fr), 1):
            o = json.loads(lo)["attributes"]
            r = json.loads(lr)["attributes"]
            if prefixes:
                o = {k: v for k, v in o.items() if k.startswith(prefixes)}
                r = {k: v for k, v in r.items() if k.startswith(prefixes)}
            docs += 1
            problems = []
            if list(o) != list(r):
                problems.append(f"keys differ: ours-only {sorted(set(o) - set(r))}, ref-only {sorted(set(r) - set(o))}"
                                if set(o) != set(r) else "key order differs")
            for k in r:
                attrs += 1
                if k not in o:
                    continue
                so, sr = o[k], r[k]
                if len(so) != len(sr) or any(x[0] != y[0] or x[1] != y[1] or abs(x[2] - y[2]) > a.tol
                                             for x, y in zip(so, sr)):
                    problems.append(f"{k}: ours {so[:5]} ref {sr[:5]}")
            if problems:
                bad += 1
                if bad <= 20:
                    print(f"line {n}: " + "; ".join(problems[:5]))
    print(f"documents compared: {docs}, attributes compared: {attrs}, documents with mismatches: {bad}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
