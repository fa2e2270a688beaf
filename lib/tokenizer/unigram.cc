#include "lib/tokenizer/unigram.h"

#include <algorithm>
#include <cfloat>
#include <limits>
#include <span>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/word_cache.h"

namespace llmtk {

absl::StatusOr<std::unique_ptr<UnigramModel>> UnigramModel::Build(std::vector<UnigramPiece> pieces,
                                                                  const UnigramOptions& options,
                                                                  std::string_view source) {
  std::unique_ptr<UnigramModel> m(new UnigramModel());
  m->options_ = options;
  m->cache_id_ = WordCache::NewModelId();
  m->byte_tokens_.fill(-1);
  if (options.unk_id && *options.unk_id >= pieces.size()) {
    return absl::DataLossError(absl::StrCat(ToAbsl(source), ": unk id ", *options.unk_id,
                                            " is outside the vocabulary of ", pieces.size()));
  }
  m->node_piece_.push_back(-1);
  float spm_min = FLT_MAX, spm_max = FLT_MIN;
  double hf_min = std::numeric_limits<double>::infinity();
  for (size_t id = 0; id < pieces.size(); ++id) {
    const UnigramPiece& p = pieces[id];
    if (options.sentencepiece) {
      m->ids_.try_emplace(p.text, static_cast<uint32_t>(id));
    } else {
      m->ids_[p.text] = static_cast<uint32_t>(id);  // HF's token_to_ids: the last entry wins
    }
    hf_min = std::min(hf_min, p.score);
    if (p.kind == UnigramPiece::Kind::kNormal) {
      spm_min = std::min(spm_min, static_cast<float>(p.score));
      spm_max = std::max(spm_max, static_cast<float>(p.score));
    }
    if (p.kind == UnigramPiece::Kind::kNotInLattice || p.text.empty()) continue;
    uint32_t node = 0;
    for (unsigned char c : p.text) {
      auto [it, added] = m->edges_.try_emplace((static_cast<uint64_t>(node) << 8) | c,
                                               static_cast<uint32_t>(m->node_piece_.size()));
      if (added) m->node_piece_.push_back(-1);
      node = it->second;
    }
    if (m->node_piece_[node] >= 0) {
      // SentencePiece refuses duplicates; HF's vocabulary map keeps the last id, its trie the piece once.
      if (options.sentencepiece) {
        return absl::DataLossError(absl::StrCat(ToAbsl(source), ": piece ", id, " \"", p.text,
                                                "\" is already defined (piece ", m->node_piece_[node], ")"));
      }
      continue;
    }
    m->node_piece_[node] = static_cast<int64_t>(id);
  }
  if (options.byte_fallback) {
    for (int b = 0; b < 256; ++b) {
      auto it = m->ids_.find(absl::StrFormat("<0x%02X>", b));
      if (it != m->ids_.end()) m->byte_tokens_[b] = it->second;
    }
  }
  // HF looks each chosen piece up by its text: the last entry of that
  // text, which differs from the trie's piece only for duplicates.
  m->canonical_.resize(pieces.size());
  for (size_t id = 0; id < pieces.size(); ++id) m->canonical_[id] = m->ids_.at(pieces[id].text);
  m->BuildTrieArrays();
  m->piece_scores_.resize(pieces.size());
  for (size_t id = 0; id < pieces.size(); ++id) m->piece_scores_[id] = {pieces[id].score, pieces[id].kind};
  m->spm_max_score_ = spm_max;
  m->min_score_ = options.sentencepiece ? static_cast<double>(spm_min) : hf_min;
  m->pieces_ = std::move(pieces);
  return m;
}

std::optional<uint32_t> UnigramModel::TokenToId(std::string_view token) const {
  auto it = ids_.find(ToAbsl(token));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

void UnigramModel::BuildTrieArrays() {
  constexpr size_t kDenseFrom = 24;  // children; fewer are scanned
  const size_t n = node_piece_.size();
  // Each node's (byte, child) edges, grouped by node (counting sort).
  std::vector<uint32_t> first(n + 1, 0);
  for (const auto& kv : edges_) ++first[(kv.first >> 8) + 1];
  for (size_t i = 0; i < n; ++i) first[i + 1] += first[i];
  std::vector<std::pair<uint8_t, uint32_t>> edges(edges_.size());
  {
    std::vector<uint32_t> fill(first.begin(), first.end() - 1);
    for (const auto& [key, child] : edges_) edges[fill[key >> 8]++] = {static_cast<uint8_t>(key & 0xFF), child};
  }
  auto kids = [&](size_t i) {
    return std::span<std::pair<uint8_t, uint32_t>>(edges.data() + first[i], first[i + 1] - first[i]);
  };
  nodes_.assign(n, TrieNode{});
  labels_.clear();
  targets_.clear();
  dense_.clear();
  for (size_t i = 0; i < n; ++i) {
    TrieNode& node = nodes_[i];
    node.piece = static_cast<int32_t>(node_piece_[i]);
    const auto k = kids(i);
    std::sort(k.begin(), k.end());
    if (k.size() >= kDenseFrom && dense_.size() / 256 < kSparse) {
      node.dense = static_cast<uint16_t>(dense_.size() / 256);
      dense_.resize(dense_.size() + 256, 0);
      for (auto [c, child] : k) dense_[size_t{node.dense} * 256 + c] = child;
      continue;
    }
    node.begin = static_cast<uint32_t>(labels_.size());
    node.count = static_cast<uint16_t>(k.size());
    for (auto [c, child] : k) {
      labels_.push_back(c);
      targets_.push_back(child);
    }
  }
}

template <typename Fn>
void UnigramModel::Prefixes(std::string_view s, Fn fn) const {
  const TrieNode* node = nodes_.data();
  for (size_t i = 0; i < s.size(); ++i) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    uint32_t child = 0;
    if (node->dense != kSparse) {
      child = dense_[size_t{node->dense} * 256 + c];
    } else {
      const uint8_t* l = labels_.data() + node->begin;
      for (uint32_t k = 0; k < node->count; ++k) {
        if (l[k] == c) {
          child = targets_[node->begin + k];
          break;
        }
      }
    }
    if (child == 0) return;
    node = &nodes_[child];
    if (node->piece >= 0) fn(i + 1, static_cast<uint32_t>(node->piece));
  }
}

std::vector<std::pair<size_t, uint32_t>> UnigramModel::PrefixMatches(std::string_view s, bool reference) const {
  std::vector<std::pair<size_t, uint32_t>> out;
  auto add = [&](size_t len, uint32_t id) { out.emplace_back(len, id); };
  if (reference) {
    PrefixesReference(s, add);
  } else {
    Prefixes(s, add);
  }
  return out;
}

template <typename Fn>
void UnigramModel::PrefixesReference(std::string_view s, Fn fn) const {
  uint32_t node = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto it = edges_.find((static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(s[i]));
    if (it == edges_.end()) return;
    node = it->second;
    if (node_piece_[node] >= 0) fn(i + 1, static_cast<uint32_t>(node_piece_[node]));
  }
}

// Score is float for SentencePiece, double for HF; each comparison and sum
// is done in the type its source does it in.
template <typename Score>
void UnigramModel::Viterbi(std::string_view s, std::vector<std::pair<uint32_t, int64_t>>* path) const {
  struct Best {
    int64_t id = -1;
    Score score = 0;
    int64_t start = -1;
  };
  thread_local std::vector<Best> best;
  const size_t n = s.size();
  best.assign(n + 1, Best{});
  const int64_t unk = options_.unk_id ? static_cast<int64_t>(*options_.unk_id) : -1;
  const Score unk_score = options_.sentencepiece ? static_cast<Score>(static_cast<float>(min_score_) - 10.0f)
                                                 : static_cast<Score>(min_score_ - 10.0);
  size_t start = 0;
  while (start < n) {
    const Score here = best[start].score;
    size_t next = start;
    DecodeUtf8(s, &next);
    const size_t mblen = next - start;
    bool single = false;
    Prefixes(s.substr(start), [&](size_t len, uint32_t id) {
      const PieceScore p = piece_scores_[id];
      if (p.kind == UnigramPiece::Kind::kUnused) return;
      Best& t = best[start + len];
      if (options_.sentencepiece) {
        // unigram_model.cc's `user-defined ? length * max_score_ - 0.1 : score`
        // is a double, so the candidate is summed and compared in double and
        // stored as float: equal-scoring paths tie-break on that rounding.
        const double score = p.kind == UnigramPiece::Kind::kUserDefined
                                 ? static_cast<double>(static_cast<float>(len) * spm_max_score_) - 0.1
                                 : static_cast<double>(static_cast<float>(p.score));
        const double cand = score + static_cast<double>(here);
        if (t.start < 0 || cand > static_cast<double>(t.score)) t = Best{id, static_cast<Score>(cand), static_cast<int64_t>(start)};
      } else {
        const Score cand = static_cast<Score>(p.score) + here;
        if (t.start < 0 || cand > t.score) t = Best{id, cand, static_cast<int64_t>(start)};
      }
      if (len == mblen) single = true;
    });
    if (!single) {
      Best& t = best[start + mblen];
      const Score cand = unk_score + here;
      if (t.start < 0 || cand > t.score) t = Best{unk, cand, static_cast<int64_t>(start)};
    }
    start = next;
  }
  path->clear();
  for (size_t end = n; end > 0;) {
    const Best& b = best[end];
    path->emplace_back(static_cast<uint32_t>(b.start), b.id);
    end = static_cast<size_t>(b.start);
  }
  std::reverse(path->begin(), path->end());
}

void UnigramModel::EmitUnknown(std::string_view text, std::vector<uint32_t>* out) const {
  if (options_.byte_fallback) {
    bool all = true;
    for (unsigned char c : text) all = all && byte_tokens_[c] >= 0;
    if (all) {
      for (unsigned char c : text) out->push_back(static_cast<uint32_t>(byte_tokens_[c]));
      return;
    }
  }
  // HF errors without an unk token; such a file has none to give.
  if (options_.unk_id) out->push_back(*options_.unk_id);
}

void UnigramModel::EncodeWord(std::string_view word, std::vector<uint32_t>* out) const {
  if (word.empty()) return;
  WordCache::Encode(cache_id_, word, out,
                    [this](std::string_view w, std::vector<uint32_t>* o) { EncodeWordUncached(w, o); });
}

void UnigramModel::EncodeWordUncached(std::string_view word, std::vector<uint32_t>* out) const {
  if (word.empty()) return;
  thread_local std::vector<std::pair<uint32_t, int64_t>> path;  // (start, id)
  const int64_t unk = options_.unk_id ? static_cast<int64_t>(*options_.unk_id) : -1;
  if (options_.sentencepiece) {
    Viterbi<float>(word, &path);
    // sentencepiece_processor.cc merges a run of unknowns into one unk
    // (without byte fallback; with it, each becomes its bytes).
    bool prev_unk = false;
    for (size_t i = 0; i < path.size(); ++i) {
      const size_t b = path[i].first, e = i + 1 < path.size() ? path[i + 1].first : word.size();
      const bool is_unk = path[i].second == unk || path[i].second < 0;
      if (is_unk && (options_.byte_fallback || !prev_unk)) {
        EmitUnknown(word.substr(b, e - b), out);
      } else if (!is_unk) {
        out->push_back(static_cast<uint32_t>(path[i].second));
      }
      prev_unk = is_unk;
    }
    return;
  }
  Viterbi<double>(word, &path);
  // HF: a run of unk nodes is one piece, looked up by its text.
  for (size_t i = 0; i < path.size();) {
    const size_t b = path[i].first;
    size_t j = i + 1;
    if (path[i].second == unk) {
      while (j < path.size() && path[j].second == unk) ++j;
    }
    if (path[i].second != unk) {
      out->push_back(canonical_[static_cast<size_t>(path[i].second)]);
      i = j;
      continue;
    }
    const size_t e = j < path.size() ? path[j].first : word.size();
    std::string_view text = word.substr(b, e - b);
    if (auto id = TokenToId(text)) {
      out->push_back(*id);
    } else {
      EmitUnknown(text, out);
    }
    i = j;
  }
}

}  // namespace llmtk
