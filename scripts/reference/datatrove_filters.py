#!/usr/bin/python3
"""A faithful pure-Python run of datatrove's Gopher, C4 and FineWeb filters
(huggingface/datatrove, read at these commits):
  src/datatrove/pipeline/filters/gopher_repetition_filter.py  f4233219
  src/datatrove/pipeline/filters/gopher_quality_filter.py     5c254fa5
  src/datatrove/pipeline/filters/c4_filters.py                f4233219 (C4QualityFilter, C4BadWordsFilter)
  src/datatrove/pipeline/filters/fineweb_quality_filter.py    5c254fa5
  src/datatrove/utils/word_tokenizers.py                      08f45a69 (NLTKTokenizer("english"))
  src/datatrove/utils/text.py                                 3647626c (PUNCTUATION_SET)
rewritten here rule for rule (datatrove is not packaged in Debian), with the
word splitting datatrove uses for English: NLTK's word_tokenize, i.e. the Punkt
sentence splitter followed by NLTKWordTokenizer on each sentence, then
strip_strings. NLTK itself is Debian's python3-nltk (3.8), run unchanged.

Two stand-ins, because this machine reaches no model download:
- Punkt's English model: its abbreviation, collocation and sentence-starter
  tables (punkt_english/ beside this file, NLTK data punkt_tab/english,
  Apache-2.0); the 236 kB orthographic-context table is left empty, so after
  an abbreviation, initial or ellipsis followed by a capitalised word Punkt
  answers "unknown" where the full model may decide. Sentence splits elsewhere
  are the model's.
- Language ID: datatrove's LanguageFilter runs fastText lid.176 (not
  available offline); here CLD2 (Debian libcld2) through ctypes stands in,
  the same library call llmtk and the dolma port make, keeping a document
  when CLD2's top language is English with percent/100 > 0.65 (the filter's
  default languages and threshold).
The C4 bad-words list is scripts/reference/naughty_words_en.txt (LDNOOBW en at
b81e880; datatrove pins 25e679f, which could not be fetched).

Modes:
  pipeline  the filters in FineWeb's order (LanguageFilter, GopherRepetition,
            GopherQuality, C4Quality(filter_no_terminal_punct=False),
            C4BadWords, FineWebQuality), a document leaving at its first
            failing filter, as a datatrove pipeline runs them; C4Quality's
            kept lines are what the later filters see, as in datatrove.
  all       every filter (same settings) on every document's original text
            (the work llmtk's `tag` does: every statistic for every document).
Writes one JSON line per document: {"id", "kept", "reasons"} (reasons: the
first failing filter's reason in pipeline mode, every failing one in all mode).
Usage: datatrove_filters.py [--mode pipeline|all] [--no-langid] < docs.jsonl
"""
import argparse
import json
import os
import re
import sys
from collections import Counter, defaultdict

import numpy as np
from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- word_tokenizers.py: NLTKTokenizer("english") ----
def _punkt_english():
    params = PunktParameters()
    d = os.path.join(HERE, "punkt_english")
    with open(os.path.join(d, "abbrev_types.txt"), encoding="utf-8") as f:
        params.abbrev_types = set(f.read().splitlines())
    with open(os.path.join(d, "collocations.tab"), encoding="utf-8") as f:
        params.collocations = set(tuple(line.split("\t")) for line in f.read().splitlines())
    with open(os.path.join(d, "sent_starters.txt"), encoding="utf-8") as f:
        params.sent_starters = set(f.read().splitlines())
    params.ortho_context = defaultdict(int)
    return PunktSentenceTokenizer(params)


_PUNKT = _punkt_english()
_TREEBANK = NLTKWordTokenizer()


def strip_strings(els):
    return [el.strip() for el in els if len(el.strip()) > 0]


def word_tokenize(text):
    # nltk.tokenize.word_tokenize(text, language="english"), then strip_strings
    tokens = [token for sent in _PUNKT.tokenize(text) for token in _TREEBANK.tokenize(sent)]
    return strip_strings(tokens)


def sent_tokenize(text):
    return strip_strings(_PUNKT.tokenize(text))


