// tools/tok/commands: what llmtk-tok's subcommands do — encode a corpus into token
// files, decode ids back to text, inspect a tokenizer, measure it on a
// corpus. One entry point per subcommand; the tool only parses flags.
//
// Encoding is multi-threaded through OrderedParallelMap: documents are
// encoded in batches on any thread and written in input order, so the
// output bytes never depend on --threads.
//
// Thread-safety: each call is independent; calls may run concurrently.
#ifndef LLMTK_TOOLS_TOK_COMMANDS_H_
#define LLMTK_TOOLS_TOK_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/base/status.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {

enum class TokenOutputFormat { kIds, kJsonl, kBin, kMegatron };

struct EncodeOptions {
  std::string tokenizer;
  std::vector<std::string> inputs;  // empty: stdin
  std::string output = "-";         // file, or prefix for megatron
  OutputOptions output_options;
  DocumentReaderOptions reader;
  TokenOutputFormat format = TokenOutputFormat::kIds;
  std::string ids_key = "ids";
  SpecialTokenOptions specials;  // as llmtk-mix's (lib/tokenizer.h)
  int threads = 1;
  bool progress = false;
};

struct EncodeReport {
  uint64_t documents = 0, tokens = 0, bytes = 0, skipped = 0;
  double seconds = 0;       // whole run
  double load_seconds = 0;  // of which loading the tokenizer
  std::string dtype;  // bin/megatron element type
};

absl::StatusOr<EncodeReport> EncodeCorpus(const EncodeOptions& opts);
std::string FormatEncodeReport(const EncodeReport& r, bool json);

enum class IdsInputFormat { kIds, kBin, kMegatron };

struct DecodeOptions {
  std::string tokenizer;
  std::vector<std::string> inputs;  // ids: files or stdin; bin: files; megatron: prefixes
  std::string output = "-";
  OutputOptions output_options;
  IdsInputFormat input_format = IdsInputFormat::kIds;
  std::string dtype;  // bin: uint16|uint32 (default: by vocabulary size)
  bool skip_special = false;
  bool jsonl = false;  // {"text": ...} per document instead of raw text lines
};

absl::Status DecodeCorpus(const DecodeOptions& opts);

// A human (or JSON) summary of a tokenizer.
absl::StatusOr<std::string> InspectTokenizer(const std::string& path, bool json);

struct StatsOptions {
  std::string tokenizer;
  std::vector<std::string> inputs;
  DocumentReaderOptions reader;
  int threads = 1;
  bool json = false;
  bool progress = false;
};

absl::StatusOr<std::string> TokenizerStats(const StatsOptions& opts);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_TOK_COMMANDS_H_
