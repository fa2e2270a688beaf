#include "lib/tokenizer/llama_ugm.h"

#include <algorithm>
#include <cfloat>

#include "absl/strings/str_cat.h"
#include "lib/formats/gguf_vocab.h"

namespace llmtk {
namespace {

constexpr char kEscapedSpace[] = "\xE2\x96\x81";  // U+2581

// llama.cpp's unicode_len_utf8: the sequence length a lead byte announces
// (a continuation byte counts as 1).
size_t LeadLength(uint8_t b) {
  static constexpr size_t kLen[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[b >> 4];
}

// llama.cpp's unicode_cpt_from_utf8 as a validity check: the lead byte's
// pattern and the continuation bytes' top bits (no overlong or surrogate
// checks). Returns the length, or 0 where llama.cpp throws.
size_t Utf8CharLength(std::string_view s, size_t pos) {
  const uint8_t b = static_cast<uint8_t>(s[pos]);
  size_t n = 0;
  if (!(b & 0x80)) return 1;
  if ((b & 0xE0) == 0xC0) {
    n = 2;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
  } else {
    return 0;
  }
  if (pos + n > s.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((static_cast<uint8_t>(s[pos + i]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

void LlamaUgmModel::Trie::Insert(std::string_view s, uint32_t id) {
  uint32_t node = 0;
  for (unsigned char c : s) {
    auto [it, fresh] = edges.try_emplace((uint64_t{node} << 8) | c, static_cast<uint32_t>(value.size()));
    if (fresh) value.push_back(-1);
    node = it->second;
  }
  value[node] = id;  // a repeated text: the later id, as llama.cpp's naive_trie
}

int64_t LlamaUgmModel::Trie::Next(uint32_t node, uint8_t b) const {
  auto it = edges.find((uint64_t{node} << 8) | b);
  return it == edges.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
}

absl::StatusOr<std::unique_ptr<LlamaUgmModel>> LlamaUgmModel::Build(std::vector<std::string> tokens,
                                                                    std::vector<float> scores,
                                                                    const std::vector<int32_t>& types,
                                                                    const LlamaUgmOptions& options,
                                                                    std::string_view source) {
  const size_t n = tokens.size();
  if (scores.size() != n || types.size() != n) {
    return absl::DataLossError(absl::StrCat(ToAbsl(source), ": ", n, " tokens with ", scores.size(), " scores and ",
                                            types.size(), " token types"));
  }
  if (options.unk_id >= n) {
    return absl::DataLossError(
        absl::StrCat(ToAbsl(source), ": unknown token id ", options.unk_id, " is outside the vocabulary of ", n));
  }
  std::unique_ptr<LlamaUgmModel> m(new LlamaUgmModel());
  ASSIGN_OR_RETURN(m->charsmap_, PrecompiledCharsmap::Parse(options.charsmap, source));
  m->options_ = options;
  float min_score = FLT_MAX;
  for (size_t i = 0; i < n; ++i) {
    const int32_t t = types[i];
    if (t == kGgufTokenNormal) min_score = std::min(min_score, scores[i]);
    if (t == kGgufTokenUserDefined) scores[i] = 0;  // llama.cpp favours them so
    if (t == kGgufTokenNormal || t == kGgufTokenUserDefined || t == kGgufTokenUnused) {
      m->lattice_.Insert(tokens[i], static_cast<uint32_t>(i));
    }
    if (t == kGgufTokenUserDefined) m->user_defined_.Insert(tokens[i], static_cast<uint32_t>(i));
    if (t == kGgufTokenByte && tokens[i].size() == 6 && tokens[i].compare(0, 3, "<0x") == 0) {
      m->byte_tokens_[std::stoi(tokens[i].substr(3, 2), nullptr, 16) & 0xFF] = static_cast<int64_t>(i);
    }
    m->ids_.try_emplace(tokens[i], static_cast<uint32_t>(i));
  }
  m->unknown_score_ = min_score - 10.0f;
  m->tokens_ = std::move(tokens);
  m->scores_ = std::move(scores);
  return m;
}

std::optional<uint32_t> LlamaUgmModel::TokenToId(std::string_view token) const {
  auto it = ids_.find(ToAbsl(token));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::string LlamaUgmModel::Normalize(std::string_view in) const {
  std::string out;
  out.reserve(in.size() * 3);
  const bool merge_spaces = options_.remove_extra_whitespaces;
  bool space_prepended = false, in_text = false;
  for (size_t pos = 0; pos < in.size();) {
    std::string_view piece;
    size_t consumed = 0;
    // Text along the user-defined tokens' trie stays as it is: llama.cpp's
    // get_longest_prefix takes the deepest path, ending at a token or not.
    uint32_t node = 0;
    for (size_t i = pos; i < in.size(); ++i) {
      int64_t next = user_defined_.Next(node, static_cast<uint8_t>(in[i]));
      if (next < 0) break;
      node = static_cast<uint32_t>(next);
      consumed = i - pos + 1;
    }
    if (consumed > 0) {
      piece = in.substr(pos, consumed);
    } else if (size_t len = charsmap_.Longest(in.substr(pos), &piece, /*stop_at_nul=*/true); len > 0) {
      consumed = len;
    } else if (size_t len = Utf8CharLength(in, pos); len > 0) {
      piece = in.substr(pos, len);
      consumed = len;
    } else {
      piece = "\xEF\xBF\xBD";
      consumed = 1;
    }
    for (char c : piece) {
      if (c != ' ') {
        if (!in_text) {
          in_text = true;
          if ((options_.add_space_prefix && !space_prepended) || merge_spaces) {
            out += kEscapedSpace;
            space_prepended = true;
          }
        }
        out.push_back(c);
      } else {
        in_text = false;
        if (!merge_spaces) out += kEscapedSpace;
      }
    }
    pos += consumed;
  }
  return out;
}

void LlamaUgmModel::EncodeWord(std::string_view text, std::vector<uint32_t>* out) const {
  const std::string s = Normalize(text);
  const size_t n = s.size();
  if (n == 0) return;
  struct Best {
    uint32_t id;
    size_t start;
    float score;
  };
  const uint32_t unk = options_.unk_id;
  std::vector<Best> best(n + 1, Best{unk, 0, -FLT_MAX});
  best[0] = {unk, 0, 0};
  for (size_t pos = 0; pos < n;) {
    const size_t char_len = std::min(LeadLength(static_cast<uint8_t>(s[pos])), n - pos);
    const float base = best[pos].score;
    bool single_char_token = false;
    uint32_t node = 0;
    for (size_t end = pos; end < n; ++end) {
      int64_t next = lattice_.Next(node, static_cast<uint8_t>(s[end]));
      if (next < 0) break;
      node = static_cast<uint32_t>(next);
      const int64_t id = lattice_.value[node];
      if (id < 0) continue;
      if (end + 1 - pos == char_len) single_char_token = true;
      // Summed in double from the float path score, as llama.cpp does.
      const double challenger = static_cast<double>(base) + static_cast<double>(scores_[id]);
      Best& champ = best[end + 1];
      if (challenger > champ.score) champ = {static_cast<uint32_t>(id), pos, static_cast<float>(challenger)};
    }
    if (!single_char_token) {
      const double challenger = static_cast<double>(base) + static_cast<double>(unknown_score_);
      Best& champ = best[pos + char_len];
      if (challenger > champ.score) champ = {unk, pos, static_cast<float>(challenger)};
    }
    pos += char_len;
  }
  // Back from the end; a run of unknowns is one.
  const size_t first = out->size();
  bool prev_unknown = false;
  for (size_t at = n;;) {
    const Best& b = best[at];
    const bool unknown = b.id == unk;
    if (!(prev_unknown && unknown)) out->push_back(b.id);
    if (b.start == 0) break;
    prev_unknown = unknown;
    at = b.start;
  }
  std::reverse(out->begin() + static_cast<std::ptrdiff_t>(first), out->end());
}

}  // namespace llmtk
