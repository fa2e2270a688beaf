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
#include "lib/base/status.h"
#include "lib/mix/plan.h"
#include "lib/mix/recipe.h"

namespace llmtk {

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

absl::StatusOr<MixReport> RunMix(const MixOptions& opts);

}  // namespace llmtk

#endif  // LLMTK_LIB_MIX_MIXER_H_
