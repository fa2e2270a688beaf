#!/usr/bin/env python3
"""CLD2's top language against the corpus's `source` labels, and against the
labels corrected where the text itself contradicts its source.

Input: `llmtk-filter tag --taggers cld2` output of the held-out corpus.
Documents over 200 characters of the labelled sources (en -> en; zh_modern,
zh_poetry, zh_novels -> zh). Two checks that do not use CLD2 find mislabeled
documents: a `zh` document less than a tenth of whose letters are Han
characters (the English passages, config files and logs of the Debian
Handbook's Chinese translation) is English when it has English function
words, else it has no natural language to recover and is left out; an `en`
document with more Dutch than English function words is Dutch (Dutch Project
Gutenberg text). Prints recovery per source as labelled, then with those
labels corrected, with examples.
"""
import collections
import json
import sys

EXPECT = {"en": "en", "zh_modern": "zh", "zh_poetry": "zh", "zh_novels": "zh"}
EN_WORDS = {"the", "be", "to", "of", "and", "that", "have", "with", "is", "was", "it", "he", "his", "i"}
NL_WORDS = {"de", "het", "een", "en", "van", "ik", "je", "niet", "dat", "is", "was", "hij", "zijn", "op", "te", "met"}


def is_han(ch):
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FFFF or 0xF900 <= o <= 0xFAFF


def corrected(source, text):
    label = EXPECT[source]
    if label == "zh":
        letters = [ch for ch in text if ch.isalpha()]
        if 10 * sum(is_han(ch) for ch in letters) < len(letters):
            return "en" if any(w in EN_WORDS for w in text.lower().split()) else None
    if label == "en":
        words = text.lower().split()
        if sum(w in NL_WORDS for w in words) > sum(w in EN_WORDS for w in words):
            return "nl"
    return label


def main():
    tot, ok, tot_c, ok_c = (collections.Counter() for _ in range(4))
    relabeled = collections.Counter()
    examples = []
    for line in open(sys.argv[1], encoding="utf-8"):
        d = json.loads(line)
        src, text = d.get("source"), d["text"]
        if src not in EXPECT or len(text) <= 200:
            continue
        top = next((k.split("__")[-1] for k in d["attributes"]), "un").split("-")[0]
        tot[src] += 1
        ok[src] += top == EXPECT[src]
        label = corrected(src, text)
        if label is not None:
            tot_c[src] += 1
            ok_c[src] += top == label
        if label != EXPECT[src]:
            relabeled[(src, label)] += 1
            if sum(1 for e in examples if e[1:3] == (src, label)) < 2:
                examples.append((d.get("id"), src, label, top, text[:70].replace("\n", " ")))
    for name, t, o in (("as labelled", tot, ok), ("labels corrected", tot_c, ok_c)):
        print(f"  {name}: " + "; ".join(f"{s} {o[s]}/{t[s]} = {100 * o[s] / max(t[s], 1):.2f}%" for s in EXPECT)
              + f"; all {sum(o.values())}/{sum(t.values())} = {100 * sum(o.values()) / sum(t.values()):.2f}%")
    print("  relabeled by the text's own evidence:",
          ", ".join(f"{s} -> {l or 'no language (left out)'}: {n}" for (s, l), n in sorted(relabeled.items(), key=str)))
    for e in examples:
        print("  e.g. %s (%s, text says %s, CLD2 %s): %s" % e)


if __name__ == "__main__":
    main()
