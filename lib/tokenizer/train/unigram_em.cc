#include "lib/tokenizer/train/unigram_em.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <numbers>
#include <string>

#include "lib/base/huge_pages.h"
#include "lib/base/parallel.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kFixedScale = 16777216;  // 2^24: expected counts in fixed point
constexpr double kMinExpected = 0.5;      // spm's kExpectedFrequencyThreshold

double LogSumExp(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double hi = std::max(a, b), lo = std::min(a, b);
  if (hi > lo + 50) return hi;  // as spm: the smaller term vanishes
  return hi + std::log1p(std::exp(lo - hi));
}

// spm's Digamma (an asymptotic series after shifting x above 7).
double Digamma(double x) {
  double result = 0;
  for (; x < 7; ++x) result -= 1 / x;
  x -= 0.5;
  const double xx = 1 / x, xx2 = xx * xx, xx4 = xx2 * xx2;
  result += std::log(x) + (1.0 / 24) * xx2 - (7.0 / 960) * xx4 + (31.0 / 8064) * xx4 * xx2 -
            (127.0 / 30720) * xx4 * xx4;
  return result;
}

// x (positive, normal) as m x 2^e, m in [1, 2): returns m, adds e to *exponent.
double SplitExponent(double x, int64_t* exponent) {
  const uint64_t bits = std::bit_cast<uint64_t>(x);
  *exponent += static_cast<int64_t>(bits >> 52) - 1023;
  return std::bit_cast<double>((bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);
}

}  // namespace

double NodePosteriorsLog(std::span<const LatticeNode> nodes, size_t n, std::vector<double>* post) {
  std::vector<double> alpha(n + 1, kNegInf), beta(n + 1, kNegInf);
  alpha[0] = 0;
  beta[n] = 0;
  for (const LatticeNode& x : nodes) {
    alpha[x.start + x.length] = LogSumExp(alpha[x.start + x.length], alpha[x.start] + x.score);
  }
  for (size_t j = nodes.size(); j-- > 0;) {
    const LatticeNode& x = nodes[j];
    beta[x.start] = LogSumExp(beta[x.start], x.score + beta[x.start + x.length]);
  }
  const double z = alpha[n];
  post->resize(nodes.size());
  for (size_t j = 0; j < nodes.size(); ++j) {
    const LatticeNode& x = nodes[j];
    (*post)[j] = std::exp(alpha[x.start] + x.score + beta[x.start + x.length] - z);
  }
  return z;
}

double NodePosteriors(std::span<const LatticeNode> nodes, size_t n, std::vector<double>* post) {
  // inv[k] = 1 / c_k, where c_k = A[k] / A[k-1] (A: forward sums), so that
  // a node j->k's forward term is p x prod(inv[j+1..k-1]) and its posterior
  // p x beta^[k] x prod(inv[j+1..k]), with beta^[k] = A[k] B[k] / Z <= 1.
  thread_local std::vector<double> inv, beta;
  thread_local std::vector<uint32_t> head, link;
  // The nodes ending at each position, a list by start descending (nodes
  // come by start ascending): head[k], then link[] onwards.
  constexpr uint32_t kNil = 0xFFFFFFFF;
  inv.assign(n + 1, 1);
  head.assign(n + 1, kNil);
  link.resize(nodes.size());
  for (size_t j = 0; j < nodes.size(); ++j) {
    const uint32_t end = nodes[j].start + nodes[j].length;
    link[j] = head[end];
    head[end] = static_cast<uint32_t>(j);
  }
  // Z = the product of the c_k, kept as mantissa x 2^exponent: one log per
  // word instead of one per position.
  double mantissa = 1;
  int64_t exponent = 0;
  for (size_t k = 1; k <= n; ++k) {
    // Shortest first.
    double c = 0, f = 1;
    uint32_t len = 1;
    for (uint32_t q = head[k]; q != kNil; q = link[q]) {
      const LatticeNode& x = nodes[q];
      while (len < x.length) f *= inv[k - len++];
      c += x.prob * f;
    }
    if (!(c > 1e-280) || !(c < 1e280)) return NodePosteriorsLog(nodes, n, post);
    inv[k] = 1 / c;
    mantissa = SplitExponent(mantissa * c, &exponent);
  }
  const double log_z = std::log(mantissa) + static_cast<double>(exponent) * std::numbers::ln2;
  beta.assign(n + 1, 0);
  beta[n] = 1;
  post->resize(nodes.size());
  size_t j = nodes.size();
  for (size_t i = n; i-- > 0;) {
    double b = 0, g = 1;
    uint32_t len = 0;
    for (; j > 0 && nodes[j - 1].start == i; --j) {}
    // nodes[j..) now starts at i (or later ones were consumed): walk this start's nodes by length.
    for (size_t q = j; q < nodes.size() && nodes[q].start == i; ++q) {
      const LatticeNode& x = nodes[q];
      while (len < x.length) g *= inv[i + ++len];
      const double term = x.prob * beta[i + x.length] * g;
      (*post)[q] = term;
      b += term;
    }
    if (!std::isfinite(b)) return NodePosteriorsLog(nodes, n, post);
    beta[i] = b;
  }
  return log_z;
}

