// tools/tok/tok_tool: what llmtk-tok's subcommands do — encode a corpus into token
// files, decode ids back to text, inspect a tokenizer, measure it on a
// corpus, train one. One file and one Run* entry point per subcommand (with
// its printing); main.cc only turns flags into these options.
//
// Encoding is multi-threaded through OrderedParallelMap: documents are
// encoded in batches on any thread and written in input order, so the
// output bytes never depend on --threads.
//
// Thread-safety: each call is independent; calls may run concurrently.
#ifndef LLMTK_TOOLS_TOK_TOK_TOOL_H_
#define LLMTK_TOOLS_TOK_TOK_TOOL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/base/status.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/train/bpe_trainer.h"
#include "lib/tokenizer/train/unigram_trainer.h"

namespace llmtk {

enum class TokenOutputFormat { kIds, kJsonl, kBin, kMegatron };

struct EncodeOptions {
  std::string tokenizer;
  std::string tiktoken_pattern;  // --tiktoken-pattern (Tokenizer::FromTiktoken)
  bool cased = false;            // --cased: a WordPiece vocab.txt keeps case (TokenizerFileOptions)
  std::vector<std::string> inputs;  // empty: stdin
  std::string output = "-";         // file, or prefix for megatron
  OutputOptions output_options;
  DocumentReaderOptions reader;
  TokenOutputFormat format = TokenOutputFormat::kIds;
  std::string ids_key = "ids";
  SpecialTokenOptions specials;  // as llmtk-mix's (lib/tokenizer.h)
  int threads = 1;
  bool progress = false;
  // --invalid-utf8 given: without it, a tokenizer that takes invalid UTF-8
  // (a GGUF vocabulary) gets plain-text lines' bytes as they are.
  bool invalid_utf8_given = false;
};

struct EncodeReport {
  uint64_t documents = 0, tokens = 0, bytes = 0, skipped = 0;
  uint64_t invalid_utf8_bytes = 0;
  std::string invalid_utf8_warnings;  // one line per input that had any
  double seconds = 0;       // whole run
  double load_seconds = 0;  // of which loading the tokenizer
  std::string dtype;  // bin/megatron element type
};

absl::StatusOr<EncodeReport> EncodeCorpus(const EncodeOptions& opts);
std::string FormatEncodeReport(const EncodeReport& r, bool json);

enum class IdsInputFormat { kIds, kBin, kMegatron };

struct DecodeOptions {
  std::string tokenizer;
  std::string tiktoken_pattern;
  bool cased = false;
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
  std::string tiktoken_pattern;
  bool cased = false;
  std::vector<std::string> inputs;
  DocumentReaderOptions reader;
  int threads = 1;
  bool json = false;
  bool progress = false;
};

absl::StatusOr<std::string> TokenizerStats(const StatsOptions& opts);

struct TrainToolOptions {
  std::vector<std::string> inputs;  // empty: stdin
  DocumentReaderOptions reader;
  BpeTrainerOptions opts;
  std::string output;
  std::string style = "byte-level";  // or "sentencepiece"
  bool gguf = false;                 // also implied by a .gguf output name
  bool json = false, quiet = false;
  std::string model = "bpe";         // --model: bpe | unigram | wordpiece
  UnigramTrainerOptions unigram;     // --model unigram (train_unigram.cc)
  std::string spm_model;             // --spm-model: also write a SentencePiece .model
  std::vector<std::string> given;    // flags given on the command line, for per-model checks
  // --model wordpiece (train_wordpiece.cc): the BPE options above that apply
  // (vocabulary size, min frequency, special tokens, max words) and these.
  int limit_alphabet = 0;
  bool cased = false;
  std::string continuation_order;    // file of "##c" tokens in id order
};

// --model unigram: SentencePiece's Unigram trainer (train_unigram.cc).
absl::Status RunUnigramTrain(TrainToolOptions opts);

// convert: a SentencePiece .model or a BERT vocab.txt to tokenizer.json (convert.cc).
struct ConvertOptions {
  std::string input;         // a SentencePiece .model or a BERT vocab.txt
  std::string output = "-";  // tokenizer.json
  bool cased = false;        // vocab.txt: keep case and accents (bert-base-cased)
  bool quiet = false;
};

// The subcommands, each with its printing: the encode summary (or --json
// report), decoded text, the inspect and stats reports, the train summary.
absl::Status RunEncode(const EncodeOptions& opts, bool json, bool quiet);
absl::Status RunDecode(const DecodeOptions& opts);
absl::Status RunInspect(const std::string& path, bool json);
absl::Status RunStats(const StatsOptions& opts);
absl::Status RunTrain(TrainToolOptions opts);
absl::Status RunTrainWordPiece(const TrainToolOptions& opts);
absl::Status RunConvert(const ConvertOptions& opts);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_TOK_TOK_TOOL_H_
