#!/usr/bin/env python3
"""Reference port of dolma's gopher_v1 and c4_v1 taggers, standalone (and
datatrove's FineWeb statistics, see fineweb_spans).

Follows allenai/dolma:
  python/dolma/taggers/gopher.py  (commit 1c696ddf90210cef821115012272d49197c99cbf)
  python/dolma/taggers/c4.py      (commit 9923b740d16633033efd38e15a8ac272b50ef1d7)
  python/dolma/core/taggers.py    (BaseTagger.tag: round(score, 5); commit 1728f4f5)
  python/dolma/core/runtime.py    (keys "<exp>__<tagger>__<type>", the tagger name as exp)
The tagger code is rewritten here line for line without dolma's package
(no msgspec, no registry); the bad-words list is naughty_words_en.txt beside
this file (LDNOOBW's English list, text/en at b81e880, CC-BY-4.0; dolma ships its own
copy as python/dolma/data/naughty_words_en.txt). Debian python3 only.

Usage: dolma_taggers.py [--taggers gopher,c4] [--text-key text] < docs.jsonl > attrs.jsonl
Writes one JSON object per input line: {"id": ..., "attributes": {...}}.
"""
import argparse
import json
import os
import sys
from collections import Counter
from statistics import median

# ---- gopher.py ----
REQUIRED_ENGLISH_WORDS = {"the", "be", "to", "of", "and", "that", "have", "with"}
SYMBOLS = {"#", "\u2026"}
BULLET_POINTS = {"*", "-"}


def robust_median(values):
    if not values:
        return 0.0
    return float(median(values))


def all_ngram_counts(words):
    return [(n, Counter(list(zip(*[words[i:] for i in range(n)])))) for n in range(2, 11)]


def gopher_spans(text):
    most_common, duplicate = [], []
    character_count_text = len(text)
    a = dict(word_count=0, median_word_length=0.0, symbol_to_word_ratio=0.0,
             fraction_of_words_with_alpha_character=0.0, required_word_count=0,
             fraction_of_lines_starting_with_bullet_point=0.0, fraction_of_lines_ending_with_ellipsis=0.0,
             fraction_of_duplicate_lines=0.0, fraction_of_characters_in_duplicate_lines=0.0)
    if character_count_text != 0:
        words = text.split()
        word_count = len(words)
        character_count = sum(len(word) for word in words)
        a["word_count"] = word_count
        a["median_word_length"] = robust_median([len(word) for word in words])
        a["symbol_to_word_ratio"] = sum(1 for word in words if any(s in word for s in SYMBOLS)) / max(word_count, 1)
        a["fraction_of_words_with_alpha_character"] = (
            sum(1 for word in words if any(c.isalpha() for c in word)) / max(word_count, 1))
        a["required_word_count"] = sum(1 for word in words if word in REQUIRED_ENGLISH_WORDS)
        for n, ngram_counts in all_ngram_counts(words):
            if not ngram_counts:
                continue
            if n in {2, 3, 4}:
                most_common_ngram, count = ngram_counts.most_common(1)[0]
                most_common.append((n, count * sum(len(w) for w in most_common_ngram) / max(character_count, 1)))
            else:
                ng_char_count = sum(count * sum(len(w) for w in ng) for ng, count in ngram_counts.items())
                duplicate.append((n, sum(count * sum(len(w) for w in ng) for ng, count in ngram_counts.items()
                                         if count > 1) / max(ng_char_count, 1)))
        lines = text.split("\n")
        line_count = len(lines)
        bullet = ellipsis = 0.0
        for line in lines:
            if any(line.startswith(s) for s in BULLET_POINTS):
                bullet += 1
            if line.endswith("\u2026"):
                ellipsis += 1
        a["fraction_of_lines_starting_with_bullet_point"] = bullet / max(line_count, 1)
        a["fraction_of_lines_ending_with_ellipsis"] = ellipsis / max(line_count, 1)
        line_counts = Counter(lines)
        a["fraction_of_duplicate_lines"] = (
            sum(count for line, count in line_counts.items() if count > 1) / max(line_count, 1))
        a["fraction_of_characters_in_duplicate_lines"] = (
            sum(len(line) * count for line, count in line_counts.items() if count > 1) / max(character_count, 1))
    spans = []
    end = character_count_text
    for n, v in most_common:
        spans.append((0, end, f"fraction_of_characters_in_most_common_{n}grams", v))
    for n, v in duplicate:
        spans.append((0, end, f"fraction_of_characters_in_duplicate_{n}grams", v))
    spans.append((0, end, "character_count", character_count_text))
    for k in ["word_count", "median_word_length", "symbol_to_word_ratio", "fraction_of_words_with_alpha_character",
              "required_word_count", "fraction_of_lines_starting_with_bullet_point",
              "fraction_of_lines_ending_with_ellipsis", "fraction_of_duplicate_lines",
              "fraction_of_characters_in_duplicate_lines"]:
        spans.append((0, end, k, a[k]))
    return spans


# ---- c4.py ----
MIN_WORDS_PER_LINE = 3
_here = os.path.dirname(os.path.abspath(__file__))


