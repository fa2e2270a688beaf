#include "lib/convert/hf_tokenizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "lib/base/io.h"
#include "lib/formats/gguf_keys.h"
#include "lib/formats/sentencepiece_model.h"
#include "lib/formats/gguf_vocab.h"
#include "lib/tokenizer/decode.h"
#include "simdjson.h"

namespace llmtk {
namespace {

bool Exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

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

}  // namespace

std::string WidenBigIntegers(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  bool in_string = false;
  for (size_t i = 0; i < json.size();) {
    const char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) {
        out.push_back(json[i + 1]);
        i += 2;
        continue;
      }
      if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out.push_back(c);
      ++i;
      continue;
    }
    if (c >= '0' && c <= '9') {
      size_t j = i;
      while (j < json.size() && json[j] >= '0' && json[j] <= '9') ++j;
      out.append(json.substr(i, j - i));
      const bool fraction = j < json.size() && (json[j] == '.' || json[j] == 'e' || json[j] == 'E');
      if (j - i > 19 && !fraction) out.append(".0");
      i = j;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

absl::StatusOr<std::vector<SentencePiece>> ParseSentencePieceModel(std::string_view bytes, std::string_view name) {
  ASSIGN_OR_RETURN(SentencePieceModel m, ReadSentencePieceModel(bytes, name));
  std::vector<SentencePiece> out;
  out.reserve(m.pieces.size());
  for (SpmPiece& p : m.pieces) out.push_back({std::move(p.piece), p.score, static_cast<int>(p.type)});
  return out;
}

namespace {

// The three JSON files the vocabulary comes from (each optional).
struct HfJsons {
  simdjson::dom::parser cfg_parser, tc_parser, tj_parser;
  simdjson::padded_string cfg_s, tc_s, tj_s;
  simdjson::dom::element cfg, tc, tj;
  bool have_cfg = false, have_tc = false, have_tj = false;
};

absl::Status LoadJsons(const std::string& dir, HfJsons* j) {
  auto load = [&](const std::string& name, simdjson::padded_string* s, simdjson::dom::parser* p,
                  simdjson::dom::element* e, bool* have) -> absl::Status {
    const std::string path = dir + "/" + name;
    if (!Exists(path)) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
    *s = simdjson::padded_string(WidenBigIntegers(text));
    if (auto err = p->parse(*s).get(*e); err) {
      return absl::DataLossError(absl::StrCat(path, ": not valid JSON (", simdjson::error_message(err), ")"));
    }
    *have = true;
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(load("config.json", &j->cfg_s, &j->cfg_parser, &j->cfg, &j->have_cfg));
  RETURN_IF_ERROR(load("tokenizer_config.json", &j->tc_s, &j->tc_parser, &j->tc, &j->have_tc));
  RETURN_IF_ERROR(load("tokenizer.json", &j->tj_s, &j->tj_parser, &j->tj, &j->have_tj));
  return absl::OkStatus();
}

// The pre-tokenizer regexes llama.cpp knows by name (its convert script
// identifies them by hashing a tokenization; we recognize the pattern).
constexpr std::pair<std::string_view, std::string_view> kPreRegexes[] = {
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
     "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     "llama-bpe"},
    {"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
     "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
     "qwen2"},
};

absl::StatusOr<std::string> DetectPre(const std::string& path, simdjson::dom::element tj) {
  simdjson::dom::element pre;
  if (tj["pre_tokenizer"].get(pre) != simdjson::SUCCESS) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": no pre_tokenizer; cannot choose ", ToAbsl(GgufKeyName(GgufKey::kTokenizerPre))));
  }
  std::string_view type;
  (void)(pre["type"].get_string().get(type) == simdjson::SUCCESS);
  if (type == "ByteLevel") {
    bool use_regex = true;
    (void)(pre["use_regex"].get_bool().get(use_regex) == simdjson::SUCCESS);
    if (use_regex) return std::string("gpt-2");
  }
  simdjson::dom::array seq;
  if (type == "Sequence" && pre["pretokenizers"].get_array().get(seq) == simdjson::SUCCESS) {
    std::string_view regex;
    for (auto p : seq) {
      std::string_view t;
      if (p["type"].get_string().get(t) == simdjson::SUCCESS && t == "Split") {
        (void)(p["pattern"]["Regex"].get_string().get(regex) == simdjson::SUCCESS);
      }
    }
    for (const auto& [r, name] : kPreRegexes) {
      if (regex == r) return std::string(name);
    }
  }
  return absl::UnimplementedError(absl::StrCat(
      path, ": unrecognized pre-tokenizer (", ToAbsl(type),
      "); known: GPT-2 ByteLevel, the Llama 3 and Qwen2 split regexes -- cannot choose ",
      ToAbsl(GgufKeyName(GgufKey::kTokenizerPre))));
}

// convert_hf_to_gguf.py's _set_vocab_gpt2 for a tokenizer.json BPE model.
absl::Status AddBpeVocab(const std::string& dir, int64_t vocab_size, const HfJsons& j, GgufVocab* v) {
  const std::string path = dir + "/tokenizer.json";
  if (!j.have_tj) {
    return absl::NotFoundError(absl::StrCat(dir, ": neither tokenizer.model nor tokenizer.json"));
  }
  simdjson::dom::object model;
  std::string_view mtype;
  if (j.tj["model"].get_object().get(model) != simdjson::SUCCESS ||
      model["type"].get_string().get(mtype) != simdjson::SUCCESS) {
    return absl::DataLossError(absl::StrCat(path, ": missing model.type"));
  }
  if (mtype != "BPE") {
    return absl::UnimplementedError(absl::StrCat(path, ": tokenizer model ", ToAbsl(mtype),
                                                 " is not supported (BPE and SentencePiece are)"));
  }
  ASSIGN_OR_RETURN(std::string pre, DetectPre(path, j.tj));
  simdjson::dom::object vocab;
  if (model["vocab"].get_object().get(vocab) != simdjson::SUCCESS) {
    return absl::DataLossError(absl::StrCat(path, ": missing model.vocab"));
  }
  int64_t max_id = -1;
  std::vector<std::pair<int64_t, std::string_view>> entries;
  for (auto [tok, idv] : vocab) {
    int64_t id;
    if (idv.get_int64().get(id) != simdjson::SUCCESS || id < 0 || id >= (int64_t{1} << 24)) {
      return absl::DataLossError(absl::StrCat(path, ": vocab entry has a bad id"));
    }
    entries.emplace_back(id, tok);
    max_id = std::max(max_id, id);
  }
  struct Added {
    std::string content;
    bool special;
  };
  std::vector<std::pair<int64_t, Added>> added;
  simdjson::dom::array added_arr;
  if (j.tj["added_tokens"].get_array().get(added_arr) == simdjson::SUCCESS) {
    for (auto a : added_arr) {
      int64_t id;
      std::string_view c;
      bool special = false;
      if (a["id"].get_int64().get(id) != simdjson::SUCCESS || a["content"].get_string().get(c) != simdjson::SUCCESS ||
          id < 0 || id >= (int64_t{1} << 24)) {
        return absl::DataLossError(absl::StrCat(path, ": added_tokens entry without a valid id and content"));
      }
      (void)(a["special"].get_bool().get(special) == simdjson::SUCCESS);
      added.push_back({id, Added{std::string(c), special}});
      max_id = std::max(max_id, id);
    }
  }
  if (vocab_size <= 0) vocab_size = max_id + 1;
  std::vector<std::string> tokens(static_cast<size_t>(vocab_size));
  std::vector<int32_t> types(tokens.size(), kGgufTokenUserDefined);
  std::vector<bool> present(tokens.size(), false);
  for (const auto& [id, tok] : entries) {
    if (id >= vocab_size) continue;
    tokens[id] = std::string(tok);
    types[id] = kGgufTokenNormal;
    present[id] = true;
  }
  for (const auto& [id, a] : added) {
    if (id >= vocab_size) continue;
    if (a.special || LooksSpecial(a.content)) {
      tokens[id] = a.content;
      types[id] = kGgufTokenControl;
    } else {
      tokens[id] = SpmSpacesToSpaces(a.content);
      types[id] = kGgufTokenUserDefined;
    }
    present[id] = true;
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!present[i]) tokens[i] = absl::StrCat("[PAD", i, "]");
  }
  std::vector<std::string> merges;
  simdjson::dom::array marr;
  if (model["merges"].get_array().get(marr) == simdjson::SUCCESS) {
    for (auto m : marr) {
      std::string_view sv;
      simdjson::dom::array pair;
      if (m.get_string().get(sv) == simdjson::SUCCESS) {
        merges.emplace_back(sv);
      } else if (m.get_array().get(pair) == simdjson::SUCCESS && pair.size() == 2) {
        std::string_view a, b;
        if (pair.at(0).get_string().get(a) != simdjson::SUCCESS || pair.at(1).get_string().get(b) != simdjson::SUCCESS) {
          return absl::DataLossError(absl::StrCat(path, ": malformed merge"));
        }
        merges.push_back(absl::StrCat(ToAbsl(a), " ", ToAbsl(b)));
      } else {
        return absl::DataLossError(absl::StrCat(path, ": malformed merge"));
      }
    }
  }
  v->model = "gpt2";
  v->pre = pre;
  v->tokens = std::move(tokens);
  v->token_types = std::move(types);
  if (!merges.empty()) v->merges = std::move(merges);
  return absl::OkStatus();
}

