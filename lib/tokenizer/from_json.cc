// Loading a tokenizer.json (HF tokenizers' serialization) into TokenizerParts.
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/tokenizer/base64.h"
#include "lib/tokenizer/serde_number.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/unigram.h"
#include "lib/tokenizer/wordpiece.h"
#include "simdjson.h"

namespace llmtk {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

struct Ctx {
  std::string source;
  absl::Status Corrupt(std::string_view where, std::string_view what) const {
    return absl::DataLossError(absl::StrCat(source, ": ", ToAbsl(where), ": ", ToAbsl(what)));
  }
  absl::Status Unsupported(std::string_view where, std::string_view type) const {
    return absl::UnimplementedError(absl::StrCat(source, ": ", ToAbsl(where), " type \"", ToAbsl(type),
                                                 "\" is not supported by llmtk"));
  }
};

bool IsNull(element e) { return e.type() == simdjson::dom::element_type::NULL_VALUE; }

std::string_view GetStr(element obj, std::string_view key, std::string_view def = "") {
  std::string_view v;
  if (obj[key].get_string().get(v) != simdjson::SUCCESS) return def;
  return v;
}
bool GetBool(element obj, std::string_view key, bool def) {
  bool v;
  if (obj[key].get_bool().get(v) != simdjson::SUCCESS) return def;
  return v;
}
int64_t GetInt(element obj, std::string_view key, int64_t def) {
  int64_t v;
  if (obj[key].get_int64().get(v) != simdjson::SUCCESS) return def;
  return v;
}

absl::StatusOr<std::string_view> TypeOf(const Ctx& c, element e, std::string_view where) {
  std::string_view t;
  if (e["type"].get_string().get(t) != simdjson::SUCCESS) return c.Corrupt(where, "missing \"type\"");
  return t;
}

// A {"String": s} or {"Regex": r} pattern.
absl::Status ReadPattern(const Ctx& c, element e, std::string_view where, std::string* literal,
                         std::shared_ptr<const Regex>* regex) {
  std::string_view s;
  if (e["String"].get_string().get(s) == simdjson::SUCCESS) {
    *literal = std::string(s);
    return absl::OkStatus();
  }
  if (e["Regex"].get_string().get(s) == simdjson::SUCCESS) {
    ASSIGN_OR_RETURN(auto re, Regex::Compile(s));
    *regex = std::move(re);
    return absl::OkStatus();
  }
  return c.Corrupt(where, "pattern is neither {\"String\": ...} nor {\"Regex\": ...}");
}

// An optional boolean field: `def` when absent, an error when not a boolean.
absl::Status ReadFlag(const Ctx& c, element e, std::string_view where, std::string_view key, bool def, bool* out) {
  element v;
  *out = def;
  if (e[key].get(v) != simdjson::SUCCESS) return absl::OkStatus();
  if (v.get_bool().get(*out) != simdjson::SUCCESS) {
    return c.Corrupt(where, absl::StrCat("\"", ToAbsl(key), "\" is not true or false"));
  }
  return absl::OkStatus();
}

// Fields left out take HF's defaults (all true; strip_accents null).
absl::Status ReadBertNormalizer(const Ctx& c, element e, BertNormalizerOptions* o) {
  constexpr std::string_view kWhere = "normalizer BertNormalizer";
  RETURN_IF_ERROR(ReadFlag(c, e, kWhere, "clean_text", true, &o->clean_text));
  RETURN_IF_ERROR(ReadFlag(c, e, kWhere, "handle_chinese_chars", true, &o->handle_chinese_chars));
  RETURN_IF_ERROR(ReadFlag(c, e, kWhere, "lowercase", true, &o->lowercase));
  // null (or absent): strip accents exactly when lowercasing, as BERT's uncased models do.
  element sa;
  if (e["strip_accents"].get(sa) == simdjson::SUCCESS && !IsNull(sa)) {
    return ReadFlag(c, e, kWhere, "strip_accents", o->lowercase, &o->strip_accents);
  }
  o->strip_accents = o->lowercase;
  return absl::OkStatus();
}

absl::Status ReadNormalizer(const Ctx& c, element e, Normalizer* n) {
  if (IsNull(e)) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string_view type, TypeOf(c, e, "normalizer"));
  NormalizerStep st;
  if (type == "Sequence") {
    array list;
    if (e["normalizers"].get_array().get(list) != simdjson::SUCCESS) return c.Corrupt("normalizer", "Sequence without \"normalizers\"");
    for (element x : list) RETURN_IF_ERROR(ReadNormalizer(c, x, n));
    return absl::OkStatus();
  } else if (type == "NFC") {
    st.kind = NormalizerStep::Kind::kNfc;
  } else if (type == "NFD") {
    st.kind = NormalizerStep::Kind::kNfd;
  } else if (type == "NFKC") {
    st.kind = NormalizerStep::Kind::kNfkc;
  } else if (type == "NFKD") {
    st.kind = NormalizerStep::Kind::kNfkd;
  } else if (type == "Lowercase") {
    st.kind = NormalizerStep::Kind::kLowercase;
  } else if (type == "Strip") {
    st.kind = NormalizerStep::Kind::kStrip;
    st.strip_left = GetBool(e, "strip_left", true);
    st.strip_right = GetBool(e, "strip_right", true);
  } else if (type == "Replace") {
    st.kind = NormalizerStep::Kind::kReplace;
    element pat;
    if (e["pattern"].get(pat) != simdjson::SUCCESS) return c.Corrupt("normalizer", "Replace without \"pattern\"");
    RETURN_IF_ERROR(ReadPattern(c, pat, "normalizer Replace", &st.pattern, &st.regex));
    st.content = std::string(GetStr(e, "content"));
  } else if (type == "Prepend") {
    st.kind = NormalizerStep::Kind::kPrepend;
    st.content = std::string(GetStr(e, "prepend"));
  } else if (type == "Precompiled") {
    std::string blob;
    std::string_view b64 = GetStr(e, "precompiled_charsmap");
    if (!b64.empty() && !DecodeBase64(b64, &blob)) {
      return c.Corrupt("normalizer Precompiled", "precompiled_charsmap is not base64");
    }
    ASSIGN_OR_RETURN(PrecompiledCharsmap map, PrecompiledCharsmap::Parse(blob, c.source));
    if (map.empty()) return absl::OkStatus();
    st.kind = NormalizerStep::Kind::kPrecompiled;
    st.charsmap = std::make_shared<const PrecompiledCharsmap>(std::move(map));
  } else if (type == "BertNormalizer") {
    st.kind = NormalizerStep::Kind::kBert;
    RETURN_IF_ERROR(ReadBertNormalizer(c, e, &st.bert));
  } else if (type == "StripAccents") {
    st.kind = NormalizerStep::Kind::kStripAccents;
  } else {
    return c.Unsupported("normalizer", type);
  }
  n->Add(std::move(st));
  return absl::OkStatus();
}