namespace {

// Words cut into ranges of about equal symbol counts: a fixed split of the
// corpus, whatever the thread count.
std::vector<size_t> WordChunks(const UnigramCorpus& c) {
  const size_t target = std::max<size_t>(4096, c.syms.size() / 512);
  std::vector<size_t> cuts = {0};
  size_t acc = 0;
  for (size_t w = 0; w < c.words(); ++w) {
    acc += c.offsets[w + 1] - c.offsets[w];
    if (acc >= target) {
      cuts.push_back(w + 1);
      acc = 0;
    }
  }
  if (cuts.back() != c.words()) cuts.push_back(c.words());
  return cuts;
}

// Per-worker integer accumulators, handed out to whichever worker asks:
// integer sums do not depend on which worker added what.
class Accumulators {
 public:
  explicit Accumulators(size_t size) : size_(size) {}
  // Megabytes added to at random (a node's piece each): on huge pages.
  using Sums = std::vector<int64_t, HugePageAllocator<int64_t>>;
  Sums* Take() {
    std::lock_guard<std::mutex> l(mu_);
    if (free_.empty()) {
      all_.push_back(std::make_unique<Sums>(size_, 0));
      return all_.back().get();
    }
    auto* v = free_.back();
    free_.pop_back();
    return v;
  }
  void Give(Sums* v) {
    std::lock_guard<std::mutex> l(mu_);
    free_.push_back(v);
  }
  std::vector<int64_t> Sum() const {
    std::vector<int64_t> s(size_, 0);
    for (const auto& v : all_)
      for (size_t i = 0; i < size_; ++i) s[i] += (*v)[i];
    return s;
  }

