// Brute-force ground truth for scripts/bench/dedup-accuracy: every pair of
// documents sharing at least one shingle (an inverted index finds them all)
// gets its exact Jaccard similarity from the same normalization and
// shingling as llmtk-dedup, with full 64-bit shingle sets. Prints
// "i j jaccard" (0-based document numbers) for pairs at or above --min.
// Usage: dedup_truth_bench [--min 0.5] [--ngram 5] [--cjk-ngram 3] input.jsonl
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/base/jsonl.h"
#include "lib/dedup/shingle.h"

int main(int argc, char** argv) {
  double min_j = 0.5;
  llmtk::ShingleOptions so;
  so.seed = 42;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--min") && i + 1 < argc) {
      min_j = atof(argv[++i]);
    } else if (!strcmp(argv[i], "--ngram") && i + 1 < argc) {
      so.ngram = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--cjk-ngram") && i + 1 < argc) {
      so.cjk_ngram = atoi(argv[++i]);
    } else {
      paths.push_back(argv[i]);
    }
  }
  auto r = llmtk::DocumentReader::Open(paths, {});
  if (!r.ok()) return fprintf(stderr, "%s\n", r.status().ToString().c_str()), 1;
  std::vector<std::vector<uint64_t>> sets;
  llmtk::Document d;
  for (;;) {
    auto got = (*r)->Next(&d);
    if (!got.ok()) return fprintf(stderr, "%s\n", got.status().ToString().c_str()), 1;
    if (!*got) break;
    sets.push_back(llmtk::ShingleHashes(llmtk::NormalizeForDedup(d.text, {}), so));
  }
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> index;
  for (uint32_t i = 0; i < sets.size(); ++i)
    for (uint64_t x : sets[i]) index[x].push_back(i);
  std::vector<uint32_t> seen(sets.size(), UINT32_MAX);
  for (uint32_t i = 0; i < sets.size(); ++i) {
    for (uint64_t x : sets[i]) {
      for (uint32_t j : index[x]) {
        if (j <= i || seen[j] == i) continue;
        seen[j] = i;
        double jac = llmtk::SortedJaccard(sets[i], sets[j]);
        if (jac >= min_j) printf("%u %u %.6f\n", i, j, jac);
      }
    }
  }
  return 0;
}