absl::StatusOr<SplitBehavior> ReadBehavior(const Ctx& c, std::string_view b) {
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return c.Corrupt("pre_tokenizer Split", absl::StrCat("unknown behavior \"", ToAbsl(b), "\""));
}

absl::Status AddRegexSplit(PreTokenizer* p, std::string_view pattern, SplitBehavior b, bool invert) {
  PreTokenizeStep st;
  st.kind = PreTokenizeStep::Kind::kSplit;
  ASSIGN_OR_RETURN(auto re, Regex::Compile(pattern));
  st.regex = std::move(re);
  st.behavior = b;
  st.invert = invert;
  p->Add(std::move(st));
  return absl::OkStatus();
}

void AddCharSplit(PreTokenizer* p, PreTokenizeStep::CharClass cls, SplitBehavior b) {
  PreTokenizeStep st;
  st.kind = PreTokenizeStep::Kind::kCharSplit;
  st.char_class = cls;
  st.behavior = b;
  p->Add(std::move(st));
}

absl::Status ReadPreTokenizer(const Ctx& c, element e, PreTokenizer* p, bool* byte_level) {
  if (IsNull(e)) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string_view type, TypeOf(c, e, "pre_tokenizer"));
  if (type == "Sequence") {
    array list;
    if (e["pretokenizers"].get_array().get(list) != simdjson::SUCCESS) return c.Corrupt("pre_tokenizer", "Sequence without \"pretokenizers\"");
    for (element x : list) RETURN_IF_ERROR(ReadPreTokenizer(c, x, p, byte_level));
    return absl::OkStatus();
  }
  if (type == "Split") {
    PreTokenizeStep st;
    element pat;
    if (e["pattern"].get(pat) != simdjson::SUCCESS) return c.Corrupt("pre_tokenizer", "Split without \"pattern\"");
    RETURN_IF_ERROR(ReadPattern(c, pat, "pre_tokenizer Split", &st.literal, &st.regex));
    ASSIGN_OR_RETURN(st.behavior, ReadBehavior(c, GetStr(e, "behavior", "Isolated")));
    st.invert = GetBool(e, "invert", false);
    p->Add(std::move(st));
    return absl::OkStatus();
  }
  if (type == "ByteLevel") {
    *byte_level = true;
    PreTokenizeStep st;
    st.kind = PreTokenizeStep::Kind::kByteLevel;
    st.add_prefix_space = GetBool(e, "add_prefix_space", true);
    if (GetBool(e, "use_regex", true)) {
      ASSIGN_OR_RETURN(auto re, Regex::Compile(kGpt2Pattern));
      st.regex = std::move(re);
    }
    p->Add(std::move(st));
    return absl::OkStatus();
  }
  if (type == "Metaspace") {
    PreTokenizeStep st;
    st.kind = PreTokenizeStep::Kind::kMetaspace;
    st.replacement = std::string(GetStr(e, "replacement", "\xE2\x96\x81"));
    std::string_view scheme = GetStr(e, "prepend_scheme", "");
    if (scheme.empty()) {
      st.prepend = GetBool(e, "add_prefix_space", true) ? PreTokenizeStep::Prepend::kAlways : PreTokenizeStep::Prepend::kNever;
    } else if (scheme == "always") {
      st.prepend = PreTokenizeStep::Prepend::kAlways;
    } else if (scheme == "first") {
      st.prepend = PreTokenizeStep::Prepend::kFirst;
    } else if (scheme == "never") {
      st.prepend = PreTokenizeStep::Prepend::kNever;
    } else {
      return c.Corrupt("pre_tokenizer Metaspace", absl::StrCat("unknown prepend_scheme \"", ToAbsl(scheme), "\""));
    }
    st.split = GetBool(e, "split", true);
    p->Add(std::move(st));
    return absl::OkStatus();
  }
  // Rust's char::is_numeric is \p{N}; Digits isolates each digit or each run.
  if (type == "Digits") {
    return AddRegexSplit(p, GetBool(e, "individual_digits", false) ? "\\p{N}" : "\\p{N}+", SplitBehavior::kIsolated, false);
  }
  if (type == "Punctuation") {
    ASSIGN_OR_RETURN(SplitBehavior b, ReadBehavior(c, GetStr(e, "behavior", "Isolated")));
    AddCharSplit(p, PreTokenizeStep::CharClass::kPunctuation, b);
    return absl::OkStatus();
  }
  if (type == "Whitespace") {
    AddCharSplit(p, PreTokenizeStep::CharClass::kWordRuns, SplitBehavior::kRemoved);
    return absl::OkStatus();
  }
  if (type == "WhitespaceSplit" || type == "BertPreTokenizer") {
    AddCharSplit(p, PreTokenizeStep::CharClass::kWhitespace, SplitBehavior::kRemoved);
    if (type == "BertPreTokenizer") AddCharSplit(p, PreTokenizeStep::CharClass::kPunctuation, SplitBehavior::kIsolated);
    return absl::OkStatus();
  }
  return c.Unsupported("pre_tokenizer", type);
}

