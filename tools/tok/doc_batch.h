// tools/tok/doc_batch: documents read in batches for llmtk-tok's parallel
// subcommands (encode, stats), and id lists printed as text.
#ifndef LLMTK_TOOLS_TOK_DOC_BATCH_H_
#define LLMTK_TOOLS_TOK_DOC_BATCH_H_

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/base/jsonl.h"
#include "lib/base/status.h"

namespace llmtk {

constexpr size_t kBatchBytes = 1 << 20;
constexpr size_t kBatchDocs = 4096;

// Documents of one batch, their bytes in one arena (no allocation per
// document once the batch has grown).
struct DocBatch {
  std::string arena;
  std::vector<std::pair<size_t, size_t>> text_spans, raw_spans;  // raw: jsonl output only
  std::vector<char> is_json;
  std::vector<const std::string*> sources;  // into `names`
  // The inputs' names, copied: the reader's own go with the input, and a
  // batch outlives the input it started in.
  std::deque<std::string> names;
  std::vector<uint64_t> lines;
  uint64_t first_index = 0;
  size_t size() const { return text_spans.size(); }
  std::string_view text(size_t i) const {
    return std::string_view(arena).substr(text_spans[i].first, text_spans[i].second);
  }
  std::string_view raw(size_t i) const {
    return std::string_view(arena).substr(raw_spans[i].first, raw_spans[i].second);
  }
  // "file:line", for error messages.
  std::string where(size_t i) const { return absl::StrCat(*sources[i], ":", lines[i]); }
};

// Invalid UTF-8 a GGUF vocabulary tokenized, per input: tools warn once
// per input, not per document.
struct InvalidUtf8Tally {
  std::string source;
  uint64_t bytes = 0, docs = 0;
  std::string first;  // "file:line, byte N"
};

struct EncodedBatch {
  std::string text;                // ids / jsonl output
  std::vector<uint32_t> ids;       // bin / megatron
  std::vector<uint32_t> lengths;   // per document
  uint64_t tokens = 0, bytes = 0, docs = 0;
  std::vector<InvalidUtf8Tally> invalid_utf8;  // in input order
};

// Adds `t` to the tally of its input in `all` (input order kept).
void AddInvalidUtf8(std::vector<InvalidUtf8Tally>* all, const InvalidUtf8Tally& t);
// "llmtk-TOOL: warning: ..." lines, one per input.
std::string InvalidUtf8Warnings(std::string_view tool, const std::vector<InvalidUtf8Tally>& all);

// Appends `ids` as decimal numbers separated by `sep`.
void AppendIds(std::string* out, std::span<const uint32_t> ids, char sep);

// Fills a batch from the reader; false at the end.
absl::StatusOr<bool> FillBatch(DocumentReader& reader, bool keep_raw, DocBatch* b);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_TOK_DOC_BATCH_H_