 private:
  size_t size_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Sums>> all_;
  std::vector<Sums*> free_;
};

// Words [w0, end) as one batch for LatticeModel::Lattices: about
// kBatchSymbols symbols (at least one word), lattices small enough to stay in cache.
size_t BatchEnd(const UnigramCorpus& c, size_t w0, size_t end) {
  constexpr size_t kBatchSymbols = 256;
  size_t w1 = w0 + 1;
  while (w1 < end && c.offsets[w1 + 1] - c.offsets[w0] <= kBatchSymbols) ++w1;
  return w1;
}

// f(w, best path of word w) for the words [begin, end), in order, their
// lattices built a batch at a time.
template <typename F>
void ForEachBestPath(const UnigramCorpus& c, const LatticeModel& m, size_t begin, size_t end, F&& f) {
  std::vector<LatticeNode> all, path;
  std::vector<uint32_t> ends;
  for (size_t w0 = begin, w1; w0 < end; w0 = w1) {
    w1 = BatchEnd(c, w0, end);
    m.Lattices(c.syms.data() + c.offsets[w0], c.offsets[w1] - c.offsets[w0], &all, &ends);
    for (size_t w = w0, first = 0; w < w1; first = ends[w - w0], ++w) {
      BestPath(std::span<const LatticeNode>(all.data() + first, ends[w - w0] - first),
               c.offsets[w + 1] - c.offsets[w] - 1, false, &path);
      f(w, path);
    }
  }
}

// E step: expected occurrences of each piece (fixed point) and the
// objective (negative log likelihood per word occurrence).
std::vector<int64_t> EStep(const UnigramCorpus& c, const LatticeModel& m, ThreadPool& pool, double* objective) {
  const std::vector<size_t> cuts = WordChunks(c);
  Accumulators acc(m.pieces().size());
  std::vector<double> obj(cuts.size(), 0);
  pool.ParallelFor(cuts.size() - 1, [&](size_t k) {
    Accumulators::Sums* e = acc.Take();
    std::vector<LatticeNode> all;
    std::vector<uint32_t> ends;
    std::vector<double> post;
    for (size_t w0 = cuts[k], w1; w0 < cuts[k + 1]; w0 = w1) {
      w1 = BatchEnd(c, w0, cuts[k + 1]);
      m.Lattices(c.syms.data() + c.offsets[w0], c.offsets[w1] - c.offsets[w0], &all, &ends);
      for (size_t w = w0, first = 0; w < w1; first = ends[w - w0], ++w) {
        const std::span<const LatticeNode> nodes(all.data() + first, ends[w - w0] - first);
        const double z = NodePosteriors(nodes, c.offsets[w + 1] - c.offsets[w] - 1, &post);
        const double count = static_cast<double>(c.counts[w]);
        for (size_t j = 0; j < nodes.size(); ++j) {
          if (nodes[j].piece < 0) continue;
          (*e)[nodes[j].piece] += static_cast<int64_t>(count * post[j] * kFixedScale + 0.5);
        }
        obj[k] -= count * z;
      }
    }
    acc.Give(e);
  });
  uint64_t total = 0;
  for (uint64_t n : c.counts) total += n;
  *objective = 0;
  for (double o : obj) *objective += o;
  *objective /= std::max<uint64_t>(1, total);
  return acc.Sum();
}

// M step: pieces expected at least 0.5 times, scored by the digamma of
// their expected count (spm's sparse-prior EM).
PieceList MStep(const PieceList& pieces, const std::vector<int64_t>& expected) {
  PieceList out;
  double sum = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const double e = static_cast<double>(expected[i]) / kFixedScale;
    if (e < kMinExpected) continue;
    out.Add(pieces.begin(i), pieces.length(i), e);
    sum += e;
  }
  const double logsum = Digamma(sum);
  for (double& s : out.scores) s = Digamma(s) - logsum;
  return out;
}