absl::StatusOr<uint32_t> SpecialId(const Ctx& c, element specials, std::string_view name, std::vector<uint32_t>* out) {
  element tok;
  if (specials[name].get(tok) != simdjson::SUCCESS) {
    return c.Corrupt("post_processor", absl::StrCat("template names special token \"", ToAbsl(name), "\" not in special_tokens"));
  }
  array ids;
  if (tok["ids"].get_array().get(ids) != simdjson::SUCCESS) return c.Corrupt("post_processor", "special token without \"ids\"");
  for (element x : ids) {
    uint64_t v;
    if (x.get_uint64().get(v) != simdjson::SUCCESS || v > UINT32_MAX) return c.Corrupt("post_processor", "bad special token id");
    out->push_back(static_cast<uint32_t>(v));
  }
  return 0u;
}

absl::Status ReadPost(const Ctx& c, element e, PostProcessor* post) {
  if (IsNull(e)) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string_view type, TypeOf(c, e, "post_processor"));
  if (post->type.empty()) post->type = std::string(type);
  if (type == "Sequence") {
    array list;
    if (e["processors"].get_array().get(list) != simdjson::SUCCESS) return c.Corrupt("post_processor", "Sequence without \"processors\"");
    for (element x : list) RETURN_IF_ERROR(ReadPost(c, x, post));
    return absl::OkStatus();
  }
  if (type == "ByteLevel") return absl::OkStatus();  // offsets only
  if (type == "TemplateProcessing") {
    array single;
    if (e["single"].get_array().get(single) != simdjson::SUCCESS) return c.Corrupt("post_processor", "TemplateProcessing without \"single\"");
    element specials = e["special_tokens"].value_unsafe();
    bool after = false;
    for (element piece : single) {
      element x;
      if (piece["Sequence"].get(x) == simdjson::SUCCESS) {
        after = true;
      } else if (piece["SpecialToken"].get(x) == simdjson::SUCCESS) {
        RETURN_IF_ERROR(SpecialId(c, specials, GetStr(x, "id"), after ? &post->suffix : &post->prefix).status());
      } else {
        return c.Corrupt("post_processor", "template piece is neither Sequence nor SpecialToken");
      }
    }
    return absl::OkStatus();
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    array cls, sep;
    uint64_t cid, sid;
    if (e["cls"].get_array().get(cls) != simdjson::SUCCESS || e["sep"].get_array().get(sep) != simdjson::SUCCESS ||
        cls.at(1).get_uint64().get(cid) != simdjson::SUCCESS || sep.at(1).get_uint64().get(sid) != simdjson::SUCCESS) {
      return c.Corrupt("post_processor", absl::StrCat(ToAbsl(type), " without [token, id] cls/sep"));
    }
    post->prefix.push_back(static_cast<uint32_t>(cid));
    post->suffix.push_back(static_cast<uint32_t>(sid));
    return absl::OkStatus();
  }
  return c.Unsupported("post_processor", type);
}

