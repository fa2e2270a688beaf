// tokenizer/tokenizer: a tokenizer as HF tokenizers runs it — added tokens,
// normalizer, pre-tokenizer, model (BPE, Unigram, WordPiece), post-processor,
// decoder — loaded from a tokenizer.json, a GGUF vocabulary
// (formats/gguf_vocab.h), a tiktoken rank file or a SentencePiece .model,
// giving the same ids as HF tokenizers (llama.cpp for GGUF files, tiktoken
// for rank files, spm_encode for .model files).
//
// Added tokens are matched in the raw text, also those marked
// "normalized": identical to HF for every file whose normalizer leaves such
// tokens unchanged (all we know of).
//
// Components we do not implement (Unigram/WordLevel models, unknown
// normalizers, pre-tokenizers, processors, decoders, truncation) are
// Unimplemented errors naming them: never silently different ids.
//
// Thread-safety: immutable after loading; Encode and Decode may be called
// concurrently from any number of threads.
#ifndef LLMTK_LIB_TOKENIZER_TOKENIZER_H_
#define LLMTK_LIB_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/tokenizer/pretokenize.h"
#include "lib/base/status.h"
#include "lib/tokenizer/added.h"
#include "lib/tokenizer/bpe.h"
#include "lib/tokenizer/decode.h"
#include "lib/tokenizer/invalid_utf8.h"
#include "lib/tokenizer/llama_detokenize.h"
#include "lib/tokenizer/model.h"
#include "lib/tokenizer/normalize.h"

namespace llmtk {

class GgufFile;
struct GgufVocab;

// Ids a post-processor puts around a single sequence.
struct PostProcessor {
  std::string type;  // "TemplateProcessing", "ByteLevel", "gguf", ... or empty
  std::vector<uint32_t> prefix, suffix;
};

// Everything a loader fills in.
struct TokenizerParts {
  std::string source;       // file name, for messages
  std::string format;       // "tokenizer.json" or "gguf"
  std::string description;  // e.g. "BPE, byte-level" or "gguf gpt2 (pre: llama-bpe)"
  std::unique_ptr<TokenModel> model;
  std::vector<std::string> token_text;  // per model id, as the vocabulary spells it
  // Per model id, what Decode makes of it when that is not token_text
  // (SentencePiece: "" for control pieces, unk_surface for unk); empty: token_text.
  std::vector<std::string> decode_text;
  AddedVocabulary added;
  Normalizer normalizer;
  PreTokenizer pre_tokenizer;
  Decoder decoder;
  PostProcessor post;
  std::optional<uint32_t> bos_id, eos_id, unk_id;
  // Text that is not valid UTF-8 (tokenizer/invalid_utf8.h).
  InvalidUtf8Mode invalid_utf8 = InvalidUtf8Mode::kRefuse;
  // GGUF vocabularies: Decode is llama.cpp's detokenizer, not `decoder`.
  std::optional<LlamaDetokenizer> llama_detokenizer;
};

// Whether `bytes` (read from `path`) is a SentencePiece ModelProto: a name
// ending in .model, or the bytes' first piece, unless it starts like JSON.
bool LooksLikeSentencePieceModel(std::string_view bytes, std::string_view path);

// What Load does with files that leave a choice open.
struct TokenizerFileOptions {
  std::string tiktoken_pattern;  // a tiktoken rank file's split pattern (FromTiktoken)
  // A WordPiece vocab.txt: keep case and accents (bert-base-cased); default
  // uncased, as transformers' BertTokenizer and `llmtk-tok convert`.
  bool cased = false;
};

// The file kinds Load tells apart, for help texts and messages.
inline constexpr std::string_view kTokenizerFileKinds =
    "tokenizer.json, SentencePiece .model, tiktoken rank file, WordPiece vocab.txt or GGUF";

class Tokenizer {
 public:
  // A tokenizer.json, a SentencePiece .model, a tiktoken rank file, a
  // WordPiece vocab.txt (as `llmtk-tok convert` makes it a BERT-style
  // tokenizer.json) or a GGUF file, told apart by content. NotFound when
  // missing; InvalidArgument naming the kinds expected for a file that is
  // none of them; DataLoss when corrupt; Unimplemented for unsupported parts.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& path, const TokenizerFileOptions& options);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& path,
                                                         std::string_view tiktoken_pattern = {}) {
    return Load(path, TokenizerFileOptions{std::string(tiktoken_pattern)});
  }
  // A tiktoken rank file (from_tiktoken.cc). `pattern` empty: the split
  // pattern and special tokens of the encoding the number of ranks names
  // (cl100k_base, o200k_base, llama3); one of those names: that encoding's;
  // anything else: a split regex, with no special tokens. DataLoss naming
  // the line for a corrupt file.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromTiktoken(std::string_view bytes, const std::string& source,
                                                                 std::string_view pattern = {});
  // A SentencePiece .model file (from_spm.cc), encoding as spm_encode does:
  // its normalizer on the whole text, then its Unigram or BPE model; no
  // BOS/EOS. DataLoss naming the byte offset for a corrupt file.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromSentencePiece(std::string_view bytes,
                                                                      const std::string& source);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromJson(std::string_view json, const std::string& source);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromGguf(const GgufFile& gguf);
  // A vocabulary read from the GGUF file `source` names (ReadGgufVocab).
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromGgufVocab(GgufVocab vocab, const std::string& source);
  explicit Tokenizer(TokenizerParts parts);

  // Appends the ids of `text`. `add_special`: the post-processor's ids
  // (BOS/EOS) around them, as HF's add_special_tokens. `parse_special`:
  // special added tokens written in the text become their ids (HF always
  // does; llama.cpp only when asked, and llama-perplexity does not).
  // Invalid UTF-8: a GGUF vocabulary tokenizes it as llama.cpp does
  // (tokenizer/invalid_utf8.h; tools count it with CountInvalidUtf8Bytes to
  // warn); for tokenizer.json and tiktoken files it is DataLoss naming the
  // byte offset. A text over kMaxTextBytes is ResourceExhausted (offsets
  // inside are 32-bit).
  static constexpr size_t kMaxTextBytes = (size_t{1} << 31) - 1;
  absl::Status Encode(std::string_view text, bool add_special, std::vector<uint32_t>* ids,
                      bool parse_special = true) const;
  // Text of `ids`. An id outside the vocabulary is DataLoss naming it and
  // its position. `skip_special` drops special added tokens.
  absl::StatusOr<std::string> Decode(std::span<const uint32_t> ids, bool skip_special) const;

  // One more than the largest id (model or added).
  uint32_t vocab_size() const { return vocab_size_; }
  std::optional<uint32_t> TokenToId(std::string_view token) const;
  // The token's string as the vocabulary spells it ("" for an unused id).
  std::string_view IdToToken(uint32_t id) const;
  bool IsSpecial(uint32_t id) const;
  bool IsByteFallback(uint32_t id) const;
  // Whether Encode takes invalid UTF-8 (a GGUF vocabulary).
  bool TakesInvalidUtf8() const { return parts_.invalid_utf8 != InvalidUtf8Mode::kRefuse; }
  const TokenizerParts& parts() const { return parts_; }
  const TokenModel& model() const { return *parts_.model; }
  // The model as BPE, or null for other model types.
  const BpeModel* bpe() const { return dynamic_cast<const BpeModel*>(parts_.model.get()); }

 private:
  TokenizerParts parts_;
  uint32_t vocab_size_ = 0;
  absl::flat_hash_map<uint32_t, size_t> added_by_id_;  // id → index in added tokens
  std::vector<bool> byte_fallback_;
};