# ---- text.py ----
PUNCTUATION = "!/\u2014\u201d:\uff05\uff11\u3008&(\u3001\u2501\\\u3010#%\u300c\u300d\uff0c\u3011\uff1b+^]~\u201c\u300a\u201e';\u2019{|\u2236\u00b4[=-`*\uff0e\uff08\u2013\uff1f\uff01\uff1a$\uff5e\u00ab\u3009,><\u300b)?\uff09\u3002\u2026@_.\"}\u25ba\u00bb" + "".join(
    map(chr, (x for a, b in ((0, 9), (11, 13), (13, 32), (127, 160)) for x in range(a, b))))
PUNCTUATION_SET = set(PUNCTUATION)


# ---- gopher_repetition_filter.py ----
def get_n_grams(words, n):
    return [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]


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


def find_top_duplicate(x):
    counter = Counter()
    for element in x:
        counter[element] += 1
    top_n_gram = counter.most_common(1)[0]
    return len(top_n_gram[0]) * top_n_gram[1]


def find_all_duplicate(words, n):
    n_words = len(words)
    unique = set()
    repeated_chars, idx = 0, 0
    while idx < n_words - n + 1:
        n_gram = "".join(words[idx:idx + n])
        if n_gram in unique:
            repeated_chars += len(n_gram)
            idx += n
        else:
            unique.add(n_gram)
            idx += 1
    assert repeated_chars <= len("".join(words))
    return repeated_chars


PARAGRAPH_EXP = re.compile(r"\n{2,}")
LINE_SPLITTER = re.compile("\n+")
TOP_N_GRAMS = ((2, 0.2), (3, 0.18), (4, 0.16))
DUP_N_GRAMS = ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))


def gopher_repetition(text):
    paragraphs = PARAGRAPH_EXP.split(text.strip())
    paragraphs_duplicates, char_duplicates = find_duplicates(paragraphs)
    if paragraphs_duplicates / len(paragraphs) > 0.3:
        return "dup_para_frac"
    if char_duplicates / len(text) > 0.2:
        return "dup_para_char_frac"
    lines = LINE_SPLITTER.split(text)
    line_duplicates, char_duplicates = find_duplicates(lines)
    if line_duplicates / len(lines) > 0.3:
        return "dup_line_frac"
    if char_duplicates / len(text) > 0.2:
        return "dup_line_char_frac"
    words = word_tokenize(text)
    for n, n_frac in TOP_N_GRAMS:
        n_grams = get_n_grams(words, n)
        if not n_grams:
            continue
        if find_top_duplicate(n_grams) / len(text) > n_frac:
            return f"top_{n}_gram"
    for n, n_frac in DUP_N_GRAMS:
        if find_all_duplicate(words, n) / len(text) > n_frac:
            return f"duplicated_{n}_n_grams"
    return None


# ---- gopher_quality_filter.py (defaults) ----
STOP_WORDS = {"the", "be", "to", "of", "and", "that", "have", "with"}


def gopher_quality(text):
    words = word_tokenize(text)
    n_words = len(words)
    non_symbol_words = [w for w in words if any(ch not in PUNCTUATION_SET for ch in w)]
    n_non_symbol_words_words = len(non_symbol_words)
    if n_non_symbol_words_words < 50:
        return "gopher_short_doc"
    if n_non_symbol_words_words > 100000:
        return "gopher_long_doc"
    avg_n_words = np.mean([len(w) for w in non_symbol_words])
    if avg_n_words < 3:
        return "gopher_below_avg_threshold"
    if avg_n_words > 10:
        return "gopher_above_avg_threshold"
    if text.count("#") / n_words > 0.1:
        return "gopher_too_many_hashes"
    if (text.count("...") + text.count("\u2026")) / n_words > 0.1:
        return "gopher_too_many_ellipsis"
    lines = text.splitlines()
    if sum(s.lstrip().startswith("\u2022") or s.lstrip().startswith("-") for s in lines) / len(lines) > 0.9:
        return "gopher_too_many_bullets"
    if sum(s.rstrip().endswith("...") or s.rstrip().endswith("\u2026") for s in lines) / len(lines) > 0.3:
        return "gopher_too_many_end_ellipsis"
    if sum([any((c.isalpha() for c in w)) for w in words]) / n_words < 0.8:
        return "gopher_below_alpha_threshold"
    if sum(w in STOP_WORDS for w in words) < 2:
        return "gopher_enough_stop_words"
    return None


# ---- c4_filters.py: C4QualityFilter (split_paragraph=True) ----
CITATION_REGEX = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
END_PUNCTUATION = (".", "?", "!", '"', "'")
ELLIPSIS = "..."
POLICY_SUBSTRINGS = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                     "use cookies"]