absl::Status ReadDecoder(const Ctx& c, element e, Decoder* d) {
  if (IsNull(e)) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::string_view type, TypeOf(c, e, "decoder"));
  DecoderStep st;
  if (type == "Sequence") {
    array list;
    if (e["decoders"].get_array().get(list) != simdjson::SUCCESS) return c.Corrupt("decoder", "Sequence without \"decoders\"");
    for (element x : list) RETURN_IF_ERROR(ReadDecoder(c, x, d));
    return absl::OkStatus();
  } else if (type == "ByteLevel") {
    st.kind = DecoderStep::Kind::kByteLevel;
  } else if (type == "Replace") {
    st.kind = DecoderStep::Kind::kReplace;
    std::shared_ptr<const Regex> re;
    element pat;
    if (e["pattern"].get(pat) != simdjson::SUCCESS) return c.Corrupt("decoder", "Replace without \"pattern\"");
    RETURN_IF_ERROR(ReadPattern(c, pat, "decoder Replace", &st.pattern, &re));
    if (re) return c.Unsupported("decoder", "Replace with a Regex pattern");
    st.content = std::string(GetStr(e, "content"));
  } else if (type == "ByteFallback") {
    st.kind = DecoderStep::Kind::kByteFallback;
  } else if (type == "Fuse") {
    st.kind = DecoderStep::Kind::kFuse;
  } else if (type == "Strip") {
    st.kind = DecoderStep::Kind::kStrip;
    st.content = std::string(GetStr(e, "content", " "));
    st.start = static_cast<int>(GetInt(e, "start", 0));
    st.stop = static_cast<int>(GetInt(e, "stop", 0));
  } else if (type == "WordPiece") {
    st.kind = DecoderStep::Kind::kWordPiece;
    st.content = std::string(GetStr(e, "prefix", "##"));
    RETURN_IF_ERROR(ReadFlag(c, e, "decoder WordPiece", "cleanup", true, &st.cleanup));
  } else if (type == "Metaspace") {
    st.kind = DecoderStep::Kind::kMetaspace;
    st.content = std::string(GetStr(e, "replacement", "\xE2\x96\x81"));
    std::string_view scheme = GetStr(e, "prepend_scheme", "");
    st.prepend = scheme.empty() ? GetBool(e, "add_prefix_space", true) : scheme != "never";
  } else {
    return c.Unsupported("decoder", type);
  }
  d->Add(std::move(st));
  return absl::OkStatus();
}

