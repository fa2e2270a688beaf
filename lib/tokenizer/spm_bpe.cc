#include "lib/tokenizer/spm_bpe.h"

#include <queue>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/unicode.h"

namespace llmtk {

absl::StatusOr<std::unique_ptr<SpmBpeModel>> SpmBpeModel::Build(const std::vector<SpmPiece>& pieces,
                                                                bool byte_fallback, std::string_view source) {
  std::unique_ptr<SpmBpeModel> m(new SpmBpeModel());
  m->byte_fallback_ = byte_fallback;
  m->byte_tokens_.fill(-1);
  std::vector<std::string> user_defined;
  std::optional<uint32_t> unk;
  for (size_t id = 0; id < pieces.size(); ++id) {
    const SpmPiece& p = pieces[id];
    const bool normal = p.type == SpmPieceType::kNormal || p.type == SpmPieceType::kUserDefined ||
                        p.type == SpmPieceType::kUnused;
    auto& map = normal ? m->pieces_ : m->reserved_;
    if (!map.try_emplace(p.piece, static_cast<uint32_t>(id)).second) {
      return absl::DataLossError(absl::StrCat(ToAbsl(source), ": piece ", id, " \"", p.piece, "\" is already defined"));
    }
    if (p.type == SpmPieceType::kUserDefined) user_defined.push_back(p.piece);
    if (p.type == SpmPieceType::kUnknown && !unk) unk = static_cast<uint32_t>(id);
    m->types_.push_back(p.type);
    m->scores_.push_back(p.score);
  }
  if (!unk) return absl::DataLossError(absl::StrCat(ToAbsl(source), ": no piece of type UNKNOWN (unk is not defined)"));
  m->unk_id_ = *unk;
  m->user_defined_ = PrefixMatcher(user_defined);
  if (byte_fallback) {
    for (int b = 0; b < 256; ++b) {
      auto it = m->reserved_.find(absl::StrFormat("<0x%02X>", b));
      if (it != m->reserved_.end()) m->byte_tokens_[b] = it->second;
    }
  }
  return m;
}

std::optional<uint32_t> SpmBpeModel::TokenToId(std::string_view token) const {
  if (auto it = reserved_.find(ToAbsl(token)); it != reserved_.end()) return it->second;
  if (auto it = pieces_.find(ToAbsl(token)); it != pieces_.end()) return it->second;
  return std::nullopt;
}

uint32_t SpmBpeModel::PieceToId(std::string_view piece) const { return TokenToId(piece).value_or(unk_id_); }

void SpmBpeModel::Emit(std::string_view piece, bool* prev_unk, std::vector<uint32_t>* out) const {
  const uint32_t id = PieceToId(piece);
  const bool unk = id == unk_id_;
  if (unk && byte_fallback_) {
    for (unsigned char c : piece)
      if (byte_tokens_[c] >= 0) out->push_back(static_cast<uint32_t>(byte_tokens_[c]));
  } else if (!(unk && *prev_unk)) {  // a run of unknowns is one unk, as sentencepiece_processor.cc merges them
    out->push_back(id);
  }
  *prev_unk = unk;
}

void SpmBpeModel::EncodeWord(std::string_view word, std::vector<uint32_t>* out) const {
  if (word.empty()) return;
  struct Symbol {
    int prev, next;
    bool freeze;
    uint32_t begin, len;
  };
  struct Pair {
    float score;
    int left, right;
    uint32_t size;
  };
  // Highest score first; on equal scores the leftmost.
  auto worse = [](const Pair& a, const Pair& b) { return a.score < b.score || (a.score == b.score && a.left > b.left); };
  thread_local std::vector<Symbol> sym;
  sym.clear();
  for (size_t pos = 0; pos < word.size();) {
    size_t len = user_defined_.Match(word.substr(pos));
    const bool freeze = len > 0;
    if (!freeze) {
      size_t p = pos;
      DecodeUtf8(word, &p);
      len = p - pos;
    }
    const int i = static_cast<int>(sym.size());
    sym.push_back({i - 1, pos + len < word.size() ? i + 1 : -1, freeze, static_cast<uint32_t>(pos),
                   static_cast<uint32_t>(len)});
    pos += len;
  }
  std::priority_queue<Pair, std::vector<Pair>, decltype(worse)> agenda(worse);
  absl::flat_hash_map<std::string_view, std::pair<std::string_view, std::string_view>> rev_merge;
  auto text = [&](int i) { return word.substr(sym[i].begin, sym[i].len); };
  auto maybe_add = [&](int l, int r) {
    if (l < 0 || r < 0 || sym[l].freeze || sym[r].freeze) return;
    std::string_view piece = word.substr(sym[l].begin, sym[l].len + sym[r].len);
    auto it = pieces_.find(ToAbsl(piece));
    if (it == pieces_.end()) return;
    agenda.push(Pair{scores_[it->second], l, r, static_cast<uint32_t>(piece.size())});
    if (types_[it->second] == SpmPieceType::kUnused) rev_merge[piece] = {text(l), text(r)};
  };
  for (size_t i = 1; i < sym.size(); ++i) maybe_add(static_cast<int>(i) - 1, static_cast<int>(i));
  while (!agenda.empty()) {
    const Pair top = agenda.top();
    agenda.pop();
    Symbol& l = sym[top.left];
    Symbol& r = sym[top.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != top.size) continue;  // stale
    l.len += r.len;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = top.left;
    r.len = 0;
    maybe_add(l.prev, top.left);
    maybe_add(top.left, l.next);
  }
  // Unused pieces are split back into the pair that made them.
  bool prev_unk = false;
  auto resegment = [&](auto&& self, std::string_view w) -> void {
    const uint32_t id = PieceToId(w);
    auto it = types_[id] == SpmPieceType::kUnused ? rev_merge.find(w) : rev_merge.end();
    if (it == rev_merge.end()) {
      Emit(w, &prev_unk, out);
      return;
    }
    const auto parts = it->second;
    self(self, parts.first);
    self(self, parts.second);
  };
  for (int i = 0; i >= 0; i = sym[i].next) resegment(resegment, text(i));
}

}  // namespace llmtk
