// mix/recipe: what a mixture is made of -- sources with their inputs and
// weights, and the settings a recipe file (or a manifest, which is a recipe)
// may carry -- and the parsers for their command-line and file forms.
#ifndef LLMTK_LIB_MIX_RECIPE_H_
#define LLMTK_LIB_MIX_RECIPE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/base/status.h"
#include "lib/mix/plan.h"

namespace llmtk {

struct MixInput {
  std::string path;
  // From a manifest: the sha256 the input must still have (empty: unchecked).
  std::string sha256;
};

struct MixSource {
  std::string name;
  std::vector<MixInput> inputs;
  double weight = 0;
};

// kMegatron: token shards (PREFIX.bin/.idx, lib/formats/token_files.h), needs -t.
enum class MixFormat { kJsonl, kJsonlZst, kMegatron };

// Options a recipe file may set; unset ones take the recipe's value, then the
// default.
struct MixSettings {
  std::optional<MixUnit> by;                    // default docs
  std::optional<uint64_t> total;                // default: no source repeats
  std::optional<double> max_epochs;             // default 1
  std::optional<bool> allow_short;              // default false
  std::optional<ShuffleMode> shuffle;           // default global
  std::optional<uint64_t> window;               // for shuffle window:N
  std::optional<uint64_t> seed;                 // default 0
  std::optional<uint64_t> shard_size;           // in --by units; see DefaultShardSize
  std::optional<MixFormat> format;              // default jsonl.zst
  std::optional<std::string> source_field;      // default "source"; "" = none
  std::optional<std::string> text_key;          // default "text"
  std::optional<std::string> tokens_key;        // required for --by tokens
  std::optional<int> zstd_level;                // default 3
  std::optional<std::string> tokenizer;         // -t tokenizer.json or .gguf
  std::optional<std::string> tokenizer_sha256;  // from a manifest: must match
  // Special tokens around each document's tokens, as llmtk-tok encode's
  // flags of the same names (SpecialTokenOptions): default the
  // post-processor's.
  std::optional<bool> no_special, add_bos, add_eos;
  std::optional<bool> append_eod;               // EOS after each document's tokens
  std::optional<BadLinePolicy> on_bad_line;     // default MixOptions::on_bad_line
};

// Parses "NAME=PATH[,PATH...]:WEIGHT" (the weight after the last ':').
absl::StatusOr<MixSource> ParseSourceSpec(std::string_view spec);
// Parses "1000", "200M", "2G", "1.5k" (decimal suffixes k M G T, optional B).
absl::StatusOr<uint64_t> ParseCount(std::string_view s);
// "none", "global", "window:N".
absl::Status ParseShuffle(std::string_view s, ShuffleMode* mode, uint64_t* window);
uint64_t DefaultShardSize(MixUnit unit);

// Reads a recipe (or a manifest) into `sources`; its settings fill those of
// `settings` that are still unset, so explicit flags win.
absl::Status LoadRecipe(const std::string& path, std::vector<MixSource>* sources, MixSettings* settings);
// The shuffle as a recipe spells it ("none", "global", "window:N").
std::string ShuffleName(ShuffleMode mode, uint64_t window);

}  // namespace llmtk

#endif  // LLMTK_LIB_MIX_RECIPE_H_
