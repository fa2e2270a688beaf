#!/usr/bin/env python3
"""One row of scripts/bench/run's table from the rounds it measured.

  run_row.py header PP TG [PEER...]      prints the table's header
  run_row.py row NAME TYPE THREADS [PEER...] < ROUNDS

A PEER written "-bench" (or "-prebuilt") has its columns in the table but
was not run on this row (its llama.cpp does not know the architecture):
its cells read n/a, where a peer that ran and failed reads "failed".

ROUNDS holds, per round, a line "@ round read=GB/s copy=GB/s" and then, per
tool run in that round, a line "@ WHO" (llmtk, prebuilt, bench) followed by
that tool's JSON output: llmtk-run --bench --json's object, or one JSON line
per test from run-llamacpp / llama-bench ({"test": "pp512", "tokens_per_s"}).

Figures are medians over the rounds. A ratio is taken within each round (the
tools of a round ran minutes apart at most, under the same bandwidth), and
printed as the median of those with their range. The generation limit of a
round is its read bandwidth over the weight bytes read per token; a round
where a tool failed is left out of that tool's figures and ratios.
"""
import json
import statistics
import sys

PEER_LABEL = {"prebuilt": "prebuilt", "bench": "llama-bench"}


def header(pp, tg, peers):
    cols = ["model", "type", "threads", f"pp{pp} tok/s", f"tg{tg} tok/s"]
    for p in peers:
        cols += [f"{PEER_LABEL[p]} pp{pp}", f"{PEER_LABEL[p]} tg{tg}"]
    for p in peers:
        cols += [f"pp / {PEER_LABEL[p]} (range)", f"tg / {PEER_LABEL[p]} (range)"]
    cols += ["weights read/token", "read GB/s (range)", "tg / read limit (range)", "peak RSS"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))


def parse_rounds(stream):
    rounds, who, buf = [], None, []

    def flush():
        if who is None or not rounds:
            return
        text = "\n".join(buf).strip()
        if not text:
            return
        if who == "llmtk":
            j = json.loads(text)
            rounds[-1][who] = {"pp": j["pp_tokens_per_s"], "tg": j["tg_tokens_per_s"],
                               "bytes": j["weight_bytes_per_token"], "rss": j["peak_rss_bytes"]}
        else:
            r = {}
            for line in text.splitlines():
                if line.startswith("{"):
                    t = json.loads(line)
                    r[t["test"][:2]] = t["tokens_per_s"]
            if "pp" in r and "tg" in r:
                rounds[-1][who] = r

    for line in stream:
        line = line.rstrip("\n")
        if line.startswith("@ "):
            flush()
            buf = []
            fields = line[2:].split()
            if fields[0] == "round":
                kv = dict(f.split("=") for f in fields[1:])
                rounds.append({"read": float(kv["read"]), "copy": float(kv["copy"])})
                who = None
            else:
                who = fields[0]
        else:
            buf.append(line)
    flush()
    return rounds


def spread(values, fmt):
    if not values:
        return "-"
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}-{fmt(max(values))})"


def row(name, typ, threads, peers, rounds):
    ours = [r for r in rounds if "llmtk" in r]
    if not ours:
        print(f"<!-- {name} {typ} {threads} threads: llmtk-run --bench failed in every round -->")
        return
    med = lambda xs: statistics.median(xs) if xs else float("nan")
    cells = [name, typ, threads, f"{med([r['llmtk']['pp'] for r in ours]):.1f}",
             f"{med([r['llmtk']['tg'] for r in ours]):.2f}"]
    for p in peers:
        if p.startswith("-"):
            cells += ["n/a", "n/a"]
            continue
        theirs = [r[p] for r in rounds if p in r]
        cells += [f"{med([t['pp'] for t in theirs]):.1f}" if theirs else "failed",
                  f"{med([t['tg'] for t in theirs]):.2f}" if theirs else "failed"]
    ratio = lambda x: f"{x:.2f}"
    for p in peers:
        if p.startswith("-"):
            cells += ["n/a", "n/a"]
            continue
        both = [r for r in ours if p in r]
        for k in ("pp", "tg"):
            cells.append(spread([r["llmtk"][k] / r[p][k] for r in both], ratio))
    per_tok = ours[0]["llmtk"]["bytes"]
    cells.append(f"{per_tok / 1e6:.0f} MB")
    cells.append(spread([r["read"] for r in rounds], lambda x: f"{x:.1f}"))
    cells.append(spread([r["llmtk"]["tg"] / (r["read"] * 1e9 / per_tok) for r in ours], lambda x: f"{x:.0%}"))
    cells.append(f"{max(r['llmtk']['rss'] for r in ours) / 2**20:.0f} MiB")
    print("| " + " | ".join(str(c) for c in cells) + " |", flush=True)


def main(argv):
    if len(argv) >= 3 and argv[0] == "header":
        header(argv[1], argv[2], argv[3:])
    elif len(argv) >= 4 and argv[0] == "row":
        row(argv[1], argv[2], argv[3], argv[4:], parse_rounds(sys.stdin))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
