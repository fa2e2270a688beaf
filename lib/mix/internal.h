// mix/internal: the index the mixer's passes share (mixer.cc, index_pass.cc,
// output.cc); not API.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_MIX_INTERNAL_H_
#define LLMTK_LIB_MIX_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/progress.h"
#include "lib/base/io.h"
#include "lib/mix/plan.h"
#include "lib/formats/token_files.h"

namespace llmtk {

// One input file after the index pass.
struct MixInputIndex {
  std::string path;
  size_t source = 0;
  std::string expected_sha256;
  int64_t file_bytes = -1;
  std::string sha256;  // empty for stdin
  std::vector<uint64_t> offset;
  std::vector<uint32_t> length, text_bytes, tokens;
  uint64_t skipped = 0;
  std::string first_skip;
  std::unique_ptr<MappedFile> spool;
};

struct MixShardResult {
  std::string name;
  uint64_t file_bytes = 0;
  std::string sha256;
  std::string idx_name, idx_sha256;  // Megatron shards: the index file
  uint64_t idx_bytes = 0;
};

struct MixSourceData {
  std::vector<MixInputIndex*> inputs;
  std::vector<uint64_t> first_doc;  // per input, prefix of document counts
  std::string name_json;            // the name as a JSON string
};

// Where source `s`'s document `doc` (its index over all its inputs) lies in
// its input's spool.
std::string_view DocLine(const MixSourceData& s, uint32_t doc);

// JSONL shards (zstd when `zst`) and Megatron token shards from the plan;
// the same bytes for any `threads`.
absl::Status WriteShards(const MixPlan& plan, const std::vector<MixSourceData>& data, const std::vector<Shard>& shards,
                         const std::string& dir, bool zst, int zstd_level, int threads,
                         std::vector<MixShardResult>* results, Progress* progress = nullptr);
absl::Status WriteMegatronShards(const MixPlan& plan, const std::vector<MixSourceData>& data,
                                 const std::vector<Shard>& shards, const std::string& dir, MegatronDtype dtype,
                                 int threads, std::vector<MixShardResult>* results, Progress* progress = nullptr);

}  // namespace llmtk

#endif  // LLMTK_LIB_MIX_INTERNAL_H_
