// mix/plan: which documents of each source a mixture takes, and in what
// order they are interleaved — computed from document sizes alone, before any
// document is read.
//
// Targets: weights are normalized to shares; source i gets share_i * total
// units (documents, text bytes or tokens). A source with fewer units is
// repeated in whole epochs plus a sampled remainder, at most `max_epochs`
// times its size; a larger one is subsampled without replacement. In docs
// mode the per-source counts are whole numbers summing exactly to the total
// (largest remainder); in bytes/tokens mode a source takes documents while it
// is below its target, so it ends within one document of it.
//
// Order within a source: each epoch is a fresh permutation (kGlobal), the input
// order (kNone), or the input order shuffled inside consecutive windows of N
// documents (kWindow: reads stay near-sequential). A partial epoch is a
// uniformly random subset, ordered the same way.
//
// Interleaving follows Megatron-LM's blended dataset (build_blending_indices):
// at every step the source whose achieved amount lags its share of the output
// so far the most contributes its next document (ties: the earlier source).
// Shares are the achieved final shares, so all sources run out together and
// every prefix of the output, hence every shard boundary, is in proportion.
//
// Randomness comes from a counter-based generator keyed by (seed, source,
// epoch); results do not depend on threads or on the platform's <random>.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_MIX_PLAN_H_
#define LLMTK_LIB_MIX_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/base/status.h"

namespace llmtk {

enum class MixUnit { kDocs, kBytes, kTokens };
enum class ShuffleMode { kNone, kWindow, kGlobal };

std::string_view MixUnitName(MixUnit u);  // "docs", "bytes", "tokens"

struct PlanSourceInput {
  std::string name;
  double weight = 0;
  // Size of each document in the unit (all 1 for docs), in input order.
  std::vector<uint32_t> units;
};

struct PlanOptions {
  MixUnit unit = MixUnit::kDocs;
  // Requested total in units; nullopt: the largest mixture in which no source
  // repeats (the most constrained source is used exactly once).
  std::optional<uint64_t> total;
  double max_epochs = 1;
  bool allow_short = false;  // scale the whole mixture down to fit the cap
  ShuffleMode shuffle = ShuffleMode::kGlobal;
  uint64_t window = 0;  // kWindow's N
  uint64_t seed = 0;
};

struct SourcePlan {
  double share = 0;         // normalized weight
  double target_units = 0;  // share * total (after any --allow-short scaling)
  uint64_t available_docs = 0, available_units = 0;
  std::vector<uint32_t> order;  // document ids in output order (with repeats)
  uint64_t taken_units = 0;
  uint64_t full_epochs = 0;  // whole passes; the rest is a sampled remainder
  double epochs = 0;         // taken_units / available_units
};

struct Shard {
  uint64_t begin = 0, end = 0;  // range of MixPlan::blend
  uint64_t units = 0;
  // Position in each source's order at the shard's first document.
  std::vector<uint64_t> source_begin;
  std::vector<uint64_t> docs_per_source, units_per_source;
};

struct MixPlan {
  std::vector<SourcePlan> sources;
  std::vector<uint16_t> blend;  // source of each output document
  uint64_t total_units = 0;     // achieved
  double requested_units = 0;   // requested (or derived) total
  bool short_of_target = false;  // --allow-short scaled the mixture down
  double scale = 1;
};

// Errors: InvalidArgument for no sources, too many, or a weight that is not
// positive and finite; FailedPrecondition for a source with nothing in it;
// ResourceExhausted when a target needs more than max_epochs (with the numbers).
absl::StatusOr<MixPlan> PlanMixture(const std::vector<PlanSourceInput>& sources, const PlanOptions& opts);

// Cuts the blended sequence into shards of at least `shard_units` units (the
// last may be smaller), at document boundaries.
std::vector<Shard> CutShards(const MixPlan& plan, const std::vector<PlanSourceInput>& sources, uint64_t shard_units);

}  // namespace llmtk

#endif  // LLMTK_LIB_MIX_PLAN_H_