// convert_hf_to_gguf.py's _set_vocab_sentencepiece.
absl::Status AddSentencePieceVocab(const std::string& dir, int64_t vocab_size, const HfJsons& j, GgufVocab* v) {
  const std::string sp_path = dir + "/tokenizer.model";
  ASSIGN_OR_RETURN(std::string sp_bytes, ReadFileToString(sp_path));
  ASSIGN_OR_RETURN(std::vector<SentencePiece> pieces, ParseSentencePieceModel(sp_bytes, sp_path));
  if (vocab_size <= 0) vocab_size = static_cast<int64_t>(pieces.size());
  std::vector<std::string> tokens(static_cast<size_t>(vocab_size));
  std::vector<float> scores(tokens.size(), -10000.0f);
  std::vector<int32_t> types(tokens.size(), kGgufTokenUnused);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = absl::StrCat("[PAD", i, "]");
  for (size_t i = 0; i < pieces.size() && i < tokens.size(); ++i) {
    tokens[i] = pieces[i].piece;
    scores[i] = pieces[i].score;
    types[i] = pieces[i].type;
  }
  // Added tokens from tokenizer_config.json's added_tokens_decoder.
  simdjson::dom::object decoder;
  if (j.have_tc && j.tc["added_tokens_decoder"].get_object().get(decoder) == simdjson::SUCCESS) {
    for (auto [id_s, data] : decoder) {
      int64_t id = -1;
      if (!absl::SimpleAtoi(ToAbsl(std::string_view(id_s)), &id) || id < 0 || id >= vocab_size) continue;
      std::string content = JsonString(data, "content");
      bool special = false;
      if (data["special"].get_bool().get(special) != simdjson::SUCCESS) special = false;
      if (special || LooksSpecial(content)) {
        types[id] = kGgufTokenControl;
      } else {
        content = SpmSpacesToSpaces(content);
        types[id] = kGgufTokenUserDefined;
      }
      scores[id] = -1000.0f;
      tokens[id] = content;
    }
  }
  v->model = "llama";
  v->pre = "default";
  v->tokens = std::move(tokens);
  v->scores = std::move(scores);
  v->token_types = std::move(types);
  return absl::OkStatus();
}

