#include "lib/tokenizer/unigram.h"

#include <algorithm>
#include <cfloat>
#include <limits>

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

template <typename Fn>
void UnigramModel::Prefixes(std::string_view s, Fn fn) const {
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
      const UnigramPiece& p = pieces_[id];
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