def load_bad_words(path):
    naughty_lines = open(path, encoding="utf-8").read().splitlines()
    return (set(w for w in naughty_lines if " " not in w), set(w for w in naughty_lines if " " in w))


NAUGHTY_WORDS, NAUGHTY_PHRASES = load_bad_words(os.path.join(_here, "naughty_words_en.txt"))


def c4_spans(text):
    no_punct, few_words = [], []
    naughty = javascript = lorem = curly = False
    character_count = len(text)
    lines = text.split("\n")
    line_count = len(lines)
    offset = 0
    for line_no in range(0, len(lines)):
        original_line = lines[line_no]
        end_offset = offset + len(original_line)
        if line_no < len(lines) - 1:
            end_offset += 1
        line = original_line.lower().strip()
        if not line.endswith((".", "?", "!", '"')):
            no_punct.append((offset, end_offset, "lines_with_no_ending_punctuation", 1.0))
        words = line.split()
        if len(words) < MIN_WORDS_PER_LINE:
            few_words.append((offset, end_offset, "lines_with_too_few_words", 1.0))
        if any(word in NAUGHTY_WORDS for word in words) or any(phrase in line for phrase in NAUGHTY_PHRASES):
            naughty = True
        if any(word == "javascript" for word in words):
            javascript = True
        if "lorem ipsum" in line:
            lorem = True
        if "{" in line:
            curly = True
        offset = end_offset
    spans = no_punct + few_words
    for flag, name in ((naughty, "has_naughty_word"), (javascript, "has_javascript"),
                       (lorem, "has_lorem_ipsum"), (curly, "has_curly_brace")):
        if flag:
            spans.append((0, character_count, name, 1.0))
    spans.append((0, character_count, "line_count", line_count))
    return spans


# ---- datatrove FineWebQualityFilter's three statistics ----
# huggingface/datatrove src/datatrove/pipeline/filters/fineweb_quality_filter.py
# (commit 05194d39) and gopher_repetition_filter.find_duplicates, as values
# (llmtk's fineweb_v1 attributes) rather than a keep/drop decision.
def find_duplicates(x):
    unique_x = set()
    duplicate_chars = 0
    duplicate_elements = 0
    for element in x:
        if element in unique_x:
            duplicate_chars += len(element)
            duplicate_elements += 1
        else:
            unique_x.add(element)
    return duplicate_elements, duplicate_chars


def fineweb_spans(text):
    stop_chars = (".", "'", '"', "!", "?")
    lines = text.split("\n")
    punct = sum(1 for line in lines if line.endswith(stop_chars)) / len(lines)
    short = sum(1 for line in lines if len(line) <= 30) / len(lines)
    non_empty_lines = [line for line in lines if line.strip() != ""]
    body = len(text.replace("\n", ""))
    dup = find_duplicates(non_empty_lines)[1] / body if body else 0.0
    n = len(text)
    return [(0, n, "line_punct_ratio", punct), (0, n, "short_line_ratio", short), (0, n, "char_dup_ratio", dup)]


# ---- CLD2, called through ctypes (Debian libcld2-0; no Python binding is
# packaged): DetectLanguageSummary on the UTF-8 bytes, the languages with a
# percent above 0 as cld2 attributes, as llmtk's filter/langid writes them.
_cld2 = None


def cld2_spans(text):
    global _cld2
    import ctypes
    if _cld2 is None:
        lib = ctypes.CDLL("libcld2.so.0")
        detect = lib._ZN4CLD221DetectLanguageSummaryEPKcibPNS_8LanguageEPiS4_Pb
        detect.restype = ctypes.c_int
        detect.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_bool, ctypes.POINTER(ctypes.c_int),
                           ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_bool)]
        code = lib._ZN4CLD212LanguageCodeENS_8LanguageE
        code.restype = ctypes.c_char_p
        code.argtypes = [ctypes.c_int]
        _cld2 = (detect, code)
    detect, code = _cld2
    b = text.encode("utf-8")
    langs = (ctypes.c_int * 3)()
    percents = (ctypes.c_int * 3)()
    text_bytes = ctypes.c_int()
    reliable = ctypes.c_bool()
    top = detect(b, len(b), True, langs, percents, ctypes.byref(text_bytes), ctypes.byref(reliable))
    out = [(0, len(text), code(langs[i]).decode(), percents[i] / 100) for i in range(3) if percents[i] > 0]
    return out or [(0, len(text), code(top).decode(), 0.0)]


TAGGERS = {"gopher": ("gopher_v1", gopher_spans), "c4": ("c4_v1", c4_spans), "fineweb": ("fineweb_v1", fineweb_spans),
           "cld2": ("cld2", cld2_spans)}


def tag(text, taggers):
    out = {}
    for t in taggers:
        name, fn = TAGGERS[t]
        for start, end, typ, score in fn(text):
            out.setdefault(f"{name}__{name}__{typ}", []).append([start, end, round(float(score), 5)])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--taggers", default="gopher,c4")
    ap.add_argument("--text-key", default="text")
    args = ap.parse_args()
    taggers = args.taggers.split(",")
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        d = json.loads(line)
        out.write(json.dumps({"id": d.get("id"), "attributes": tag(d[args.text_key], taggers)},
                             ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