// Whether a file's first line is "base64 rank", as a tiktoken rank file's.
bool LooksLikeTiktoken(std::string_view bytes);

// Whether a file is a WordPiece vocab.txt: a token a line, among them
// [UNK], [CLS] and [SEP] (what a BERT-style tokenizer.json is made from).
// Checked after LooksLikeTiktoken: a vocab.txt line holds no "base64 rank".
bool LooksLikeWordPieceVocab(std::string_view bytes);

// The special tokens around each document of a corpus, chosen the same way
// by every tool that writes token files (llmtk-tok encode, llmtk-mix), so
// that one tokenizer and one set of flags give the same ids everywhere.
// Default: the post-processor's ids, as HF's add_special_tokens and
// Megatron-LM's preprocess_data.py (e.g. BOS for Llama 2-style files, none
// for GPT-2).
struct SpecialTokenOptions {
  bool no_special = false;  // --no-special: no post-processor ids
  bool add_bos = false;     // --add-bos: BOS first, instead of the post-processor's ids
  bool add_eos = false;     // --add-eos: EOS last, instead of the post-processor's ids
  bool append_eod = false;  // --append-eod: EOS after every document, on top of the above
};

// Resolved against a tokenizer.
struct DocumentSpecials {
  bool post_processor = true;  // the post-processor's ids around the text
  std::vector<uint32_t> prefix, suffix;
};

// InvalidArgument naming the flag when the tokenizer lacks the BOS/EOS it needs.
absl::StatusOr<DocumentSpecials> PlanDocumentSpecials(const Tokenizer& tok, const SpecialTokenOptions& o);

// Appends the ids of one document, special tokens as planned.
absl::Status EncodeDocument(const Tokenizer& tok, const DocumentSpecials& plan, std::string_view text,
                            std::vector<uint32_t>* ids);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_TOKENIZER_H_
