#include "lib/dedup/index.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"

namespace llmtk {

void SignText(std::string_view text, const SignOptions& opts, const MinHasher& hasher, DocFeatures* out) {
  std::string norm = NormalizeForDedup(text, opts.normalize);
  out->exact = ExactHash(norm);
  ShingleOptions so = opts.shingle;
  so.seed = opts.seed;
  std::vector<uint64_t> sh = ShingleHashes(norm, so);
  out->shingles = static_cast<uint32_t>(sh.size());
  uint64_t sig[1024];
  std::vector<uint64_t> big;
  uint64_t* s = sig;
  const int m = hasher.num_perm();
  if (m > 1024) {
    big.resize(m);
    s = big.data();
  }
  hasher.Sign(sh.data(), sh.size(), s);
  out->band.resize(opts.lsh.bands);
  BandKeys(s, opts.lsh, out->band.data());
  if (opts.keep_sig16) {
    out->sig16.resize(m);
    for (int i = 0; i < m; ++i) out->sig16[i] = static_cast<uint16_t>(s[i]);
  } else {
    out->sig16.clear();
  }
}

void DocTable::Append(const std::vector<Hash128>& exacts, const std::vector<uint64_t>& bands,
                      const std::vector<uint16_t>& sig16s) {
  exact.insert(exact.end(), exacts.begin(), exacts.end());
  band.insert(band.end(), bands.begin(), bands.end());
  if (has_sig16) sig16.insert(sig16.end(), sig16s.begin(), sig16s.end());
}

std::vector<uint32_t> ExactRepresentatives(const std::vector<Hash128>& exact, ThreadPool* pool) {
  struct H {
    size_t operator()(const Hash128& h) const { return static_cast<size_t>(h.lo); }
  };
  std::vector<uint32_t> rep(exact.size());
  // Keys split into groups by their high bits (the map hashes the low ones);
  // each group is scanned in document order, so its firsts do not depend on
  // the number of groups.
  const size_t parts = pool ? static_cast<size_t>(pool->size()) : 1;
  auto group = [&](size_t part) {
    absl::flat_hash_map<Hash128, uint32_t, H> first;
    first.reserve(exact.size() / parts + 1);
    for (uint32_t d = 0; d < exact.size(); ++d)
      if (parts == 1 || exact[d].hi % parts == part) rep[d] = first.try_emplace(exact[d], d).first->second;
  };
  if (parts == 1) {
    group(0);
  } else {
    pool->ParallelFor(parts, group);
  }
  return rep;
}

void BandPairs(std::vector<std::pair<uint64_t, uint32_t>>* entries, std::vector<uint64_t>* pairs) {
  auto& e = *entries;
  std::sort(e.begin(), e.end());
  size_t i = 0;
  while (i < e.size()) {
    size_t j = i + 1;
    while (j < e.size() && e[j].first == e[i].first) ++j;
    const size_t m = j - i;
    auto pair = [&](size_t x, size_t y) {
      pairs->push_back(static_cast<uint64_t>(e[x].second) << 32 | e[y].second);
    };
    if (m <= 8) {
      for (size_t x = i; x < j; ++x)
        for (size_t y = x + 1; y < j; ++y) pair(x, y);
    } else {
      for (size_t y = i + 1; y < j; ++y) {
        pair(i, y);
        if (y - 1 > i) pair(y - 1, y);
      }
    }
    i = j;
  }
}

std::vector<uint64_t> CandidatePairs(const DocTable& t, const std::vector<uint32_t>& exact_rep, ThreadPool* pool) {
  std::vector<std::vector<uint64_t>> per_band(t.bands);
  pool->ParallelFor(t.bands, [&](size_t b) {
    std::vector<std::pair<uint64_t, uint32_t>> entries;
    entries.reserve(t.size());
    for (uint32_t d = 0; d < t.size(); ++d)
      if (exact_rep[d] == d) entries.emplace_back(t.band[static_cast<size_t>(d) * t.bands + b], d);
    BandPairs(&entries, &per_band[b]);
    std::sort(per_band[b].begin(), per_band[b].end());
    per_band[b].erase(std::unique(per_band[b].begin(), per_band[b].end()), per_band[b].end());
  });
  std::vector<uint64_t> all;
  for (auto& v : per_band) {
    all.insert(all.end(), v.begin(), v.end());
    std::vector<uint64_t>().swap(v);
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

std::vector<uint32_t> ChooseSurvivors(const std::vector<uint32_t>& exact_rep,
                                      const std::vector<uint64_t>& accepted, KeepPolicy keep,
                                      const std::vector<double>& score) {
  const size_t n = exact_rep.size();
  UnionFind uf(n);
  for (uint32_t d = 0; d < n; ++d) uf.Union(exact_rep[d], d);
  for (uint64_t p : accepted) uf.Union(PairFirst(p), PairSecond(p));
  // best[root]: the survivor so far; documents come in index order, so the
  // first of equal scores wins.
  std::vector<uint32_t> best(n);
  for (uint32_t d = 0; d < n; ++d) {
    uint32_t r = uf.Find(d);
    if (r == d) {
      best[r] = d;
    } else if (keep != KeepPolicy::kFirst && score[d] > score[best[r]]) {
      best[r] = d;
    }
  }
  std::vector<uint32_t> survivor(n);
  for (uint32_t d = 0; d < n; ++d) survivor[d] = best[uf.Find(d)];
  return survivor;
}

}  // namespace llmtk
