#include "lib/hf_convert_tokenizer.h"

#include <sys/stat.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "lib/io.h"
#include "simdjson.h"

namespace llmtk {
namespace {

constexpr int kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5;

bool Exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Minimal protobuf wire reader with bounds checks.
class Wire {
 public:
  Wire(std::string_view b, size_t base) : b_(b), base_(base) {}
  bool done() const { return pos_ >= b_.size(); }
  size_t offset() const { return base_ + pos_; }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return false;
      const uint8_t c = static_cast<uint8_t>(b_[pos_++]);
      *v |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (!(c & 0x80)) return true;
    }
    return false;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (n > b_.size() - pos_) return false;
    *out = b_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // Skips a field of wire type `wt`.
  bool Skip(uint64_t wt) {
    uint64_t v;
    std::string_view s;
    switch (wt) {
      case 0: return Varint(&v);
      case 1: return Bytes(8, &s);
      case 2: return Varint(&v) && Bytes(v, &s);
      case 5: return Bytes(4, &s);
      default: return false;
    }
  }

 private:
  std::string_view b_;
  size_t base_;
  size_t pos_ = 0;
};

// A string field, or the "content" of an AddedToken object; "" otherwise.
std::string JsonString(simdjson::dom::element parent, std::string_view key) {
  simdjson::dom::element e;
  if (parent[key].get(e) != simdjson::SUCCESS) return "";
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  if (e["content"].get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return "";
}

bool StartsWith(const std::string& s, std::string_view p) { return s.size() >= p.size() && s.compare(0, p.size(), p) == 0; }
bool EndsWith(const std::string& s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// convert_hf_to_gguf's does_token_look_special.
bool LooksSpecial(const std::string& t) {
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  if (StartsWith(t, "<|") && EndsWith(t, "|>")) return true;
  if (StartsWith(t, "<\xef\xbd\x9c") && EndsWith(t, "\xef\xbd\x9c>")) return true;  // "<｜...｜>"
  return StartsWith(t, "<unused") && EndsWith(t, ">");
}

// U+2581 (SentencePiece's space) -> ' '.
std::string SpmSpacesToSpaces(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "\xe2\x96\x81") == 0) {
      out.push_back(' ');
      i += 3;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<SentencePiece>> ParseSentencePieceModel(std::string_view bytes, std::string_view name) {
  std::vector<SentencePiece> out;
  Wire w(bytes, 0);
  auto bad = [&](size_t at, std::string_view what) {
    return absl::DataLossError(absl::StrFormat("%s: malformed SentencePiece model at byte %d (%s)", ToAbsl(name), at,
                                               ToAbsl(what)));
  };
  while (!w.done()) {
    const size_t at = w.offset();
    uint64_t tag;
    if (!w.Varint(&tag)) return bad(at, "truncated field tag");
    const uint64_t field = tag >> 3, wt = tag & 7;
    if (field != 1 || wt != 2) {
      if (!w.Skip(wt)) return bad(at, "truncated or unknown field");
      continue;
    }
    uint64_t len;
    std::string_view msg;
    if (!w.Varint(&len) || !w.Bytes(len, &msg)) return bad(at, "truncated piece");
    SentencePiece p;
    Wire m(msg, w.offset() - msg.size());
    while (!m.done()) {
      const size_t at2 = m.offset();
      uint64_t t2;
      if (!m.Varint(&t2)) return bad(at2, "truncated piece field");
      const uint64_t f2 = t2 >> 3, w2 = t2 & 7;
      if (f2 == 1 && w2 == 2) {
        uint64_t n;
        std::string_view s;
        if (!m.Varint(&n) || !m.Bytes(n, &s)) return bad(at2, "truncated piece text");
        p.piece = std::string(s);
      } else if (f2 == 2 && w2 == 5) {
        std::string_view s;
        if (!m.Bytes(4, &s)) return bad(at2, "truncated score");
        std::memcpy(&p.score, s.data(), 4);
      } else if (f2 == 3 && w2 == 0) {
        uint64_t v;
        if (!m.Varint(&v)) return bad(at2, "truncated type");
        if (v < 1 || v > 6) return bad(at2, "unknown piece type");
        p.type = static_cast<int>(v);
      } else if (!m.Skip(w2)) {
        return bad(at2, "truncated or unknown piece field");
      }
    }
    out.push_back(std::move(p));
  }
  if (out.empty()) return absl::DataLossError(absl::StrCat(ToAbsl(name), ": SentencePiece model holds no pieces"));
  return out;
}

absl::Status AddHfTokenizerMetadata(const std::string& dir, int64_t vocab_size, GgufMetadata* md) {
  const std::string sp_path = dir + "/tokenizer.model";
  if (!Exists(sp_path)) {
    return absl::UnimplementedError(absl::StrCat(
        dir, ": no tokenizer.model; converting byte-level BPE vocabularies (tokenizer.json only) is not supported yet"));
  }
  ASSIGN_OR_RETURN(std::string sp_bytes, ReadFileToString(sp_path));
  ASSIGN_OR_RETURN(std::vector<SentencePiece> pieces, ParseSentencePieceModel(sp_bytes, sp_path));
  if (vocab_size <= 0) vocab_size = static_cast<int64_t>(pieces.size());
  if (vocab_size > (int64_t{1} << 24)) {
    return absl::DataLossError(absl::StrCat(dir, ": vocab_size ", vocab_size, " is implausibly large"));
  }
  std::vector<std::string> tokens(static_cast<size_t>(vocab_size));
  std::vector<float> scores(tokens.size(), -10000.0f);
  std::vector<int32_t> types(tokens.size(), kUnused);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = absl::StrCat("[PAD", i, "]");
  for (size_t i = 0; i < pieces.size() && i < tokens.size(); ++i) {
    tokens[i] = pieces[i].piece;
    scores[i] = pieces[i].score;
    types[i] = pieces[i].type;
  }

  simdjson::dom::parser cfg_parser, tc_parser, tj_parser;
  simdjson::dom::element cfg, tc, tj;
  bool have_cfg = false, have_tc = false, have_tj = false;
  simdjson::padded_string cfg_s, tc_s, tj_s;
  if (simdjson::padded_string::load(dir + "/config.json").get(cfg_s) == simdjson::SUCCESS) {
    have_cfg = cfg_parser.parse(cfg_s).get(cfg) == simdjson::SUCCESS;
  }
  if (simdjson::padded_string::load(dir + "/tokenizer_config.json").get(tc_s) == simdjson::SUCCESS) {
    have_tc = tc_parser.parse(tc_s).get(tc) == simdjson::SUCCESS;
  }
  if (simdjson::padded_string::load(dir + "/tokenizer.json").get(tj_s) == simdjson::SUCCESS) {
    have_tj = tj_parser.parse(tj_s).get(tj) == simdjson::SUCCESS;
  }

  // Added tokens from tokenizer_config.json's added_tokens_decoder.
  simdjson::dom::object decoder;
  if (have_tc && tc["added_tokens_decoder"].get_object().get(decoder) == simdjson::SUCCESS) {
    for (auto [id_s, data] : decoder) {
      int64_t id = -1;
      if (!absl::SimpleAtoi(ToAbsl(std::string_view(id_s)), &id) || id < 0 || id >= vocab_size) continue;
      std::string content = JsonString(data, "content");
      bool special = false;
      if (data["special"].get_bool().get(special) != simdjson::SUCCESS) special = false;
      if (special || LooksSpecial(content)) {
        types[id] = kControl;
      } else {
        content = SpmSpacesToSpaces(content);
        types[id] = kUserDefined;
      }
      scores[id] = -1000.0f;
      tokens[id] = content;
    }
  }

  md->SetString("tokenizer.ggml.model", "llama");
  md->SetString("tokenizer.ggml.pre", "default");
  md->SetStringArray("tokenizer.ggml.tokens", tokens);
  md->SetF32Array("tokenizer.ggml.scores", scores);
  md->SetI32Array("tokenizer.ggml.token_type", types);

  // Special ids as gguf-py's SpecialVocab finds them.
  static constexpr std::pair<const char*, const char*> kSpecial[] = {
      {"bos", "bos_token_id"},        {"eos", "eos_token_id"},   {"unk", "unknown_token_id"},
      {"sep", "seperator_token_id"},  {"pad", "padding_token_id"}, {"cls", "cls_token_id"},
      {"mask", "mask_token_id"}};
  for (const auto& [typ, key] : kSpecial) {
    int64_t id = -1;
    if (have_tc && have_tj) {
      const std::string content = JsonString(tc, absl::StrCat(typ, "_token"));
      simdjson::dom::array added;
      if (!content.empty() && tj["added_tokens"].get_array().get(added) == simdjson::SUCCESS) {
        for (auto a : added) {
          std::string_view c;
          int64_t aid;
          if (a["content"].get_string().get(c) == simdjson::SUCCESS && c == content &&
              a["id"].get_int64().get(aid) == simdjson::SUCCESS) {
            id = aid;
            break;
          }
        }
      }
    }
    if (id < 0 && have_cfg) {
      int64_t v;
      if (cfg[absl::StrCat(typ, "_token_id")].get_int64().get(v) == simdjson::SUCCESS) id = v;
    }
    if (id >= 0 && id < vocab_size) md->SetU32(absl::StrCat("tokenizer.ggml.", key), static_cast<uint32_t>(id));
  }
  if (have_tc) {
    bool b;
    if (tc["add_bos_token"].get_bool().get(b) == simdjson::SUCCESS) md->SetBool("tokenizer.ggml.add_bos_token", b);
    if (tc["add_eos_token"].get_bool().get(b) == simdjson::SUCCESS) md->SetBool("tokenizer.ggml.add_eos_token", b);
    std::string_view tmpl;
    if (tc["chat_template"].get_string().get(tmpl) == simdjson::SUCCESS) {
      md->SetString("tokenizer.chat_template", tmpl);
    }
  }
  return absl::OkStatus();
}

}  // namespace llmtk
