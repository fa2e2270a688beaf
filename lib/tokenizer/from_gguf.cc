// Loading a GGUF vocabulary (formats/gguf_vocab.h) into TokenizerParts, with
// the pre-tokenizer regexes llama.cpp uses for each pre-tokenizer name.
#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/base/unicode.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_vocab.h"
#include "lib/tokenizer/llama_token_attrs.h"
#include "lib/tokenizer/llama_ugm.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/wordpiece.h"

namespace llmtk {
namespace {

constexpr std::string_view kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
constexpr std::string_view kLlama3Regex =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
constexpr std::string_view kQwen2Regex =
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// llama.cpp's LLAMA_VOCAB_PRE_TYPE_LLAMA3 names: merges are skipped for a
// word that is a token (ignore_merges), and BOS is added unless the file
// says otherwise.
bool IsLlama3Pre(std::string_view pre) {
  return pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3" || pre == "falcon3";
}

// llama.cpp's regex lists per pre-tokenizer name (llama-vocab.cpp), applied
// in sequence with isolated matches; nullopt for names we do not know.
std::optional<std::vector<std::string>> PreRegexes(std::string_view pre) {
  using V = std::vector<std::string>;
  if (pre == "gpt-2" || pre == "mpt" || pre == "olmo" || pre == "jais" || pre == "phi-2" || pre == "jina-es" ||
      pre == "jina-de" || pre == "gigachat" || pre == "jina-v1-en" || pre == "jina-v2-es" || pre == "jina-v2-de" ||
      pre == "jina-v2-code" || pre == "roberta-bpe")
    return V{std::string(kGpt2Regex)};
  if (IsLlama3Pre(pre) || pre == "dbrx" || pre == "smaug-bpe" || pre == "chatglm-bpe") return V{std::string(kLlama3Regex)};
  if (pre == "qwen2" || pre == "deepseek-r1-qwen" || pre == "stablelm2" || pre == "hunyuan" || pre == "megrez")
    return V{std::string(kQwen2Regex)};
  // poro-chat, bloom, gpt3-finnish, viking: llama.cpp runs this through
  // std::wregex with non-ASCII whitespace made \v, which is what \s means
  // here.
  constexpr std::string_view kBloom = " ?[^(\\s|.,!?\xE2\x80\xA6\xE3\x80\x82\xEF\xBC\x8C\xE3\x80\x81\xE0\xA5\xA4\xDB\x94\xD8\x8C)]+";
  if (pre == "poro-chat" || pre == "bloom" || pre == "gpt3-finnish") return V{std::string(kBloom)};
  if (pre == "viking") return V{std::string(kBloom), "\\p{N}"};
  if (pre == "tekken") {
    return V{"[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])"
             "([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
  }
  if (pre == "chameleon") {
    return V{"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
             "[\\p{P}!-/:-@\\[-`{-~]", std::string(kGpt2Regex)};
  }
  if (pre == "deepseek-v3") {
    // llama.cpp matches \p{..} on a collapsed text whose ASCII symbols are
    // $+<=>^`| only: '~' is no \p{S} there, so the classes treat it apart.
    return V{"\\p{N}{1,3}", "[\xE4\xB8\x80-\xE9\xBE\xA5\xE3\x81\x80-\xE3\x82\x9F\xE3\x82\xA0-\xE3\x83\xBF]+",
             "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|(?:~|[^\\r\\n\\p{L}\\p{P}\\p{S}])?[\\p{L}\\p{M}]+| "
             "?(?:(?!~)[\\p{P}\\p{S}])+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
  }
  if (pre == "starcoder" || pre == "refact" || pre == "command-r" || pre == "smollm" || pre == "codeshell" ||
      pre == "exaone" || pre == "minerva-7b")
    return V{"\\p{N}", std::string(kGpt2Regex)};
  // llama.cpp's LLAMA_VOCAB_PRE_TYPE_DEFAULT: a "gpt2" vocabulary whose pre
  // key is "default" or missing (older conversions, e.g. ggml-vocab-gpt-neox).
  if (pre == "default")
    return V{"[\\p{P}\\$\\+<=>\\^~\\|]+", std::string(kGpt2Regex), "\\p{N}+", "[0-9][0-9][0-9]"};
  if (pre == "falcon")
    return V{"[\\p{P}\\$\\+<=>\\^~\\|`]+", std::string(kGpt2Regex), "[0-9][0-9][0-9]"};
  if (pre == "deepseek-coder")
    return V{"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[\xE4\xB8\x80-\xE9\xBE\xA5\xE0\xA0\x80-\xE4\xB8\x80\xEA\xB0\x80-\xED\x9F\xBF]+",
             "\\p{N}"};
  if (pre == "deepseek-llm")
    return V{"[\\r\\n]",
             "\\s?[A-Za-z\xC2\xB5\xC3\x80-\xC3\x96\xC3\x98-\xC3\xB6\xC3\xB8-\xC6\xBA\xC6\xBC-\xC6\xBF\xC7\x84-\xCA\x93"
             "\xCA\x95-\xCA\xAF\xCD\xB0-\xCD\xB3\xCD\xB6\xCD\xB7\xCD\xBB-\xCD\xBD\xCD\xBF\xCE\x86\xCE\x88-\xCE\x8A\xCE\x8C"
             "\xCE\x8E-\xCE\xA1\xCE\xA3-\xCF\xB5\xCF\xB7-\xD2\x81\xD2\x8A-\xD4\xAF\xD4\xB1-\xD5\x96\xE1\x82\xA0-\xE1\x83\x85"
             "\xE1\x8E\xA0-\xE1\x8F\xB5\xE1\x8F\xB8-\xE1\x8F\xBD\xE1\xB2\x90-\xE1\xB2\xBA\xE1\xB2\xBD-\xE1\xB2\xBF"
             "\xE1\xB4\x80-\xE1\xB4\xAB\xE1\xB5\xAB-\xE1\xB5\xB7\xE1\xB5\xB9-\xE1\xB6\x9A\xE1\xB8\x80-\xE1\xBC\x95"
             "\xE1\xBC\x98-\xE1\xBC\x9D\xE1\xBC\xA0-\xE1\xBD\x85\xE1\xBD\x88-\xE1\xBD\x8D\xE1\xBD\x90-\xE1\xBD\x97"
             "\xE1\xBD\x99\xE1\xBD\x9B\xE1\xBD\x9D\xE1\xBD\x9F-\xE1\xBD\xBD\xE1\xBE\x80-\xE1\xBE\xB4\xE1\xBE\xB6-\xE1\xBE\xBC"
             "\xE1\xBE\xBE\xE1\xBF\x82-\xE1\xBF\x84\xE1\xBF\x86-\xE1\xBF\x8C\xE1\xBF\x90-\xE1\xBF\x93\xE1\xBF\x96-\xE1\xBF\x9B"
             "\xE1\xBF\xA0-\xE1\xBF\xAC\xE1\xBF\xB2-\xE1\xBF\xB4\xE1\xBF\xB6-\xE1\xBF\xBC\xE2\x84\x82\xE2\x84\x87"
             "\xE2\x84\x8A-\xE2\x84\x93\xE2\x84\x95\xE2\x84\x99-\xE2\x84\x9D\xE2\x84\xA4\xE2\x84\xA6\xE2\x84\xA8"
             "\xE2\x84\xAA-\xE2\x84\xAD\xE2\x84\xAF-\xE2\x84\xB4\xE2\x84\xB9\xE2\x84\xBC-\xE2\x84\xBF\xE2\x85\x85-\xE2\x85\x89"
             "\xE2\x85\x8E\xE2\x86\x83\xE2\x86\x84\xE2\xB0\x80-\xE2\xB1\xBB\xE2\xB1\xBE-\xE2\xB3\xA4\xE2\xB3\xAB-\xE2\xB3\xAE"
             "\xE2\xB3\xB2\xE2\xB3\xB3\xEA\x99\x80-\xEA\x99\xAD\xEA\x9A\x80-\xEA\x9A\x9B\xEA\x9C\xA2-\xEA\x9D\xAF"
             "\xEA\x9D\xB1-\xEA\x9E\x87\xEA\x9E\x8B-\xEA\x9E\x8E\xEA\xAD\xB0-\xEA\xAE\xBF\xEF\xAC\x80-\xEF\xAC\x86"
             "\xEF\xAC\x93-\xEF\xAC\x97\xEF\xBC\xA1-\xEF\xBC\xBA\xEF\xBD\x81-\xEF\xBD\x9A\xF0\x90\x90\x80-\xF0\x90\x91\x8F"
             "\xF0\x90\x92\xB0-\xF0\x90\x93\x93\xF0\x90\x93\x98-\xF0\x90\x93\xBB\xF0\x90\xB2\x80-\xF0\x90\xB2\xB2"
             "\xF0\x90\xB3\x80-\xF0\x90\xB3\xB2\xF0\x91\xA2\xA0-\xF0\x91\xA3\x9F\xF0\x9E\xA4\x80-\xF0\x9E\xA5\x83]+",
             "\\s?[!-/:-~\xEF\xBC\x81-\xEF\xBC\x8F\xEF\xBC\x9A-\xEF\xBD\x9E\xE2\x80\x98-\xE2\x80\x9F\xE3\x80\x80-\xE3\x80\x82]+",
             "\\s+$", "[\xE4\xB8\x80-\xE9\xBE\xA5\xE0\xA0\x80-\xE4\xB8\x80\xEA\xB0\x80-\xED\x9F\xBF]+", "\\p{N}+"};
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromGguf(const GgufFile& g) {
  return FromGgufVocab(ReadGgufVocab(g), g.name());
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromGgufVocab(GgufVocab v, const std::string& src) {
  auto key = [](GgufKey k) { return ToAbsl(GgufKeyName(k)); };
  auto missing = [&](GgufKey k) {
    return absl::DataLossError(absl::StrCat(src, ": no ", key(k), " (not a GGUF with a vocabulary)"));
  };
  RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerModel));
  if (!v.model) return missing(GgufKey::kTokenizerModel);
  const std::string& model_name = *v.model;
  if (model_name != "gpt2" && model_name != "llama" && model_name != "bert" && model_name != "t5") {
    return absl::UnimplementedError(absl::StrCat(src, ": ", key(GgufKey::kTokenizerModel), " \"", model_name, "\"",
                                                 " is not supported (llmtk implements BPE: \"gpt2\" and \"llama\"; "
                                                 "WordPiece: \"bert\"; Unigram: \"t5\")"));
  }
  const bool spm = model_name == "llama";
  RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerTokens));
  if (!v.tokens) return missing(GgufKey::kTokenizerTokens);
  std::vector<std::string> tokens = std::move(*v.tokens);
  const size_t n = tokens.size();
  std::vector<int32_t> types(n, kGgufTokenNormal);
  RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerTokenType));
  if (v.token_types) {
    types = std::move(*v.token_types);
    if (types.size() != n) {
      return absl::DataLossError(
          absl::StrCat(src, ": ", key(GgufKey::kTokenizerTokenType), " has ", types.size(), " entries for ", n, " tokens"));
    }
  }
  auto opt_id = [&](GgufSpecialToken t) -> absl::StatusOr<std::optional<uint32_t>> {
    RETURN_IF_ERROR(v.KeyStatus(GgufSpecialTokenKey(t)));
    std::optional<uint32_t> id = v.special_id(t);
    if (id && *id >= n) {
      return absl::DataLossError(absl::StrCat(src, ": ", key(GgufSpecialTokenKey(t)), " = ", *id,
                                              " is outside the vocabulary of ", n));
    }
    return id;
  };

