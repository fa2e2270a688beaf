#include "lib/model_vocab.h"

#include <algorithm>
#include <queue>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace llmtk {
namespace {

constexpr int32_t kTypeControl = 3, kTypeByte = 6;

size_t Utf8Len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c >> 5) == 0x6) return 2;
  if ((c >> 4) == 0xE) return 3;
  if ((c >> 3) == 0x1E) return 4;
  return 1;  // stray continuation byte: a symbol of its own
}

}  // namespace

absl::StatusOr<Vocab> Vocab::FromGguf(const GgufFile& f) {
  Vocab v;
  auto model = f.GetString("tokenizer.ggml.model");
  if (!model.ok())
    return absl::DataLossError(absl::StrCat(f.name(), ": no tokenizer in the file ('tokenizer.ggml.model' is missing)"));
  v.model_ = std::string(*model);
  ASSIGN_OR_RETURN(auto tokens, f.GetStringArray("tokenizer.ggml.tokens"));
  v.pieces_.assign(tokens.begin(), tokens.end());
  const size_t n = v.pieces_.size();
  if (f.Has("tokenizer.ggml.scores")) {
    ASSIGN_OR_RETURN(v.scores_, f.GetF32Array("tokenizer.ggml.scores"));
  }
  if (f.Has("tokenizer.ggml.token_type")) {
    ASSIGN_OR_RETURN(v.types_, f.GetI32Array("tokenizer.ggml.token_type"));
  }
  v.scores_.resize(n, 0.f);
  v.types_.resize(n, 1);
  for (size_t i = 0; i < n; ++i) v.index_.emplace(v.pieces_[i], static_cast<int32_t>(i));
  auto id_key = [&](const char* key, int32_t def) -> absl::StatusOr<int32_t> {
    if (!f.Has(key)) return def;
    ASSIGN_OR_RETURN(uint32_t id, f.GetU32(key));
    if (id >= n) return absl::DataLossError(absl::StrFormat("%s: %s = %d is outside the vocabulary", f.name(), key, id));
    return static_cast<int32_t>(id);
  };
  ASSIGN_OR_RETURN(v.bos_, id_key("tokenizer.ggml.bos_token_id", -1));
  ASSIGN_OR_RETURN(v.eos_, id_key("tokenizer.ggml.eos_token_id", -1));
  ASSIGN_OR_RETURN(int32_t eot, id_key("tokenizer.ggml.eot_token_id", -1));
  if (f.Has("tokenizer.ggml.add_bos_token")) {
    ASSIGN_OR_RETURN(v.add_bos_, f.GetBool("tokenizer.ggml.add_bos_token"));
  } else {
    v.add_bos_ = v.model_ == "llama";
  }
  if (f.Has("tokenizer.ggml.add_space_prefix")) {
    ASSIGN_OR_RETURN(v.add_space_prefix_, f.GetBool("tokenizer.ggml.add_space_prefix"));
  }
  if (v.add_bos_ && v.bos_ < 0) v.add_bos_ = false;
  if (v.eos_ >= 0) v.eog_.push_back(v.eos_);
  if (eot >= 0) v.eog_.push_back(eot);
  for (size_t i = 0; i < n; ++i) {
    const std::string& p = v.pieces_[i];
    if (p == "<|eot_id|>" || p == "<|im_end|>" || p == "<|end|>" || p == "<|endoftext|>" || p == "<end_of_turn>" ||
        p == "<|end_of_text|>")
      v.eog_.push_back(static_cast<int32_t>(i));
  }
  std::fill(std::begin(v.byte_tokens_), std::end(v.byte_tokens_), -1);
  for (int b = 0; b < 256; ++b) {
    auto it = v.index_.find(absl::StrFormat("<0x%02X>", b));
    if (it != v.index_.end()) v.byte_tokens_[b] = it->second;
  }
  if (v.model_ == "gpt2") {
    // GPT-2's printable-byte map: bytes that print as themselves keep their
    // code point; the rest map to 256 + k in byte order.
    v.gpt2_byte_of_.assign(512, -1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      v.gpt2_byte_of_[printable ? b : 256 + extra++] = b;
    }
  }
  return v;
}

