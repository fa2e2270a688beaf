#include "tools/tok/tok_tool.h"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/common/cli.h"
#include "lib/base/parallel.h"
#include "lib/formats/token_files.h"
#include "lib/tokenizer/tokenizer.h"
#include "tools/tok/doc_batch.h"

namespace llmtk {
namespace {

// Switches without a default, so that a new step kind is a compile warning
// here, not an out-of-range name.
const char* NormalizerName(NormalizerStep::Kind k) {
  using K = NormalizerStep::Kind;
  switch (k) {
    case K::kNfc: return "NFC";
    case K::kNfd: return "NFD";
    case K::kNfkc: return "NFKC";
    case K::kNfkd: return "NFKD";
    case K::kLowercase: return "Lowercase";
    case K::kStrip: return "Strip";
    case K::kReplace: return "Replace";
    case K::kPrepend: return "Prepend";
    case K::kPrecompiled: return "Precompiled";
    case K::kSentencePiece: return "SentencePiece";
    case K::kBert: return "BertNormalizer";
    case K::kStripAccents: return "StripAccents";
    case K::kLlamaWpm: return "llama.cpp WPM";
  }
  return "?";
}

const char* DecoderName(DecoderStep::Kind k) {
  using K = DecoderStep::Kind;
  switch (k) {
    case K::kByteLevel: return "ByteLevel";
    case K::kReplace: return "Replace";
    case K::kByteFallback: return "ByteFallback";
    case K::kFuse: return "Fuse";
    case K::kStrip: return "Strip";
    case K::kMetaspace: return "Metaspace";
    case K::kSpmPrefix: return "SentencePiece prefix";
    case K::kWordPiece: return "WordPiece";
    case K::kLlamaCleanSpaces: return "llama.cpp clean_spaces";
  }
  return "?";
}

}  // namespace

absl::StatusOr<std::string> InspectTokenizer(const std::string& path, bool json) {
  ASSIGN_OR_RETURN(auto tok, Tokenizer::Load(path));
  const TokenizerParts& p = tok->parts();
  size_t special = 0;
  for (const AddedToken& t : p.added.tokens()) special += t.special;
  auto id_str = [&](const std::optional<uint32_t>& id) -> std::string {
    if (!id) return "none";
    return absl::StrCat(*id, " ", ToAbsl(tok->IdToToken(*id)));
  };
  std::vector<std::string> norm, pre, dec;
  for (const auto& s : p.normalizer.steps()) {
    norm.push_back(NormalizerName(s.kind));
  }
  for (const auto& s : p.pre_tokenizer.steps()) {
    if (s.kind == PreTokenizeStep::Kind::kSplit) {
      pre.push_back(s.regex ? absl::StrCat("Split(", s.regex->pattern(), ")") : absl::StrCat("Split(\"", s.literal, "\")"));
    } else if (s.kind == PreTokenizeStep::Kind::kByteLevel) {
      pre.push_back(s.regex ? "ByteLevel(gpt2 regex)" : "ByteLevel");
    } else if (s.kind == PreTokenizeStep::Kind::kMetaspace) {
      pre.push_back("Metaspace");
    } else {
      static const char* kClass[] = {"Whitespace", "Punctuation", "WordRuns"};
      pre.push_back(absl::StrCat("CharSplit(", kClass[static_cast<int>(s.char_class)], ")"));
    }
  }
  for (const auto& s : p.decoder.steps()) {
    dec.push_back(DecoderName(s.kind));
  }
  std::string prefix, suffix;
  AppendIds(&prefix, p.post.prefix, ' ');
  AppendIds(&suffix, p.post.suffix, ' ');
  if (json) {
    JsonWriter w;
    w.BeginObject().Key("source").String(p.source).Key("format").String(p.format).Key("model").String(p.description);
    w.Key("vocab_size").Uint(tok->vocab_size()).Key("model_tokens").Uint(tok->model().size());
    w.Key("merges").Uint(tok->model().merges()).Key("added_tokens").Uint(p.added.tokens().size());
    w.Key("special_tokens").Uint(special);
    auto arr = [&](std::string_view k, const std::vector<std::string>& v) {
      w.Key(k).BeginArray();
      for (const auto& x : v) w.String(x);
      w.EndArray();
    };
    arr("normalizer", norm);
    arr("pre_tokenizer", pre);
    arr("decoder", dec);
    w.Key("post_processor").String(p.post.type).Key("prefix_ids").Raw("[" + [&] { std::string s; AppendIds(&s, p.post.prefix, ','); return s; }() + "]");
    w.Key("suffix_ids").Raw("[" + [&] { std::string s; AppendIds(&s, p.post.suffix, ','); return s; }() + "]");
    auto opt = [&](std::string_view k, const std::optional<uint32_t>& id) {
      w.Key(k);
      if (id) {
        w.Uint(*id);
      } else {
        w.Null();
      }
    };
    opt("bos_id", p.bos_id);
    opt("eos_id", p.eos_id);
    opt("unk_id", p.unk_id);
    w.EndObject();
    return w.Take() + "\n";
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s.empty() ? std::string("none") : s;
  };
  std::string s;
  absl::StrAppend(&s, "source:          ", p.source, "\n");
  absl::StrAppend(&s, "format:          ", p.format, "\n");
  absl::StrAppend(&s, "model:           ", p.description, "\n");
  absl::StrAppend(&s, "vocab size:      ", tok->vocab_size(), " (", tok->model().size(), " model tokens, ",
                  tok->model().merges(), " merges)\n");
  absl::StrAppend(&s, "added tokens:    ", p.added.tokens().size(), " (", special, " special)\n");
  absl::StrAppend(&s, "normalizer:      ", join(norm), "\n");
  absl::StrAppend(&s, "pre-tokenizer:   ", join(pre), "\n");
  absl::StrAppend(&s, "decoder:         ", join(dec), "\n");
  absl::StrAppend(&s, "post-processor:  ", p.post.type.empty() ? "none" : p.post.type, " (prefix [", prefix,
                  "], suffix [", suffix, "])\n");
  absl::StrAppend(&s, "bos: ", id_str(p.bos_id), "  eos: ", id_str(p.eos_id), "  unk: ", id_str(p.unk_id), "\n");
  return s;
}

absl::Status RunInspect(const std::string& path, bool json) {
  ASSIGN_OR_RETURN(std::string s, InspectTokenizer(path, json));
  return WriteStdout(s);
}

}  // namespace llmtk
