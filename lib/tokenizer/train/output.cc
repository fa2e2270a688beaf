#include "lib/tokenizer/train/output.h"

#include "lib/tokenizer/train/alphabet.h"
#include "lib/formats/gguf_writer.h"
#include "lib/formats/gguf_keys.h"
#include "lib/formats/gguf_vocab.h"
#include "lib/base/io.h"
#include "lib/base/json_writer.h"

namespace llmtk {

std::string TokenizerJson(const TrainedBpe& model, const std::string& split_pattern) {
  JsonWriter j;
  j.BeginObject();
  j.Key("version").String("1.0");
  j.Key("truncation").Null();
  j.Key("padding").Null();
  j.Key("added_tokens").BeginArray();
  for (int i = 0; i < model.num_special; ++i) {
    j.BeginObject();
    j.Key("id").Int(i);
    j.Key("content").String(model.tokens[i]);
    j.Key("single_word").Bool(false);
    j.Key("lstrip").Bool(false);
    j.Key("rstrip").Bool(false);
    j.Key("normalized").Bool(false);
    j.Key("special").Bool(true);
    j.EndObject();
  }
  j.EndArray();
  if (model.style == BpeStyle::kSentencePiece) {
    // Llama 2's current form: Prepend + Replace normalizers, no
    // pre-tokenizer (no merge crosses a "▁" word start, so BPE over the
    // whole text equals BPE per word), a byte-fallback decoder chain.
    j.Key("normalizer").BeginObject();
    j.Key("type").String("Sequence");
    j.Key("normalizers").BeginArray();
    j.BeginObject().Key("type").String("Prepend").Key("prepend").String(kMetaspace).EndObject();
    j.BeginObject().Key("type").String("Replace");
    j.Key("pattern").BeginObject().Key("String").String(" ").EndObject();
    j.Key("content").String(kMetaspace).EndObject();
    j.EndArray();
    j.EndObject();
    j.Key("pre_tokenizer").Null();
    j.Key("post_processor").Null();
    j.Key("decoder").BeginObject();
    j.Key("type").String("Sequence");
    j.Key("decoders").BeginArray();
    j.BeginObject().Key("type").String("Replace");
    j.Key("pattern").BeginObject().Key("String").String(kMetaspace).EndObject();
    j.Key("content").String(" ").EndObject();
    j.BeginObject().Key("type").String("ByteFallback").EndObject();
    j.BeginObject().Key("type").String("Fuse").EndObject();
    j.BeginObject().Key("type").String("Strip").Key("content").String(" ");
    j.Key("start").Int(1).Key("stop").Int(0).EndObject();
    j.EndArray();
    j.EndObject();
  } else {
    j.Key("normalizer").Null();
    j.Key("pre_tokenizer").BeginObject();
    j.Key("type").String("Sequence");
    j.Key("pretokenizers").BeginArray();
    j.BeginObject();
    j.Key("type").String("Split");
    j.Key("pattern").BeginObject().Key("Regex").String(split_pattern).EndObject();
    j.Key("behavior").String("Isolated");
    j.Key("invert").Bool(false);
    j.EndObject();
    j.BeginObject();
    j.Key("type").String("ByteLevel");
    j.Key("add_prefix_space").Bool(false);
    j.Key("trim_offsets").Bool(true);
    j.Key("use_regex").Bool(false);
    j.EndObject();
    j.EndArray();
    j.EndObject();
    j.Key("post_processor").Null();
    j.Key("decoder").BeginObject();
    j.Key("type").String("ByteLevel");
    j.Key("add_prefix_space").Bool(true);
    j.Key("trim_offsets").Bool(true);
    j.Key("use_regex").Bool(true);
    j.EndObject();
  }
  j.Key("model").BeginObject();
  j.Key("type").String("BPE");
  j.Key("dropout").Null();
  const bool sp = model.style == BpeStyle::kSentencePiece;
  if (sp) {
    j.Key("unk_token").String("<unk>");
  } else {
    j.Key("unk_token").Null();
  }
  j.Key("continuing_subword_prefix").Null();
  j.Key("end_of_word_suffix").Null();
  j.Key("fuse_unk").Bool(sp);
  j.Key("byte_fallback").Bool(sp);
  j.Key("ignore_merges").Bool(false);
  j.Key("vocab").BeginObject();
  for (size_t i = 0; i < model.tokens.size(); ++i) j.Key(model.tokens[i]).Int(i);
  j.EndObject();
  j.Key("merges").BeginArray();
  std::string m;
  for (const auto& [a, b] : model.merges) {
    m.assign(model.tokens[a]);
    m += ' ';
    m += model.tokens[b];
    j.String(m);
  }
  j.EndArray();
  j.EndObject();
  j.EndObject();
  std::string out = j.Take();
  out += '\n';
  return out;
}

absl::Status WriteTokenizerJson(const TrainedBpe& model, const std::string& split_pattern,
                                const std::string& path) {
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(path));
  RETURN_IF_ERROR(out->Write(TokenizerJson(model, split_pattern)));
  return out->Close();
}