bool Vocab::IsEog(int32_t id) const { return std::find(eog_.begin(), eog_.end(), id) != eog_.end(); }

std::string Vocab::Piece(int32_t id) const {
  if (id < 0 || id >= size()) return "";
  const std::string& p = pieces_[id];
  const int32_t type = types_[id];
  if (type == kTypeControl) return "";
  if (type == kTypeByte && p.size() == 6 && p.compare(0, 3, "<0x") == 0) {
    return std::string(1, static_cast<char>(std::stoi(p.substr(3, 2), nullptr, 16)));
  }
  std::string out;
  if (model_ == "gpt2") {
    for (size_t i = 0; i < p.size();) {
      const unsigned char c = p[i];
      uint32_t cp = c;
      size_t len = Utf8Len(c);
      if (len == 2 && i + 1 < p.size()) cp = ((c & 0x1F) << 6) | (p[i + 1] & 0x3F);
      if (len == 3 && i + 2 < p.size()) cp = ((c & 0x0F) << 12) | ((p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
      if (cp < gpt2_byte_of_.size() && gpt2_byte_of_[cp] >= 0) {
        out.push_back(static_cast<char>(gpt2_byte_of_[cp]));
      } else {
        out.append(p, i, len);
      }
      i += len;
    }
    return out;
  }
  // SentencePiece: U+2581 is a space.
  for (size_t i = 0; i < p.size();) {
    if (p.compare(i, 3, "\xE2\x96\x81") == 0) {
      out.push_back(' ');
      i += 3;
    } else {
      out.push_back(p[i++]);
    }
  }
  return out;
}

std::string Vocab::Decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) out += Piece(id);
  return out;
}

absl::StatusOr<std::vector<int32_t>> Vocab::Encode(std::string_view text, bool add_bos) const {
  std::vector<int32_t> out;
  if (add_bos && bos_ >= 0) out.push_back(bos_);
  if (model_ != "llama")
    return absl::UnimplementedError(absl::StrCat("encoding with tokenizer model '", model_,
                                                 "' is not built into llmtk-run yet (pass token ids instead)"));
  if (text.empty()) return out;
  std::string s;
  if (add_space_prefix_) s = "\xE2\x96\x81";
  for (char c : text) {
    if (c == ' ') {
      s += "\xE2\x96\x81";
    } else {
      s.push_back(c);
    }
  }
  // Symbols as a linked list over `s`, merged by best score, leftmost first.
  struct Sym {
    int prev, next;
    size_t start, len;
  };
  std::vector<Sym> sym;
  for (size_t i = 0; i < s.size();) {
    const size_t len = std::min(Utf8Len(static_cast<unsigned char>(s[i])), s.size() - i);
    sym.push_back({static_cast<int>(sym.size()) - 1, static_cast<int>(sym.size()) + 1, i, len});
    i += len;
  }
  sym.back().next = -1;
  struct Bigram {
    float score;
    int left;
    size_t len;
    bool operator<(const Bigram& o) const { return score < o.score || (score == o.score && left > o.left); }
  };
  std::priority_queue<Bigram> queue;
  auto try_add = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    const size_t len = sym[l].len + sym[r].len;
    auto it = index_.find(ToAbsl(std::string_view(s).substr(sym[l].start, len)));
    if (it == index_.end()) return;
    queue.push({scores_[it->second], l, len});
  };
  for (size_t i = 1; i < sym.size(); ++i) try_add(static_cast<int>(i) - 1, static_cast<int>(i));
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Sym& l = sym[b.left];
    if (l.len == 0 || l.next < 0) continue;
    Sym& r = sym[l.next];
    if (l.len + r.len != b.len) continue;  // stale
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  for (int i = 0; i >= 0; i = sym[i].next) {
    const std::string_view piece = std::string_view(s).substr(sym[i].start, sym[i].len);
    auto it = index_.find(ToAbsl(piece));
    if (it != index_.end()) {
      out.push_back(it->second);
      continue;
    }
    for (unsigned char c : piece) {
      if (byte_tokens_[c] < 0)
        return absl::InvalidArgumentError(absl::StrFormat("byte 0x%02X has no token in this vocabulary", c));
      out.push_back(byte_tokens_[c]);
    }
  }
  return out;
}

}  // namespace llmtk
