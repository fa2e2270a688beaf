// mix/mixer: builds a training mixture from several corpora — the recipe, the
// per-source document index, the output shards and the manifest.
//
// A recipe names sources (NAME=PATH[,PATH...]:WEIGHT on the command line, or a
// JSON file) and options. A manifest.json written by a run is itself a recipe:
// given back with --recipe it re-runs the same mixture, after checking every
// input's sha256, and reproduces the output byte for byte.
//
// Reading compressed inputs in a shuffled order: each input is read exactly
// once, sequentially (zstd decompressed as a stream, stdin included). Every
// document that passes validation is appended, as its output line (the raw
// JSON line with the source field set), to a spool file inside the output's
// temporary directory, and the index keeps its
// offset and length (plus its size in text bytes and tokens: 20 bytes per
// document in memory). The plan is computed from the index alone; shards are
// then gathered from the memory-mapped spool, in parallel, and the spool is
// deleted. The price is temporary disk equal to the decompressed inputs; the
// gain is one sequential read of each input, random access without
// frame-aware seeking, and stdin working with every option.
//
// Output: OUTDIR/shard-NNNNN.jsonl[.zst] and OUTDIR/manifest.json. Everything
// is written into OUTDIR.tmp.<pid> and renamed to OUTDIR at the very end; a
// failed run removes its temporary directory, so nothing that looks complete
// is left behind. OUTDIR must not exist.
//
// Thread-safety: RunMix is reentrant; it uses `threads` workers internally.
#ifndef LLMTK_LIB_MIX_MIXER_H_
#define LLMTK_LIB_MIX_MIXER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/mix/plan.h"
#include "lib/base/status.h"

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

struct MixOptions {
  std::vector<MixSource> sources;  // from --source flags
  std::string recipe_path;         // --recipe (sources and settings)
  MixSettings settings;            // explicit flags; they win over the recipe
  std::string output_dir;
  int threads = 1;
  bool progress = false;  // progress lines on stderr while reading and writing
  BadLinePolicy on_bad_line = BadLinePolicy::kError;
  InvalidUtf8Policy invalid_utf8 = InvalidUtf8Policy::kError;
  InputFormat input_format = InputFormat::kAuto;
};

struct MixReport {
  std::string manifest_json;  // as written to OUTDIR/manifest.json
  std::string summary;        // human-readable, several lines
  bool short_of_target = false;
};

// Parses "NAME=PATH[,PATH...]:WEIGHT" (the weight after the last ':').
absl::StatusOr<MixSource> ParseSourceSpec(std::string_view spec);
// Parses "1000", "200M", "2G", "1.5k" (decimal suffixes k M G T, optional B).
absl::StatusOr<uint64_t> ParseCount(std::string_view s);
// "none", "global", "window:N".
absl::Status ParseShuffle(std::string_view s, ShuffleMode* mode, uint64_t* window);
uint64_t DefaultShardSize(MixUnit unit);

absl::StatusOr<MixReport> RunMix(const MixOptions& opts);

}  // namespace llmtk

#endif  // LLMTK_LIB_MIX_MIXER_H_