def c4_quality(text, filter_no_terminal_punct):
    """Returns (reason or None, the kept text)."""
    num_sentences = 0
    kept_lines = []
    for line in text.splitlines():
        line = line.strip()
        words = line.split()
        if any(len(word) > 1000 for word in words):
            continue
        line = CITATION_REGEX.sub("", line)
        if filter_no_terminal_punct and (not line.endswith(END_PUNCTUATION) or line.endswith(ELLIPSIS)):
            continue
        if len(words) < 3:
            continue
        line_l = line.lower()
        if "lorem ipsum" in line_l:
            return "lorem_ipsum", text
        if "javascript" in line_l:
            continue
        if "{" in line:
            return "curly_bracket", text
        if any(p in line_l for p in POLICY_SUBSTRINGS):
            continue
        num_sentences += len(sent_tokenize(line))
        kept_lines.append(line)
    if num_sentences < 5:
        return "too_few_sentences", text
    return None, "\n".join(kept_lines).strip()


# ---- c4_filters.py: C4BadWordsFilter (language "en") ----
def _badwords_regex():
    with open(os.path.join(HERE, "naughty_words_en.txt"), "rt", encoding="utf-8") as f:
        badwords = set(line.strip() for line in f)
    for allowlist in ({"sm", "\u30b0\u30ed", "\u5973\u306e\u5b50"}, {"\u6027"}):
        badwords -= allowlist
    words = [re.escape(w) for w in badwords]
    return re.compile(r"(?:\W|^)({})(?:\W|$)".format("|".join(words)))


BADWORDS = _badwords_regex()


def c4_badwords(text):
    return "document_removed_with_badwords" if BADWORDS.search(text.lower()) is not None else None


# ---- fineweb_quality_filter.py (defaults) ----
STOP_CHARS = (".", "'", '"', "!", "?")


def fineweb_quality(text):
    lines = text.split("\n")
    ratio = sum(1 for line in lines if line.endswith(STOP_CHARS)) / len(lines)
    if ratio <= 0.12:
        return "line_punct_ratio"
    ratio = sum(1 for line in lines if len(line) <= 30) / len(lines)
    if ratio >= 0.67:
        return "short_line_ratio"
    non_empty_lines = [line for line in lines if line.strip() != ""]
    ratio = find_duplicates(non_empty_lines)[1] / len(text.replace("\n", ""))
    if ratio >= 0.01:
        return "char_dup_ratio"
    words = word_tokenize(text)
    new_line = text.count("\n")
    if new_line / len(words) > 0.3:
        return "list_ratio"
    return None


# ---- language_filter.py, with CLD2 standing in for lid.176 ----
_cld2 = None


def language(text):
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
    langs, percents = (ctypes.c_int * 3)(), (ctypes.c_int * 3)()
    text_bytes, reliable = ctypes.c_int(), ctypes.c_bool()
    top = detect(b, len(b), True, langs, percents, ctypes.byref(text_bytes), ctypes.byref(reliable))
    return code(top).decode(), percents[0] / 100


def language_filter(text):
    lang, score = language(text)
    return None if lang == "en" and score > 0.65 else "language"


def run_pipeline(text, langid):
    if langid:
        r = language_filter(text)
        if r:
            return [r]
    for f in (gopher_repetition, gopher_quality):
        r = f(text)
        if r:
            return [r]
    r, text = c4_quality(text, filter_no_terminal_punct=False)
    if r:
        return [r]
    for f in (c4_badwords, fineweb_quality):
        r = f(text)
        if r:
            return [r]
    return []


def run_all(text, langid):
    out = [language_filter(text)] if langid else []
    out += [gopher_repetition(text), gopher_quality(text), c4_quality(text, False)[0], c4_badwords(text),
            fineweb_quality(text)]
    return [r for r in out if r]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("pipeline", "all"), default="pipeline")
    ap.add_argument("--no-langid", action="store_true")
    ap.add_argument("--text-key", default="text")
    args = ap.parse_args()
    run = run_pipeline if args.mode == "pipeline" else run_all
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        d = json.loads(line)
        text = d[args.text_key]
        # datatrove's readers skip empty documents before any filter sees them
        reasons = run(text, not args.no_langid) if text else ["empty"]
        out.write(json.dumps({"id": d.get("id"), "kept": not reasons, "reasons": reasons}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