// The top level must hold a BPE model without the options llmtk does not
// implement (truncation, dropout, subword prefix/suffix); returns the model.
absl::StatusOr<element> BpeModelOf(const Ctx& c, element root) {
  if (root.type() != simdjson::dom::element_type::OBJECT) return c.Corrupt("top level", "not a JSON object");
  element trunc;
  if (root["truncation"].get(trunc) == simdjson::SUCCESS && !IsNull(trunc)) {
    return absl::UnimplementedError(absl::StrCat(c.source, ": truncation is set; llmtk encodes whole documents (set \"truncation\": null)"));
  }
  element model;
  if (root["model"].get(model) != simdjson::SUCCESS || model.type() != simdjson::dom::element_type::OBJECT) {
    return c.Corrupt("model", "missing or not an object");
  }
  std::string_view mtype = GetStr(model, "type", "");
  if (mtype.empty() && model["merges"].error() == simdjson::SUCCESS) mtype = "BPE";
  if (mtype == "Unigram" || mtype == "WordPiece") return model;
  if (mtype != "BPE") {
    return absl::UnimplementedError(absl::StrCat(c.source, ": model type \"", ToAbsl(mtype),
                                                 "\" is not supported (llmtk implements BPE, Unigram and WordPiece)"));
  }
  double dropout = 0;
  if (model["dropout"].get_double().get(dropout) == simdjson::SUCCESS && dropout > 0) {
    return absl::UnimplementedError(absl::StrCat(c.source, ": BPE dropout is not supported"));
  }
  if (!GetStr(model, "continuing_subword_prefix").empty() || !GetStr(model, "end_of_word_suffix").empty()) {
    return absl::UnimplementedError(absl::StrCat(c.source, ": BPE continuing_subword_prefix/end_of_word_suffix are not supported"));
  }
  return model;
}

// The normalizer, pre-tokenizer, post-processor and decoder, each optional.
absl::Status ReadPipeline(const Ctx& c, element root, TokenizerParts* parts, bool* byte_level) {
  element e;
  if (root["normalizer"].get(e) == simdjson::SUCCESS) RETURN_IF_ERROR(ReadNormalizer(c, e, &parts->normalizer));
  if (root["pre_tokenizer"].get(e) == simdjson::SUCCESS) RETURN_IF_ERROR(ReadPreTokenizer(c, e, &parts->pre_tokenizer, byte_level));
  if (root["post_processor"].get(e) == simdjson::SUCCESS) RETURN_IF_ERROR(ReadPost(c, e, &parts->post));
  if (root["decoder"].get(e) == simdjson::SUCCESS) RETURN_IF_ERROR(ReadDecoder(c, e, &parts->decoder));
  return absl::OkStatus();
}