  TokenizerParts parts;
  parts.source = src;
  parts.format = "gguf";
  ASSIGN_OR_RETURN(parts.bos_id, opt_id(GgufSpecialToken::kBos));
  ASSIGN_OR_RETURN(parts.eos_id, opt_id(GgufSpecialToken::kEos));
  ASSIGN_OR_RETURN(parts.unk_id, opt_id(GgufSpecialToken::kUnknown));
  RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerPre));
  const std::string pre = v.pre.value_or("default");
  RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerAddBos));
  RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerAddEos));
  // llama.cpp's default when the file has no add_bos_token key.
  const bool add_bos =
      v.add_bos.value_or(spm || IsLlama3Pre(pre) || pre == "tekken" || pre == "chameleon");
  const bool add_eos = v.add_eos.value_or(model_name == "t5");  // llama.cpp's UGM adds EOS
  parts.post.type = "gguf";
  if (add_bos && parts.bos_id) parts.post.prefix.push_back(*parts.bos_id);
  if (add_eos && parts.eos_id) parts.post.suffix.push_back(*parts.eos_id);

  absl::flat_hash_map<std::string_view, uint32_t> ids;
  for (size_t i = 0; i < n; ++i) ids.try_emplace(tokens[i], static_cast<uint32_t>(i));
  const std::string name = absl::AsciiStrToLower(v.model_name.value_or(""));
  const bool phi3_names = absl::StrContains(name, "phi-3") || absl::StrContains(name, "phi3");
  // A special-token key of the wrong type fails llama.cpp's load.
  for (GgufSpecialToken t : {GgufSpecialToken::kEot, GgufSpecialToken::kEom, GgufSpecialToken::kFimPre,
                             GgufSpecialToken::kFimSuf, GgufSpecialToken::kFimMid, GgufSpecialToken::kFimPad,
                             GgufSpecialToken::kFimRep, GgufSpecialToken::kFimSep, GgufSpecialToken::kPrefix,
                             GgufSpecialToken::kSuffix, GgufSpecialToken::kMiddle}) {
    RETURN_IF_ERROR(v.KeyStatus(GgufSpecialTokenKey(t)));
  }
  const std::vector<LlamaTokenAttr> attrs = ComputeLlamaTokenAttrs(tokens, types, LlamaSpecialIdsOf(v, n)).attrs;
  // llama.cpp matches control, user-defined and unknown tokens in the text
  // before its tokenizer runs (cache_special_tokens); control and unknown
  // ones only with parse_special, as HF matches special added tokens.
  for (size_t i = 0; i < n; ++i) {
    const LlamaTokenAttr a = attrs[i];
    if (a == LlamaTokenAttr::kControl || a == LlamaTokenAttr::kUserDefined || a == LlamaTokenAttr::kUnknown) {
      AddedToken t;
      t.id = static_cast<uint32_t>(i);
      t.content = tokens[i];
      t.special = a != LlamaTokenAttr::kUserDefined;
      // llama.cpp, for a model named Phi-3 (general.name, any case): every
      // such token but <unk>, <s> and <|endoftext|> drops the whitespace
      // after it (isspace).
      // jina-v2-{de,es,code}: <mask> drops the whitespace before it.
      if (!spm && (pre == "jina-v2-de" || pre == "jina-v2-es" || pre == "jina-v2-code")) {
        t.lstrip = tokens[i] == "<mask>";
        t.ascii_strip = true;
      } else if (phi3_names) {
        t.rstrip = tokens[i] != "<unk>" && tokens[i] != "<s>" && tokens[i] != "<|endoftext|>";
        t.ascii_strip = true;
      }
      parts.added.Add(std::move(t));
    }
  }

  RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerAddSpacePrefix));
  {
    // Decoding as llama.cpp's llama_detokenize (tokenizer/llama_detokenize.h),
    // with its per-type defaults for add_space_prefix and clean_spaces.
    // Decode runs this; the decoder steps below only describe it (inspect).
    LlamaDetokenizerOptions d;
    d.type = spm ? LlamaVocabType::kSpm
             : model_name == "bert" ? LlamaVocabType::kWpm
             : model_name == "t5"   ? LlamaVocabType::kUgm
                                    : LlamaVocabType::kBpe;
    d.add_space_prefix = v.add_space_prefix.value_or(spm);
    d.clean_spaces = d.type == LlamaVocabType::kWpm || (d.type == LlamaVocabType::kBpe && LlamaBpeCleansSpaces(pre));
    parts.llama_detokenizer = LlamaDetokenizer::Build(tokens, attrs, d);
  }

  if (model_name == "bert") {
    // llama.cpp's WPM: [CLS] (its BOS) and [SEP] around the text whatever
    // add_bos/add_eos say; its own preprocessing (LlamaWpmPreprocess), then
    // words split on spaces.
    ASSIGN_OR_RETURN(std::optional<uint32_t> sep, opt_id(GgufSpecialToken::kSeparator));
    parts.post.prefix.clear();
    parts.post.suffix.clear();
    // BERT conversions name [CLS] as cls_token_id; llama.cpp takes it as its BOS.
    ASSIGN_OR_RETURN(std::optional<uint32_t> cls, opt_id(GgufSpecialToken::kCls));
    if (!parts.bos_id) parts.bos_id = cls;
    if (!parts.eos_id) parts.eos_id = sep;
    if (parts.bos_id) parts.post.prefix.push_back(*parts.bos_id);
    if (sep) parts.post.suffix.push_back(*sep);
    if (!parts.unk_id) {
      return absl::DataLossError(absl::StrCat(src, ": a \"bert\" (WordPiece) vocabulary needs ",
                                              key(GgufSpecialTokenKey(GgufSpecialToken::kUnknown)), ", the id of [UNK]"));
    }
    // Invalid UTF-8 as llama.cpp's WPM reads it (unicode_cpts_from_utf8):
    // U+FFFD per bad byte, overlong forms as their value, surrogates as
    // code points; its preprocessing then drops U+FFFD, NUL and \p{C}
    // (surrogates; their U+E000 stand-ins too), so they vanish from words.
    parts.invalid_utf8 = InvalidUtf8Mode::kLlamaCpp;
    NormalizerStep norm;
    norm.kind = NormalizerStep::Kind::kLlamaWpm;
    parts.normalizer.Add(norm);
    PreTokenizeStep split;
    split.kind = PreTokenizeStep::Kind::kCharSplit;
    split.char_class = PreTokenizeStep::CharClass::kWhitespace;
    split.behavior = SplitBehavior::kRemoved;
    parts.pre_tokenizer.Add(std::move(split));
    WordPieceOptions wo;
    wo.gguf_spelling = true;
    wo.max_input_chars_per_word = 0;
    wo.unk_id = *parts.unk_id;
    parts.token_text = tokens;
    ASSIGN_OR_RETURN(parts.model, WordPieceModel::Build(std::move(tokens), wo, src));
    // llama.cpp's detokenizer: word starts spelled with a space
    // (token_to_piece), then its clean_spaces passes, which it does for WPM.
    DecoderStep d;
    d.kind = DecoderStep::Kind::kReplace;
    d.pattern = "\xE2\x96\x81";
    d.content = " ";
    parts.decoder.Add(d);
    DecoderStep clean;
    clean.kind = DecoderStep::Kind::kLlamaCleanSpaces;
    parts.decoder.Add(clean);
    parts.description = "gguf bert (WordPiece, llama.cpp WPM)";
    return std::make_unique<Tokenizer>(std::move(parts));
  }

  if (model_name == "t5") {
    // llama.cpp's UGM (tokenizer/llama_ugm.h): its own normalization and
    // Viterbi on each segment between special tokens.
    RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerScores));
    if (!v.scores) return missing(GgufKey::kTokenizerScores);
    RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerAddSpacePrefix));
    RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerRemoveExtraWhitespaces));
    RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerPrecompiledCharsmap));
    LlamaUgmOptions uo;
    uo.add_space_prefix = v.add_space_prefix.value_or(false);
    uo.remove_extra_whitespaces = v.remove_extra_whitespaces.value_or(false);
    uo.charsmap = v.precompiled_charsmap.value_or("");
    uo.unk_id = parts.unk_id.value_or(2);  // llama.cpp's default for t5
    parts.unk_id = uo.unk_id;
    parts.invalid_utf8 = InvalidUtf8Mode::kRawBytes;
    parts.token_text = tokens;
    ASSIGN_OR_RETURN(parts.model, LlamaUgmModel::Build(std::move(tokens), std::move(*v.scores), types, uo, src));
    // llama.cpp's token_to_piece: "▁" as a space, <0xXX> as its byte; the
    // first token loses a leading space when add_space_prefix is set.
    DecoderStep d;
    d.kind = DecoderStep::Kind::kReplace;
    d.pattern = "\xE2\x96\x81";
    d.content = " ";
    parts.decoder.Add(d);
    parts.decoder.Add(DecoderStep{DecoderStep::Kind::kByteFallback, "", "", 0, 0, true});
    parts.decoder.Add(DecoderStep{DecoderStep::Kind::kFuse, "", "", 0, 0, true});
    if (uo.add_space_prefix) parts.decoder.Add(DecoderStep{DecoderStep::Kind::kStrip, "", " ", 1, 0, true});
    parts.description = "gguf t5 (Unigram, llama.cpp UGM)";
    return std::make_unique<Tokenizer>(std::move(parts));
  }

  BpeOptions opt;
  std::vector<BpeMerge> merges;
  std::vector<std::string> extra_symbols;  // char-only ids (SentencePiece)
  if (spm) {
    // SentencePiece BPE: the pair whose merged piece scores highest merges
    // first (leftmost on ties), which is what llama.cpp and HF's converted
    // merges do. Ranks are dense over distinct scores, best first.
    RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerScores));
    if (!v.scores) return missing(GgufKey::kTokenizerScores);
    const std::vector<float>& scores = *v.scores;
    if (scores.size() != n) {
      return absl::DataLossError(
          absl::StrCat(src, ": ", key(GgufKey::kTokenizerScores), " has ", scores.size(), " entries for ", n, " tokens"));
    }
    // A single character that is no token can still be a merge's part
    // (llama.cpp merges symbols by text): it gets an id past the vocabulary.
    std::vector<std::string> char_only;
    absl::flat_hash_map<std::string, uint32_t> char_only_ids;
    auto part_id = [&](std::string_view part) -> std::optional<uint32_t> {
      auto it = ids.find(part);
      if (it != ids.end()) return it->second;
      size_t pos = 0;
      if (DecodeUtf8(part, &pos) == kInvalidUtf8 || pos != part.size()) return std::nullopt;
      auto [c, added] = char_only_ids.try_emplace(std::string(part), static_cast<uint32_t>(n + char_only.size()));
      if (added) char_only.emplace_back(part);
      return c->second;
    };
    std::vector<float> distinct(scores);
    std::sort(distinct.begin(), distinct.end(), std::greater<>());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (size_t i = 0; i < n; ++i) {
      if (types[i] != kGgufTokenNormal) continue;
      std::string_view s = tokens[i];
      uint32_t rank = static_cast<uint32_t>(std::lower_bound(distinct.begin(), distinct.end(), scores[i], std::greater<>()) -
                                            distinct.begin());
      for (size_t cut = 1; cut < s.size(); ++cut) {
        if ((static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) continue;
        auto a = part_id(s.substr(0, cut)), b = part_id(s.substr(cut));
        if (a && b) merges.push_back({*a, *b, rank});
      }
    }
    opt.byte_fallback = true;
    opt.lead_byte_chars = true;
    if (!char_only.empty()) opt.first_char_only = static_cast<uint32_t>(n);
    extra_symbols = std::move(char_only);
    parts.invalid_utf8 = InvalidUtf8Mode::kRawBytes;
    opt.unk_id = parts.unk_id.value_or(0);
    RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerAddSpacePrefix));
    const bool add_space = v.add_space_prefix.value_or(true);
    if (add_space) {
      NormalizerStep p;
      p.kind = NormalizerStep::Kind::kPrepend;
      p.content = "\xE2\x96\x81";
      parts.normalizer.Add(p);
    }
    NormalizerStep r;
    r.kind = NormalizerStep::Kind::kReplace;
    r.pattern = " ";
    r.content = "\xE2\x96\x81";
    parts.normalizer.Add(r);
    DecoderStep d;
    d.kind = DecoderStep::Kind::kReplace;
    d.pattern = "\xE2\x96\x81";
    d.content = " ";
    parts.decoder.Add(d);
    parts.decoder.Add(DecoderStep{DecoderStep::Kind::kByteFallback, "", "", 0, 0, true});
    parts.decoder.Add(DecoderStep{DecoderStep::Kind::kFuse, "", "", 0, 0, true});
    if (add_space) parts.decoder.Add(DecoderStep{DecoderStep::Kind::kStrip, "", " ", 1, 0, true});
    parts.description = "gguf llama (SentencePiece BPE, byte fallback)";
  } else {
    RETURN_IF_ERROR(v.KeyStatus(GgufKey::kTokenizerMerges));
    if (!v.merges) return missing(GgufKey::kTokenizerMerges);
    const std::vector<std::string>& mv = *v.merges;
    merges.reserve(mv.size());
    for (size_t r = 0; r < mv.size(); ++r) {
      std::string_view s = mv[r];
      size_t sp = s.find(' ', 1);
      auto a = sp == std::string_view::npos ? ids.end() : ids.find(s.substr(0, sp));
      auto b = sp == std::string_view::npos ? ids.end() : ids.find(s.substr(sp + 1));
      if (a == ids.end() || b == ids.end()) {
        return absl::DataLossError(absl::StrCat(src, ": ", key(GgufKey::kTokenizerMerges), "[", r, "] \"", ToAbsl(s),
                                                "\" is not two vocabulary tokens separated by a space"));
      }
      merges.push_back({a->second, b->second, static_cast<uint32_t>(r)});
    }
    auto regexes = PreRegexes(pre);
    if (!regexes) {
      return absl::UnimplementedError(
          absl::StrCat(src, ": ", key(GgufKey::kTokenizerPre), " \"", pre, "\" is not a pre-tokenizer llmtk knows"));
    }
    for (const std::string& re : *regexes) {
      PreTokenizeStep st;
      ASSIGN_OR_RETURN(auto compiled, Regex::Compile(re));
      st.regex = std::move(compiled);
      parts.pre_tokenizer.Add(std::move(st));
    }
    opt.byte_level = true;
    opt.ignore_merges = IsLlama3Pre(pre) || pre == "tekken";
    parts.invalid_utf8 = InvalidUtf8Mode::kLlamaCpp;
    parts.decoder.Add(DecoderStep{DecoderStep::Kind::kByteLevel, "", "", 0, 0, true});
    if (LlamaBpeCleansSpaces(pre))
      parts.decoder.Add(DecoderStep{DecoderStep::Kind::kLlamaCleanSpaces, "", "", 0, 0, true});
    parts.description = absl::StrCat("gguf gpt2 (byte-level BPE, pre: ", pre, ")");
  }
  parts.token_text = tokens;
  for (std::string& c : extra_symbols) tokens.push_back(std::move(c));
  ASSIGN_OR_RETURN(parts.model, BpeModel::Build(std::move(tokens), merges, opt, src));
  return std::make_unique<Tokenizer>(std::move(parts));
}

}  // namespace llmtk
