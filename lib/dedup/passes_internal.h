// dedup/passes_internal: what the pass files (passes_sign.cc,
// passes_verify.cc, passes_output.cc) share -- batch shapes, re-reading a
// document's line by number, ids and progress; not API.
#ifndef LLMTK_LIB_DEDUP_PASSES_INTERNAL_H_
#define LLMTK_LIB_DEDUP_PASSES_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/base/progress.h"
#include "lib/dedup/passes.h"
#include "simdjson.h"

namespace llmtk {
namespace dedup_pass {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

// This thread's On-Demand parser.
simdjson::ondemand::parser& Parser();

struct TextBatch {
  std::string texts;
  std::vector<size_t> ends;
  std::string raws;  // with DocLines: the lines (texts empty)
  std::vector<size_t> raw_ends;
  std::vector<uint64_t> docs;
  std::vector<uint8_t> json;  // with DocLines: per line, JSONL
  std::string_view Text(size_t i) const {
    size_t b = i ? ends[i - 1] : 0;
    return std::string_view(texts).substr(b, ends[i] - b);
  }
  std::string_view Raw(size_t i) const {
    size_t b = i ? raw_ends[i - 1] : 0;
    return std::string_view(raws).substr(b, raw_ends[i] - b);
  }
};

constexpr size_t kBatchDocs = 1024;
constexpr size_t kBatchBytes = 4 << 20;
// Signing costs about the same per byte, so sign batches are capped in bytes
// too: one slow batch at the head of the ordered map idles the other workers
// (1024 documents of the train corpus are 100 kB to 1.5 MB, median 270 kB;
// capped at 256 kB, the idle time on 2 cores fell from 4% to under 2%).
constexpr size_t kSignBatchBytes = 256 << 10;
// Candidates are sparse (2.6% of the train corpus): smaller batches let the
// workers start while this thread is still splitting lines, and shorten the
// last batch's tail.
constexpr size_t kVerifyBatchDocs = 256;

// Batches of the texts of the documents d for which want(d).
std::function<absl::StatusOr<bool>(TextBatch*)> Producer(DocumentReader* reader, std::function<bool(uint64_t)> want,
                                                         Progress* progress);

// The text DocumentReader took from `raw` when signing (the same walk: the
// first top-level field named key_path[0], then nested lookups); false when
// the line no longer yields one. The text lives in this thread's parser.
bool TextOfLine(std::string_view raw, const std::vector<std::string>& key_path, std::string* padded,
                std::string_view* text);

// Calls fn(doc, d) for the documents of file f (numbered from first_doc), the
// lines signing took as documents, found by number; a line the reader
// repaired (--invalid-utf8=replace) is repaired the same way.
absl::Status ForEachDocLine(const std::string& file, uint64_t first_doc, const DocLines& lines, size_t f,
                            const std::function<absl::Status(const Document&, uint64_t)>& fn);

// A document's id for --clusters: the --id-key field's JSON, else its line
// number (with several inputs, "FILE:LINE").
std::string IdOf(const Document& doc, const DedupOptions& o, bool multi);

// Progress lines are shown with --progress, or on a terminal unless --quiet.
bool ShowProgress(const DedupOptions& o);

// Progress::Add costs two atomic adds even when the line is hidden; the
// passes that go line by line on their one reading thread add up here.
class LineProgress {
 public:
  explicit LineProgress(Progress* p) : p_(p) {}
  ~LineProgress() { Flush(); }
  void Add(uint64_t bytes) {
    bytes_ += bytes;
    if (++items_ == 4096) Flush();
  }
  void Flush() {
    if (items_) p_->Add(items_, bytes_);
    items_ = bytes_ = 0;
  }

 private:
  Progress* p_;
  uint64_t items_ = 0, bytes_ = 0;
};

}  // namespace dedup_pass
}  // namespace llmtk

#endif  // LLMTK_LIB_DEDUP_PASSES_INTERNAL_H_
