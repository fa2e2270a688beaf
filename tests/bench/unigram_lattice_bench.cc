// A/B timing of the Unigram trainer's lattice walks on a real corpus, for
// a loaded shared machine: one process builds the corpus and seed pieces
// once (as llmtk-tok train --model unigram), then times whole passes over
// every word's lattice, the variants in alternation, in thread CPU time,
// so all see the same load. Prints each variant's minimum and median.
// Usage: unigram_lattice_bench [--reps 5] text-or-jsonl...
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/tokenizer/charsmap.h"
#include "lib/tokenizer/spm_normalize.h"
#include "lib/tokenizer/train/unigram_corpus.h"
#include "lib/tokenizer/train/unigram_em.h"
#include "lib/tokenizer/train/unigram_seed.h"
#include "lib/tokenizer/train/words.h"

namespace {

double ThreadSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "%s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace llmtk;
  int reps = 5;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else {
      paths.push_back(argv[i]);
    }
  }
  auto identity = PrecompiledCharsmap::Parse("", "identity");
  if (!identity.ok()) return Fail(identity.status());
  const SpmNormalizer normalizer(std::move(*identity), SpmNormalizerOptions(), {});
  auto reader = DocumentReader::Open(paths, {});
  if (!reader.ok()) return Fail(reader.status());
  WordTable table;
  SentenceCountStats stats;
  absl::Status st = CountSentenceWords(
      [&](std::string* text) -> absl::StatusOr<bool> {
        Document doc;
        auto more = (*reader)->Next(&doc);
        if (more.ok() && *more) text->assign(doc.text);
        return more;
      },
      normalizer, 4192, 1, &table, &stats, nullptr);
  if (!st.ok()) return Fail(st);
  auto corpus = BuildUnigramCorpus(table.counts(), 0.9995);
  if (!corpus.ok()) return Fail(corpus.status());
  auto validator = PieceValidator::Make(corpus->chars, PieceRules());
  if (!validator.ok()) return Fail(validator.status());
  auto seeds = MakeSeedPieces(*corpus, *validator, 16, 1000000, 1);
  if (!seeds.ok()) return Fail(seeds.status());
  const UnigramCorpus& c = *corpus;
  const LatticeModel m(*seeds, c.symbols());
  std::printf("%zu words, %zu symbols, %zu seeds, trie %zu nodes in %zu slots\n", c.words(), c.syms.size(),
              seeds->size(), m.trie()->nodes(), m.trie()->slots());

  // Each variant sums its nodes' pieces so that no pass can be optimized away.
  std::vector<std::pair<const char*, std::function<uint64_t()>>> variants = {
      {"plain", [&] {
         std::vector<LatticeNode> nodes;
         uint64_t sum = 0;
         for (size_t w = 0; w < c.words(); ++w) {
           m.LatticePlain(c.syms.data() + c.offsets[w], c.offsets[w + 1] - c.offsets[w] - 1, &nodes);
           for (const LatticeNode& x : nodes) sum += static_cast<uint64_t>(x.piece + 1);
         }
         return sum;
       }},
      {"word", [&] {
         std::vector<LatticeNode> nodes;
         uint64_t sum = 0;
         for (size_t w = 0; w < c.words(); ++w) {
           m.Lattice(c.syms.data() + c.offsets[w], c.offsets[w + 1] - c.offsets[w] - 1, &nodes);
           for (const LatticeNode& x : nodes) sum += static_cast<uint64_t>(x.piece + 1);
         }
         return sum;
       }},
      {"batch", [&] {
         std::vector<LatticeNode> nodes;
         std::vector<uint32_t> ends;
         uint64_t sum = 0;
         for (size_t w0 = 0, w1; w0 < c.words(); w0 = w1) {
           w1 = w0 + 1;
           while (w1 < c.words() && c.offsets[w1 + 1] - c.offsets[w0] <= 256) ++w1;
           m.Lattices(c.syms.data() + c.offsets[w0], c.offsets[w1] - c.offsets[w0], &nodes, &ends);
           for (const LatticeNode& x : nodes) sum += static_cast<uint64_t>(x.piece + 1);
         }
         return sum;
       }},
  };
  std::vector<std::vector<double>> times(variants.size());
  std::vector<uint64_t> sums(variants.size());
  for (int r = 0; r < reps; ++r) {
    for (size_t v = 0; v < variants.size(); ++v) {
      const double t0 = ThreadSeconds();
      sums[v] = variants[v].second();
      times[v].push_back(ThreadSeconds() - t0);
    }
  }
  for (size_t v = 0; v < variants.size(); ++v) {
    std::sort(times[v].begin(), times[v].end());
    std::printf("%-6s min %.3f s  median %.3f s  (checksum %llu)\n", variants[v].first, times[v].front(),
                times[v][times[v].size() / 2], static_cast<unsigned long long>(sums[v]));
  }
  return 0;
}