// model.vocab: the id of each token (views into the parsed document) and the
// tokens by id (ids not given stay empty).
absl::Status ReadVocab(const Ctx& c, element model, absl::flat_hash_map<std::string_view, uint32_t>* ids,
                       std::vector<std::string>* tokens) {
  object vocab;
  if (model["vocab"].get_object().get(vocab) != simdjson::SUCCESS) return c.Corrupt("model.vocab", "missing or not an object");
  ids->reserve(vocab.size());
  uint64_t max_id = 0;
  for (auto [k, v] : vocab) {
    uint64_t id;
    if (v.get_uint64().get(id) != simdjson::SUCCESS || id >= (1u << 31)) {
      return c.Corrupt("model.vocab", absl::StrCat("token \"", ToAbsl(std::string_view(k)), "\" has no valid id"));
    }
    ids->try_emplace(k, static_cast<uint32_t>(id));
    max_id = std::max(max_id, id);
  }
  tokens->assign(vocab.size() == 0 ? 0 : max_id + 1, std::string());
  for (auto [k, id] : *ids) (*tokens)[id] = std::string(k);
  return absl::OkStatus();
}

// model.merges, as "a b" strings or [a, b] pairs, ranked in order.
absl::StatusOr<std::vector<BpeMerge>> ReadMerges(const Ctx& c, element model,
                                                 const absl::flat_hash_map<std::string_view, uint32_t>& ids) {
  array merges_json;
  if (model["merges"].get_array().get(merges_json) != simdjson::SUCCESS) return c.Corrupt("model.merges", "missing or not an array");
  std::vector<BpeMerge> merges;
  merges.reserve(merges_json.size());
  uint32_t rank = 0;
  for (element m : merges_json) {
    std::string_view a, b, s;
    if (m.get_string().get(s) == simdjson::SUCCESS) {
      size_t sp = s.find(' ', 1);
      if (sp == std::string_view::npos) return c.Corrupt("model.merges", absl::StrCat("merge ", rank, " \"", ToAbsl(s), "\" has no space"));
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else {
      array pair;
      if (m.get_array().get(pair) != simdjson::SUCCESS || pair.size() != 2 || pair.at(0).get_string().get(a) != simdjson::SUCCESS ||
          pair.at(1).get_string().get(b) != simdjson::SUCCESS) {
        return c.Corrupt("model.merges", absl::StrCat("merge ", rank, " is neither \"a b\" nor [a, b]"));
      }
    }
    auto ia = ids.find(a), ib = ids.find(b);
    if (ia == ids.end() || ib == ids.end()) {
      return c.Corrupt("model.merges", absl::StrCat("merge ", rank, " (\"", ToAbsl(a), " ", ToAbsl(b),
                                                    "\") uses a token that is not in the vocabulary"));
    }
    merges.push_back({ia->second, ib->second, rank++});
  }
  return merges;
}

// model of type WordPiece: unk_token (must be in the vocabulary),
// continuing_subword_prefix, max_input_chars_per_word; HF's defaults when
// absent ("[UNK]", "##", 100).
absl::Status ReadWordPiece(const Ctx& c, element model, const absl::flat_hash_map<std::string_view, uint32_t>& ids,
                           std::vector<std::string> tokens, TokenizerParts* parts) {
  WordPieceOptions opt;
  element v;
  std::string_view unk = "[UNK]";
  if (model["unk_token"].get(v) == simdjson::SUCCESS && v.get_string().get(unk) != simdjson::SUCCESS) {
    return c.Corrupt("model.unk_token", "not a string");
  }
  auto it = ids.find(unk);
  if (it == ids.end()) {
    return c.Corrupt("model.unk_token", absl::StrCat("\"", ToAbsl(unk), "\" is not in model.vocab (WordPiece needs it for words it cannot split)"));
  }
  opt.unk_id = it->second;
  parts->unk_id = it->second;
  if (model["continuing_subword_prefix"].get(v) == simdjson::SUCCESS) {
    std::string_view p;
    if (v.get_string().get(p) != simdjson::SUCCESS) return c.Corrupt("model.continuing_subword_prefix", "not a string");
    opt.continuing_subword_prefix = std::string(p);
  }
  if (model["max_input_chars_per_word"].get(v) == simdjson::SUCCESS) {
    uint64_t n;
    if (v.get_uint64().get(n) != simdjson::SUCCESS) {
      return c.Corrupt("model.max_input_chars_per_word", "not a non-negative integer");
    }
    opt.max_input_chars_per_word = static_cast<size_t>(n);
  }
  parts->token_text = tokens;
  ASSIGN_OR_RETURN(parts->model, WordPieceModel::Build(std::move(tokens), opt, c.source));
  bool lower = false;
  for (const NormalizerStep& st : parts->normalizer.steps())
    lower |= st.kind == NormalizerStep::Kind::kLowercase || (st.kind == NormalizerStep::Kind::kBert && st.bert.lowercase);
  parts->description = absl::StrCat("WordPiece", lower ? ", uncased" : "");
  return absl::OkStatus();
}

absl::Status ReadAddedTokens(const Ctx& c, element root, AddedVocabulary* added_vocab) {
  array added;
  if (root["added_tokens"].get_array().get(added) != simdjson::SUCCESS) return absl::OkStatus();
  for (element t : added) {
    AddedToken at;
    uint64_t id;
    std::string_view content;
    if (t["id"].get_uint64().get(id) != simdjson::SUCCESS || t["content"].get_string().get(content) != simdjson::SUCCESS ||
        id >= (1u << 31)) {
      return c.Corrupt("added_tokens", "entry without a valid \"id\" and \"content\"");
    }
    at.id = static_cast<uint32_t>(id);
    at.content = std::string(content);
    at.special = GetBool(t, "special", false);
    at.lstrip = GetBool(t, "lstrip", false);
    at.rstrip = GetBool(t, "rstrip", false);
    at.single_word = GetBool(t, "single_word", false);
    at.normalized = GetBool(t, "normalized", !at.special);
    added_vocab->Add(std::move(at));
  }
  return absl::OkStatus();
}

// BOS/EOS: the post-processor's, else special tokens by their usual names
// (tokenizer.json does not name them; tokenizer_config.json does).
void FindBosEos(TokenizerParts* parts) {
  if (!parts->post.prefix.empty()) parts->bos_id = parts->post.prefix.front();
  if (!parts->post.suffix.empty()) parts->eos_id = parts->post.suffix.back();
  auto by_name = [&](std::initializer_list<std::string_view> names) -> std::optional<uint32_t> {
    for (std::string_view n : names)
      for (const AddedToken& t : parts->added.tokens())
        if (t.special && t.content == n) return t.id;
    return std::nullopt;
  };
  if (!parts->bos_id) parts->bos_id = by_name({"<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>"});
  if (!parts->eos_id) parts->eos_id = by_name({"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>"});
}

// A Unigram model: "vocab" as [piece, score] pairs, "unk_id" (or null),
// "byte_fallback". Scores as HF reads them (tokenizer/serde_number.h), so
// that near-ties in Viterbi break as HF's do.
absl::Status ReadUnigram(const Ctx& c, std::string_view json, element model, TokenizerParts* parts) {
  array vocab;
  if (model["vocab"].get_array().get(vocab) != simdjson::SUCCESS) return c.Corrupt("model.vocab", "missing or not an array");
  std::vector<UnigramPiece> pieces;
  pieces.reserve(vocab.size());
  for (element entry : vocab) {
    array pair;
    std::string_view text;
    double score;
    if (entry.get_array().get(pair) != simdjson::SUCCESS || pair.size() != 2 ||
        pair.at(0).get_string().get(text) != simdjson::SUCCESS || pair.at(1).get_double().get(score) != simdjson::SUCCESS) {
      return c.Corrupt("model.vocab", absl::StrCat("entry ", pieces.size(), " is not [piece, score]"));
    }
    pieces.push_back(UnigramPiece{std::string(text), score, UnigramPiece::Kind::kNormal});
    parts->token_text.emplace_back(text);
  }
  ASSIGN_OR_RETURN(std::vector<double> hf_scores, SerdeUnigramScores(json, c.source));
  if (hf_scores.size() != pieces.size()) {
    return c.Corrupt("model.vocab", absl::StrCat(pieces.size(), " entries, but ", hf_scores.size(), " scores"));
  }
  for (size_t i = 0; i < pieces.size(); ++i) pieces[i].score = hf_scores[i];
  UnigramOptions o;
  o.byte_fallback = GetBool(model, "byte_fallback", false);
  int64_t unk = GetInt(model, "unk_id", -1);
  if (unk >= 0) {
    o.unk_id = static_cast<uint32_t>(unk);
    parts->unk_id = o.unk_id;
  }
  ASSIGN_OR_RETURN(parts->model, UnigramModel::Build(std::move(pieces), o, c.source));
  parts->description = absl::StrCat("Unigram", o.byte_fallback ? ", byte fallback" : "");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(std::string_view json, const std::string& source) {
  Ctx c{source};
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  element root;
  if (auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    return absl::DataLossError(absl::StrCat(source, ": not valid JSON (", simdjson::error_message(err), ")"));
  }
  ASSIGN_OR_RETURN(element model, BpeModelOf(c, root));

  TokenizerParts parts;
  parts.source = source;
  parts.format = "tokenizer.json";
  bool byte_level = false;
  RETURN_IF_ERROR(ReadPipeline(c, root, &parts, &byte_level));

  if (GetStr(model, "type", "") == "Unigram") {
    RETURN_IF_ERROR(ReadUnigram(c, json, model, &parts));
    RETURN_IF_ERROR(ReadAddedTokens(c, root, &parts.added));
    FindBosEos(&parts);
    return std::make_unique<Tokenizer>(std::move(parts));
  }
  absl::flat_hash_map<std::string_view, uint32_t> ids;
  std::vector<std::string> tokens;
  RETURN_IF_ERROR(ReadVocab(c, model, &ids, &tokens));
  if (GetStr(model, "type") == "WordPiece") {
    RETURN_IF_ERROR(ReadWordPiece(c, model, ids, std::move(tokens), &parts));
    RETURN_IF_ERROR(ReadAddedTokens(c, root, &parts.added));
    FindBosEos(&parts);
    return std::make_unique<Tokenizer>(std::move(parts));
  }
  ASSIGN_OR_RETURN(std::vector<BpeMerge> merges, ReadMerges(c, model, ids));

  BpeOptions opt;
  opt.byte_level = byte_level;
  opt.byte_fallback = GetBool(model, "byte_fallback", false);
  opt.fuse_unk = GetBool(model, "fuse_unk", false);
  opt.ignore_merges = GetBool(model, "ignore_merges", false);
  std::string_view unk = GetStr(model, "unk_token", "");
  if (!unk.empty()) {
    auto it = ids.find(unk);
    if (it == ids.end()) return c.Corrupt("model.unk_token", absl::StrCat("\"", ToAbsl(unk), "\" is not in the vocabulary"));
    opt.unk_id = it->second;
    parts.unk_id = it->second;
  }
  parts.token_text = tokens;
  ASSIGN_OR_RETURN(parts.model, BpeModel::Build(std::move(tokens), merges, opt, source));

  RETURN_IF_ERROR(ReadAddedTokens(c, root, &parts.added));
  parts.description = absl::StrCat("BPE", byte_level ? ", byte-level" : "", opt.byte_fallback ? ", byte fallback" : "");
  FindBosEos(&parts);
  return std::make_unique<Tokenizer>(std::move(parts));
}

}  // namespace llmtk
