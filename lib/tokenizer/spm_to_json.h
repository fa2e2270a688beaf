// tokenizer/spm_to_json: a SentencePiece .model as the tokenizer.json that
// transformers' slow→fast converter (convert_slow_tokenizer.py) writes, for
// HF tokenizers:
//
//  - BPE with byte fallback: LlamaConverter (legacy): the pieces as vocab,
//    merges from every split of a piece into two pieces ordered by the
//    piece's score (generate_merges), byte fallback, Prepend("▁") and
//    Replace(" ", "▁") as normalizer, no pre-tokenizer, the
//    Replace/ByteFallback/Fuse/Strip decoder and LlamaTokenizerFast's BOS
//    post-processor.
//  - Unigram (and BPE without byte fallback): SpmConverter (T5, XLM-R):
//    [piece, score] vocab, Precompiled + Strip(right) + Replace(" {2,}",
//    "▁") normalizer, Metaspace (prepend_scheme "always") pre-tokenizer and
//    decoder.
//
// Control and unknown pieces become special added tokens, user-defined ones
// plain added tokens (normalized: false), as the converter adds them. Two
// choices follow spm_encode where the converter's defaults would not: the
// Unigram model keeps trainer_spec.byte_fallback, and the Llama form applies
// a non-empty precompiled_charsmap (Precompiled first) instead of dropping it.
//
// Thread-safety: stateless.
#ifndef LLMTK_LIB_TOKENIZER_SPM_TO_JSON_H_
#define LLMTK_LIB_TOKENIZER_SPM_TO_JSON_H_

#include <string>
#include <string_view>

#include "lib/base/status.h"
#include "lib/formats/sentencepiece_model.h"

namespace llmtk {

// Unimplemented for WORD and CHAR models.
absl::StatusOr<std::string> SentencePieceToTokenizerJson(const SentencePieceModel& m, std::string_view source);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_SPM_TO_JSON_H_