// Prune: keeps the pieces whose removal would cost the most likelihood,
// shrinking_factor of them (at least `desired`), as spm's PruneSentencePieces.
PieceList Prune(const UnigramCorpus& c, const LatticeModel& m, size_t desired, double shrinking, ThreadPool& pool) {
  const PieceList& pieces = m.pieces();
  const size_t np = pieces.size();
  // A piece whose best segmentation is not itself can go; one that is
  // would be replaced by its second-best segmentation (its alternatives).
  std::vector<uint8_t> always_keep(np, 1);
  std::vector<std::vector<int32_t>> alternatives(np);
  const size_t block = 4096;
  pool.ParallelFor((np + block - 1) / block, [&](size_t b) {
    std::vector<LatticeNode> scratch, path;
    for (size_t i = b * block; i < std::min(np, (b + 1) * block); ++i) {
      const size_t n = pieces.length(i);
      m.Viterbi(pieces.begin(i), n, false, &scratch, &path);
      if (path.size() >= 2) {
        always_keep[i] = 0;
      } else if (n >= 2) {
        m.Viterbi(pieces.begin(i), n, true, &scratch, &path);
        for (const LatticeNode& x : path) alternatives[i].push_back(x.piece);
      }
    }
  });
  // Viterbi frequencies of each piece over the corpus.
  const std::vector<size_t> cuts = WordChunks(c);
  Accumulators acc(np);
  pool.ParallelFor(cuts.size() - 1, [&](size_t k) {
    Accumulators::Sums* f = acc.Take();
    ForEachBestPath(c, m, cuts[k], cuts[k + 1], [&](size_t w, const std::vector<LatticeNode>& path) {
      for (const LatticeNode& x : path)
        if (x.piece >= 0) (*f)[x.piece] += static_cast<int64_t>(c.counts[w]);
    });
    acc.Give(f);
  });
  const std::vector<int64_t> freq = acc.Sum();
  double vsum = 0, sum = 0;
  for (uint64_t n : c.counts) vsum += static_cast<double>(n);
  for (int64_t f : freq) sum += static_cast<double>(f);
  const double logsum = std::log(sum);

  PieceList out;
  std::vector<std::pair<size_t, double>> candidates;
  for (size_t i = 0; i < np; ++i) {
    if (freq[i] == 0 || !always_keep[i]) continue;
    if (alternatives[i].empty()) {
      out.Add(pieces.begin(i), pieces.length(i), pieces.scores[i]);
      continue;
    }
    const double fi = static_cast<double>(freq[i]);
    const double share = fi / vsum;  // spm's F: the piece's occurrences per sentence
    const double logprob_sp = std::log(fi) - logsum;
    // SentencePiece 0.1.97 (the version checked against) spreads the
    // piece's count over all pieces here, not over its alternatives (fixed
    // in 0.1.99); kept, so that both make the same choices.
    const double logsum_alt = std::log(sum + fi * static_cast<double>(np - 1));
    double logprob_alt = 0;
    for (int32_t a : alternatives[i]) {
      if (a < 0) continue;  // an unknown node: no piece's count grows
      logprob_alt += std::log(static_cast<double>(freq[a]) + fi) - logsum_alt;
    }
    candidates.emplace_back(i, share * (logprob_sp - logprob_alt));
  }
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  const size_t target = std::max(desired, static_cast<size_t>(shrinking * static_cast<double>(np)));
  for (const auto& [i, loss] : candidates) {
    if (out.size() >= target) break;
    out.Add(pieces.begin(i), pieces.length(i), pieces.scores[i]);
  }
  return out;
}

std::string Utf8(const UnigramCorpus& c, const uint32_t* s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) AppendUtf8(&out, c.chars[s[i]]);
  return out;
}

// The final pieces: every kept character (those EM dropped scored just
// above the lowest score, the most frequent lowest), then the best-scoring
// pieces up to `size`; by descending score, ties by UTF-8.
PieceList Finalize(const UnigramCorpus& c, const PieceList& pieces, size_t size) {
  struct Entry {
    std::string text;
    std::vector<uint32_t> syms;
    double score;
  };
  std::vector<Entry> entries;
  std::vector<int64_t> single(c.symbols(), -1);
  double min_score = std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < pieces.size(); ++i) {
    min_score = std::min(min_score, pieces.scores[i]);
    if (pieces.length(i) == 1) single[*pieces.begin(i)] = static_cast<int64_t>(i);
  }
  std::vector<uint8_t> taken(pieces.size(), 0);
  double penalty = 0;
  for (uint32_t s = 2; s < c.symbols(); ++s) {
    double score;
    if (single[s] >= 0) {
      score = pieces.scores[single[s]];
      taken[single[s]] = 1;
    } else {
      score = min_score + penalty;
      penalty += 0.0001;
    }
    entries.push_back({Utf8(c, &s, 1), {s}, score});
  }
  std::vector<Entry> rest;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (taken[i]) continue;
    rest.push_back({Utf8(c, pieces.begin(i), pieces.length(i)),
                    std::vector<uint32_t>(pieces.begin(i), pieces.begin(i) + pieces.length(i)), pieces.scores[i]});
  }
  auto by_score = [](const Entry& a, const Entry& b) {
    return a.score != b.score ? a.score > b.score : a.text < b.text;
  };
  std::sort(rest.begin(), rest.end(), by_score);
  for (Entry& e : rest) {
    if (entries.size() >= size) break;
    entries.push_back(std::move(e));
  }
  std::sort(entries.begin(), entries.end(), by_score);
  PieceList out;
  for (const Entry& e : entries) out.Add(e.syms.data(), e.syms.size(), e.score);
  return out;
}

}  // namespace

