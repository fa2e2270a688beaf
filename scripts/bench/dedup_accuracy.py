#!/usr/bin/env python3
"""Accuracy of llmtk-dedup against brute-force ground truth (see dedup-accuracy).

plant:    real documents + seeded near-duplicates -> JSONL with ids p0, p1, ...
evaluate: ground-truth pairs (dedup_truth_bench) + the tool's --clusters file
          -> document-level precision, recall, F1, adjusted Rand index.
"""
import json
import random
import sys
from collections import Counter

BOILER_EN = ["Subscribe to our newsletter for more stories like this one.",
             "This text is provided for educational purposes only. All rights reserved."]
BOILER_ZH = ["点击关注，获取更多精彩内容。", "本文仅供学习交流使用，版权归原作者所有。"]


def tokens(text, zh):
    return list(text) if zh else text.split()


def join(toks, zh):
    return "".join(toks) if zh else " ".join(toks)


def mutate(text, other, zh, rng):
    toks = tokens(text, zh)
    vocab = tokens(other, zh) or toks
    op = rng.choice(["copy", "edit", "indel", "truncate", "boiler", "noise", "splice", "edit+noise"])
    if op == "copy":
        return text, op
    if op in ("edit", "edit+noise"):
        p = rng.uniform(0.01, 0.06)
        toks = [rng.choice(vocab) if rng.random() < p else t for t in toks]
    if op == "indel":
        p = rng.uniform(0.01, 0.05)
        out = []
        for t in toks:
            r = rng.random()
            if r < p:
                continue  # deletion
            out.append(t)
            if r > 1 - p:
                out.append(rng.choice(vocab))  # insertion
        toks = out
    if op == "truncate":
        toks = toks[: max(1, int(len(toks) * rng.uniform(0.8, 0.97)))]
    if op == "splice":
        o = tokens(other, zh)
        keep = int(len(toks) * rng.uniform(0.75, 0.95))
        toks = toks[:keep] + o[: max(1, len(toks) - keep)]
    s = join(toks, zh)
    if op == "boiler":
        b = rng.choice(BOILER_ZH if zh else BOILER_EN)
        s = s + ("" if zh else " ") + b if rng.random() < 0.5 else b + ("" if zh else " ") + s
    if op in ("noise", "edit+noise"):
        if zh:
            s = "".join(c + "，" if rng.random() < 0.05 else c for c in s)
        else:
            s = " ".join(w.upper() if rng.random() < 0.1 else (w + "," if rng.random() < 0.05 else w)
                         for w in s.split())
    return s, op


def plant(src, lang, n_base, seed, out, zh_sources=("zh_novels", "zh_modern")):
    rng = random.Random(seed)
    base = []
    for line in open(src, encoding="utf-8"):
        d = json.loads(line)
        t = d["text"]
        if lang == "en" and d["source"] == "en" and len(t.split()) >= 30:
            base.append(t)
        if lang == "zh" and d["source"] in zh_sources and len(t) >= 60:
            base.append(t)
    rng.shuffle(base)
    base = base[:n_base]
    docs = []
    for t in base:
        docs.append(t)
        if rng.random() < 0.35:
            for _ in range(rng.randint(1, 3)):
                docs.append(mutate(t, rng.choice(base), lang == "zh", rng)[0])
    rng.shuffle(docs)
    with open(out, "w", encoding="utf-8") as f:
        for i, t in enumerate(docs):
            f.write(json.dumps({"id": "p%d" % i, "text": t}, ensure_ascii=False) + "\n")
    print(len(docs))


def find(p, x):
    while p[x] != x:
        p[x] = p[p[x]]
        x = p[x]
    return x


def comb2(n):
    return n * (n - 1) // 2


def ari(a, b):
    n = len(a)
    cont = Counter(zip(a, b))
    sa = sum(comb2(v) for v in Counter(a).values())
    sb = sum(comb2(v) for v in Counter(b).values())
    sab = sum(comb2(v) for v in cont.values())
    exp = sa * sb / comb2(n)
    mx = (sa + sb) / 2
    return 1.0 if mx == exp else (sab - exp) / (mx - exp)


def evaluate(n, truth, clusters, t):
    n = int(n)
    t = float(t)
    p = list(range(n))
    has_partner = [False] * n
    for line in open(truth):
        i, j, jac = line.split()
        if float(jac) >= t:
            i, j = int(i), int(j)
            has_partner[i] = has_partner[j] = True
            a, b = find(p, i), find(p, j)
            if a != b:
                p[max(a, b)] = min(a, b)
    gt = [find(p, i) for i in range(n)]
    gt_removed = {i for i in range(n) if gt[i] != i}
    tool = list(range(n))
    for line in open(clusters):
        r = json.loads(line)
        tool[int(r["id"][1:])] = r["cluster"]
    removed = {i for i in range(n) if tool[i] != i}
    tp = len(removed & gt_removed)
    prec = tp / len(removed) if removed else 1.0
    rec = tp / len(gt_removed) if gt_removed else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    unique_removed = sum(1 for i in removed if not has_partner[i])
    print("docs=%d gt_dups=%d removed=%d P=%.4f R=%.4f F1=%.4f ARI=%.4f unique_removed=%d"
          % (n, len(gt_removed), len(removed), prec, rec, f1, ari(gt, tool), unique_removed))


if __name__ == "__main__":
    if sys.argv[1] == "plant":
        # An optional 7th argument restricts the Chinese sources (comma-separated).
        zh = tuple(sys.argv[7].split(",")) if len(sys.argv) > 7 else ("zh_novels", "zh_modern")
        plant(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], zh)
    else:
        evaluate(*sys.argv[2:6])
