// mix/index_pass: the mixer's first pass. Reads every input once, validates
// and prepares each document (token counts, the source field, Megatron token
// ids) and appends it to a spool file per input, remembering where each lies,
// so the plan can be made from sizes alone and shards gathered by offset.
#ifndef LLMTK_LIB_MIX_INDEX_PASS_H_
#define LLMTK_LIB_MIX_INDEX_PASS_H_

#include <memory>
#include <string>
#include <vector>

#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/base/progress.h"
#include "lib/formats/token_files.h"
#include "lib/mix/internal.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {

struct IndexOptions {
  DocumentReaderOptions reader;
  std::string tokens_key;
  // The field naming the source, added at spooling time: once per input
  // document rather than once per (possibly repeated) output document.
  std::string source_field, source_json;
  const Tokenizer* tokenizer = nullptr;  // -t: count (and keep) tokens
  DocumentSpecials specials;             // around every document's tokens, as llmtk-tok encode
  bool megatron = false;                 // spool token ids instead of lines
  Progress* progress = nullptr;          // documents read, input bytes
};

// Indexes and spools every input (into TMP_DIR/.spool/K), one input per task,
// with a "mix: reading" progress line; source names from `data`.
absl::Status IndexAllInputs(IndexOptions io, const std::string& tmp_dir, int threads, bool progress,
                            const std::vector<std::unique_ptr<MixInputIndex>>& inputs,
                            const std::vector<MixSourceData>& data);

}  // namespace llmtk

#endif  // LLMTK_LIB_MIX_INDEX_PASS_H_