LatticeModel::LatticeModel(PieceList pieces, size_t symbols) : LatticeModel(std::move(pieces), symbols, nullptr) {}

LatticeModel::LatticeModel(PieceList pieces, size_t symbols, std::shared_ptr<const PieceTrie> trie)
    : pieces_(std::move(pieces)), trie_(std::move(trie)) {
  if (!trie_ || !trie_->Mark(pieces_, &piece_of_)) {
    trie_ = std::make_shared<const PieceTrie>(pieces_, symbols);
    trie_->Mark(pieces_, &piece_of_);
  }
  min_score_ = std::numeric_limits<double>::infinity();
  for (double sc : pieces_.scores) min_score_ = std::min(min_score_, sc);
  if (pieces_.size() == 0) min_score_ = 0;
  unk_ = min_score_ - kUnkPenalty;
  unk_prob_ = std::exp(unk_);
  score_prob_.resize(pieces_.size());
  for (size_t i = 0; i < pieces_.size(); ++i) score_prob_[i] = {pieces_.scores[i], std::exp(pieces_.scores[i])};
}

PieceList TrainUnigramPieces(const UnigramCorpus& corpus, PieceList seeds, const EmOptions& o, int* rounds) {
  ThreadPool pool(o.threads);
  const size_t desired = static_cast<size_t>(o.vocab_size * 1.1);
  PieceList cur = std::move(seeds);
  // One trie for several rounds (pieces are only ever dropped), rebuilt
  // when it holds over 4x the pieces left: a smaller trie is walked faster.
  std::shared_ptr<const PieceTrie> trie;
  auto make_model = [&](PieceList p) {
    if (!trie || p.size() * 4 < trie->pieces()) {
      trie.reset();
      trie = std::make_shared<const PieceTrie>(p, corpus.symbols());
    }
    return LatticeModel(std::move(p), corpus.symbols(), trie);
  };
  *rounds = 0;
  while (true) {
    double objective = 0;
    for (int it = 0; it < o.num_sub_iterations; ++it) {
      LatticeModel model = make_model(std::move(cur));
      const std::vector<int64_t> expected = EStep(corpus, model, pool, &objective);
      cur = MStep(model.pieces(), expected);
    }
    if (o.on_round) o.on_round(*rounds, cur.size(), objective);
    if (cur.size() <= desired) break;
    const size_t before = cur.size();
    LatticeModel model = make_model(std::move(cur));
    cur = Prune(corpus, model, desired, o.shrinking_factor, pool);
    ++*rounds;
    if (cur.size() >= before) break;  // nothing left to prune (only unsplittable pieces)
  }
  return Finalize(corpus, cur, static_cast<size_t>(o.final_pieces));
}

uint64_t CountViterbiTokens(const UnigramCorpus& c, const PieceList& pieces, int threads) {
  LatticeModel m(pieces, c.symbols());
  ThreadPool pool(threads);
  const std::vector<size_t> cuts = WordChunks(c);
  std::vector<uint64_t> tokens(cuts.size(), 0);
  pool.ParallelFor(cuts.size() - 1, [&](size_t k) {
    ForEachBestPath(c, m, cuts[k], cuts[k + 1], [&](size_t w, const std::vector<LatticeNode>& path) {
      tokens[k] += c.counts[w] * path.size();
    });
  });
  uint64_t total = 0;
  for (uint64_t t : tokens) total += t;
  return total;
}

}  // namespace llmtk