absl::StatusOr<std::string> GgufPreType(const std::string& pre_tokenizer) {
  if (pre_tokenizer == "llama3") return std::string("llama-bpe");
  if (pre_tokenizer == "gpt2") return std::string("gpt-2");
  if (pre_tokenizer == "qwen2") return std::string("qwen2");
  return absl::UnimplementedError(absl::StrCat(
      "--gguf: llama.cpp has no ", ToAbsl(GgufKeyName(GgufKey::kTokenizerPre)), " type for the pre-tokenizer '",
      pre_tokenizer,
      "' and a GGUF cannot carry the regex; use --pre-tokenizer llama3, gpt2 or qwen2, or "
      "write tokenizer.json"));
}

std::vector<float> SentencePieceScores(const TrainedBpe& model) {
  const size_t first_merged = static_cast<size_t>(model.num_special + model.alphabet_size);
  const size_t merged = model.tokens.size() - first_merged;
  std::vector<float> scores(model.tokens.size(), 0.0f);
  // Characters: below every merged token, in id order (never compared with
  // each other: llama.cpp only looks up scores of two-symbol concatenations).
  for (size_t id = model.num_special + 256; id < first_merged; ++id) {
    scores[id] = -static_cast<float>(merged + (id - model.num_special - 256));
  }
  // Exact in a float up to 2^24 merged tokens, far beyond any vocabulary.
  for (size_t k = 0; k < merged; ++k) scores[first_merged + k] = -static_cast<float>(k);
  return scores;
}

namespace {

GgufVocab SentencePieceVocab(const TrainedBpe& model) {
  GgufVocab v;
  v.model = "llama";
  v.pre = "default";
  v.tokens = model.tokens;
  v.scores = SentencePieceScores(model);
  std::vector<int32_t> types(model.tokens.size(), kGgufTokenNormal);
  for (int i = 0; i < model.num_special; ++i) {
    types[i] = model.tokens[i] == "<unk>" ? kGgufTokenUnknown : kGgufTokenControl;
  }
  for (int b = 0; b < 256; ++b) types[model.num_special + b] = kGgufTokenByte;
  v.token_types = std::move(types);
  // llama.cpp defaults these to 0, 1, 2 for "llama" vocabularies; say which
  // they are when the tokens exist, whatever --special-tokens put where.
  for (int i = 0; i < model.num_special; ++i) {
    const std::string& t = model.tokens[i];
    if (t == "<unk>") v.set_special_id(GgufSpecialToken::kUnknown, i);
    if (t == "<s>") v.set_special_id(GgufSpecialToken::kBos, i);
    if (t == "</s>") v.set_special_id(GgufSpecialToken::kEos, i);
  }
  // tokenizer.json has no post-processor: no BOS/EOS, so that both encode
  // alike with add_special (llama.cpp's default for "llama" is add_bos true).
  v.add_bos = false;
  v.add_eos = false;
  v.add_space_prefix = true;
  return v;
}

absl::StatusOr<GgufVocab> ByteLevelVocab(const TrainedBpe& model, const std::string& pre_tokenizer) {
  GgufVocab v;
  ASSIGN_OR_RETURN(std::string pre, GgufPreType(pre_tokenizer));
  v.model = "gpt2";
  v.pre = std::move(pre);
  v.tokens = model.tokens;
  std::vector<int32_t> types(model.tokens.size(), kGgufTokenNormal);
  for (int i = 0; i < model.num_special; ++i) types[i] = kGgufTokenControl;
  v.token_types = std::move(types);
  std::vector<std::string> merges;
  merges.reserve(model.merges.size());
  for (const auto& [a, b] : model.merges) merges.push_back(model.tokens[a] + " " + model.tokens[b]);
  v.merges = std::move(merges);
  return v;
}

}  // namespace

absl::Status WriteGgufVocab(const TrainedBpe& model, const std::string& pre_tokenizer,
                            const std::string& path) {
  GgufMetadata md;
  md.SetString(GgufKeyName(GgufKey::kGeneralArchitecture), "llama");
  md.SetString(GgufKeyName(GgufKey::kGeneralName), "llmtk-tok trained BPE");
  if (model.style == BpeStyle::kSentencePiece) {
    SetGgufVocab(SentencePieceVocab(model), &md);
  } else {
    ASSIGN_OR_RETURN(GgufVocab v, ByteLevelVocab(model, pre_tokenizer));
    SetGgufVocab(v, &md);
  }
  return WriteGguf(path, md, {}, [](size_t, uint8_t*, size_t) { return absl::OkStatus(); });
}

}  // namespace llmtk
