// formats/gguf_vocab: a GGUF file's vocabulary -- the tokenizer keys of
// formats/gguf_keys.h (tokenizer model and pre-tokenizer names, tokens,
// scores, token types, merges, special token ids, add_bos / add_eos /
// add_space_prefix, chat template) as one struct, read from a file by one
// function and set in metadata by one function. Every reader (the tokenizer,
// a model's vocabulary) and writer (the HF converter, the BPE trainer) goes
// through here, so the keys' names, types and order live in one place.
//
// ReadGgufVocab takes each key that has the type llama.cpp gives it and
// interprets nothing: which keys a reader requires, and what their values
// must satisfy (lengths, ids in range, supported models), is the reader's to
// say in its own words. A key of the wrong type is left out and its
// GgufFile DataLoss kept (KeyStatus), so that a reader fails on it only when
// it uses the key, at the point where it uses it.
// SetGgufVocab writes the keys present, in the order llama.cpp's converters
// write them: model, pre, tokens, scores, token types, merges, the special
// token ids in the struct's order, add_bos, add_eos, add_space_prefix, chat
// template.
//
// Thread-safety: pure functions over values.
#ifndef LLMTK_LIB_FORMATS_GGUF_VOCAB_H_
#define LLMTK_LIB_FORMATS_GGUF_VOCAB_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/base/status.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_keys.h"
#include "lib/formats/gguf_writer.h"

namespace llmtk {

// llama.cpp's token types (llama_token_type), the values of the token type
// array.
enum GgufTokenType : int32_t {
  kGgufTokenNormal = 1,
  kGgufTokenUnknown = 2,
  kGgufTokenControl = 3,
  kGgufTokenUserDefined = 4,
  kGgufTokenUnused = 5,
  kGgufTokenByte = 6,
};

// The special tokens a vocabulary names by id.
enum class GgufSpecialToken {
  kBos, kEos, kEot, kUnknown, kSeparator, kPadding, kCls, kMask,
  kEom, kFimPre, kFimSuf, kFimMid, kFimPad, kFimRep, kFimSep, kPrefix, kSuffix, kMiddle,
};
// The key holding a special token's id.
GgufKey GgufSpecialTokenKey(GgufSpecialToken token);

struct GgufVocab {
  std::optional<std::string> model;  // "llama" (SentencePiece), "gpt2" (byte-level BPE), "bert", ...
  std::optional<std::string> pre;    // llama.cpp's pre-tokenizer name ("llama-bpe", "default", ...)
  std::optional<std::vector<std::string>> tokens;  // by id
  std::optional<std::vector<float>> scores;        // by id
  std::optional<std::vector<int32_t>> token_types;  // by id, GgufTokenType values
  std::optional<std::vector<std::string>> merges;  // "left right", in rank order
  // Special token ids, in the order SetGgufVocab writes them
  // (ReadGgufVocab lists them as bos, eos, eot, unknown, separator, padding,
  // cls, mask, eom, then the fill-in-the-middle ones).
  std::vector<std::pair<GgufSpecialToken, uint32_t>> special_ids;
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  std::optional<bool> add_space_prefix;
  // "t5" (llama.cpp's UGM) vocabularies: SentencePiece's normalizer flag and
  // compiled character map (an array of u8 in the file).
  std::optional<bool> remove_extra_whitespaces;
  std::optional<std::string> precompiled_charsmap;
  std::optional<std::string> chat_template;
  // general.name, read (SetGgufVocab does not write it): llama.cpp gives
  // token attributes by it (Phi-3's special tokens strip the whitespace
  // after them).
  std::optional<std::string> model_name;
  // The keys present with the wrong type, with the GgufFile's DataLoss.
  std::vector<std::pair<GgufKey, absl::Status>> bad_keys;

  // OK, or the DataLoss of `key` when the file has it with the wrong type.
  absl::Status KeyStatus(GgufKey key) const;
  std::optional<uint32_t> special_id(GgufSpecialToken token) const;
  // Replaces the token's id where it stands, or appends it.
  void set_special_id(GgufSpecialToken token, uint32_t id);
};

// Whether `f` names a tokenizer model (a string tokenizer model key): a GGUF
// with a vocabulary.
bool HasGgufVocab(const GgufFile& f);

// The vocabulary keys of `f`.
GgufVocab ReadGgufVocab(const GgufFile& f);

// Sets the keys `vocab` holds in `md` (see the order above).
void SetGgufVocab(const GgufVocab& vocab, GgufMetadata* md);

}  // namespace llmtk

#endif  // LLMTK_LIB_FORMATS_GGUF_VOCAB_H_
