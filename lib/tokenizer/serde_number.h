// tokenizer/serde_number: JSON numbers read as HF tokenizers reads them.
//
// HF tokenizers parses tokenizer.json with serde_json built without its
// `float_roundtrip` feature: a number's digits (up to 19 of them, the rest
// dropped) become a u64, converted to f64, then multiplied or divided by
// 10^k from a table of f64 literals. For a 17-digit score such as
// -7.2339935302734375 (a float32 score written in full, as transformers'
// converter and our own writer do) that is two roundings, and the double is
// often one unit in the last place away from the correctly rounded one
// (1767 of the 8000 scores of an spm_train 8k model). Unigram's Viterbi then
// breaks near-ties differently: equal ids need HF's doubles, not ours.
//
// Thread-safety: stateless; safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_SERDE_NUMBER_H_
#define LLMTK_LIB_TOKENIZER_SERDE_NUMBER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace llmtk {

// The f64 serde_json (default features) makes of the JSON number `text`;
// nullopt when `text` is not a JSON number or is out of f64's range (serde
// refuses both).
std::optional<double> SerdeJsonF64(std::string_view text);

// The scores of a Unigram tokenizer.json's "model": {"vocab": [[piece,
// score], ...]} as HF tokenizers holds them, in vocabulary order. DataLoss
// naming `source` and the entry when one is not [string, number].
absl::StatusOr<std::vector<double>> SerdeUnigramScores(std::string_view json, const std::string& source);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_SERDE_NUMBER_H_