// gguf-py's SpecialVocab: special token ids, add_bos/add_eos, chat template.
void AddSpecialVocab(int64_t vocab_size, const HfJsons& j, GgufVocab* v) {
  using S = GgufSpecialToken;
  static constexpr std::pair<const char*, GgufSpecialToken> kSpecial[] = {
      {"bos", S::kBos}, {"eos", S::kEos}, {"unk", S::kUnknown}, {"sep", S::kSeparator},
      {"pad", S::kPadding}, {"cls", S::kCls}, {"mask", S::kMask}};
  for (const auto& [typ, token] : kSpecial) {
    int64_t id = -1;
    if (j.have_tc && j.have_tj) {
      const std::string content = JsonString(j.tc, absl::StrCat(typ, "_token"));
      simdjson::dom::array added;
      if (!content.empty() && j.tj["added_tokens"].get_array().get(added) == simdjson::SUCCESS) {
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
    if (id < 0 && j.have_cfg) {
      int64_t v;
      if (j.cfg[absl::StrCat(typ, "_token_id")].get_int64().get(v) == simdjson::SUCCESS) id = v;
    }
    if (id >= 0 && id < vocab_size) v->set_special_id(token, static_cast<uint32_t>(id));
  }
  // add_bos/add_eos: tokenizer.json's TemplateProcessing, overridden by
  // tokenizer_config.json when it says so.
  std::optional<bool> add_bos, add_eos;
  if (j.have_tj) {
    simdjson::dom::element pp;
    if (j.tj["post_processor"].get(pp) == simdjson::SUCCESS) {
      std::string_view t;
      simdjson::dom::array procs;
      if (pp["type"].get_string().get(t) == simdjson::SUCCESS && t == "Sequence" &&
          pp["processors"].get_array().get(procs) == simdjson::SUCCESS) {
        for (auto p : procs) {
          std::string_view pt;
          if (p["type"].get_string().get(pt) == simdjson::SUCCESS && pt == "TemplateProcessing") pp = p;
        }
      }
      simdjson::dom::array single;
      if (pp["type"].get_string().get(t) == simdjson::SUCCESS && t == "TemplateProcessing" &&
          pp["single"].get_array().get(single) == simdjson::SUCCESS && single.size() > 1) {
        simdjson::dom::element first, last;
        add_bos = single.at(0).get(first) == simdjson::SUCCESS && first["SpecialToken"].error() == simdjson::SUCCESS;
        add_eos = single.at(single.size() - 1).get(last) == simdjson::SUCCESS &&
                  last["SpecialToken"].error() == simdjson::SUCCESS;
      }
    }
  }
  if (j.have_tc) {
    bool b;
    if (j.tc["add_bos_token"].get_bool().get(b) == simdjson::SUCCESS) add_bos = b;
    if (j.tc["add_eos_token"].get_bool().get(b) == simdjson::SUCCESS) add_eos = b;
  }
  v->add_bos = add_bos;
  v->add_eos = add_eos;
  if (j.have_tc) {
    std::string_view tmpl;
    if (j.tc["chat_template"].get_string().get(tmpl) == simdjson::SUCCESS) {
      v->chat_template = std::string(tmpl);
    }
  }
}

}  // namespace

absl::Status AddHfTokenizerMetadata(const std::string& dir, int64_t vocab_size, GgufMetadata* md) {
  if (vocab_size > (int64_t{1} << 24)) {
    return absl::DataLossError(absl::StrCat(dir, ": vocab_size ", vocab_size, " is implausibly large"));
  }
  HfJsons j;
  RETURN_IF_ERROR(LoadJsons(dir, &j));
  GgufVocab v;
  if (Exists(dir + "/tokenizer.model")) {
    RETURN_IF_ERROR(AddSentencePieceVocab(dir, vocab_size, j, &v));
  } else {
    RETURN_IF_ERROR(AddBpeVocab(dir, vocab_size, j, &v));
  }
  AddSpecialVocab(static_cast<int64_t>(v.tokens->size()), j, &v);
  SetGgufVocab(v, md);
  return absl::OkStatus();
}

}  // namespace llmtk
