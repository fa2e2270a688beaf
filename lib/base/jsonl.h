// base/jsonl: documents from JSONL or plain-text inputs, and setting fields of
// a JSONL line (JSON writing itself is base/json_writer.h, included here).
//
// A DocumentReader walks one or more inputs (see base/io.h) and yields, per
// document, its text (JSON unescaped, or the line itself for plain text) and
// the raw line, so tools can pass other fields through untouched. JSONL text
// lives under a key, or a dotted path ("meta.content") into nested objects.
// Malformed JSON, a missing key, a non-string value and invalid UTF-8 are
// DataLoss errors naming file:line, unless the options say to skip (counted)
// or to replace invalid UTF-8 with U+FFFD. Blank lines in JSONL are ignored
// and counted; in plain text every line is a document.
//
// Parsing is simdjson On-Demand, compiled into this file (-march=native).
//
// Thread-safety: a DocumentReader is used by one thread at a time; the free
// functions are thread-safe.
#ifndef LLMTK_LIB_BASE_JSONL_H_
#define LLMTK_LIB_BASE_JSONL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/io.h"
#include "lib/base/json_writer.h"
#include "lib/base/status.h"

namespace llmtk {

enum class InputFormat { kAuto, kJsonl, kText };
enum class BadLinePolicy { kError, kSkip };
// kKeep: plain-text lines pass their bytes on as they are (for tokenizers
// that take any bytes, as llama.cpp's do); JSON lines must still be UTF-8.
enum class InvalidUtf8Policy { kError, kReplace, kKeep };

struct DocumentReaderOptions {
  std::string text_key = "text";
  // kAuto: JSONL when the first non-blank byte of each input is '{'.
  InputFormat format = InputFormat::kAuto;
  BadLinePolicy on_bad_line = BadLinePolicy::kError;
  InvalidUtf8Policy invalid_utf8 = InvalidUtf8Policy::kError;
};

struct Document {
  std::string_view text;  // valid until the next Next()
  std::string_view raw;   // the whole line, without its line ending
  const std::string* source = nullptr;  // input name
  uint64_t line_number = 0;             // 1-based within `source`
  uint64_t index = 0;                   // 0-based over all documents yielded
  bool is_json = false;                 // raw is a JSON object
};

class DocumentReader {
 public:
  // `paths` as given on the command line (expanded with ExpandInputs).
  static absl::StatusOr<std::unique_ptr<DocumentReader>> Open(
      const std::vector<std::string>& paths, const DocumentReaderOptions& opts);
  ~DocumentReader();

  // Fills *doc and returns true, or returns false after the last document.
  absl::StatusOr<bool> Next(Document* doc);

  uint64_t documents() const { return documents_; }
  uint64_t skipped() const { return skipped_; }          // bad lines skipped
  uint64_t blank_lines() const { return blank_lines_; }  // ignored in JSONL
  uint64_t replaced_utf8() const { return replaced_utf8_; }  // docs repaired
  // The first skipped line's error (empty when none), for the summary.
  const std::string& first_skip_reason() const { return first_skip_reason_; }
  // Progress: raw (compressed) bytes consumed and the sum of input sizes
  // (-1 when unknown, e.g. stdin).
  int64_t RawBytesRead() const;
  int64_t TotalBytesHint() const { return total_bytes_hint_; }
  uint64_t BytesRead() const { return bytes_read_; }  // decompressed line bytes

 private:
  DocumentReader() = default;
  absl::Status OpenNext();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> paths_;
  DocumentReaderOptions opts_;
  size_t next_path_ = 0;
  uint64_t documents_ = 0, skipped_ = 0, blank_lines_ = 0, replaced_utf8_ = 0, bytes_read_ = 0;
  int64_t total_bytes_hint_ = 0, raw_bytes_done_ = 0;
  std::string first_skip_reason_;
};

// DocumentReader in two halves, for callers that split lines on one thread
// and parse them on others (DocumentReader itself is built on them, so the
// two cannot differ).
//
// The in-order half: whether `line` is a document line of an input whose
// format is *format (start each input at options.format). A kAuto input
// takes its format from its first non-blank line; blank lines before it and
// in JSONL are no documents (DocumentReader counts them as blank_lines).
bool IsDocumentLine(std::string_view line, InputFormat* format);

// Readable bytes a caller of LineParser::Parse keeps after each line (as
// LineReader does), for simdjson.
inline constexpr size_t kLinePadding = 64;

// The per-line half: one document line to its text. Thread-safety: one
// thread at a time; use one LineParser per thread.
class LineParser {
 public:
  // InvalidArgument for an empty --text-key or an empty path component.
  static absl::StatusOr<std::unique_ptr<LineParser>> Create(const DocumentReaderOptions& opts);
  ~LineParser();

  // `line` (kLinePadding readable bytes after it) is a document line of a
  // JSONL (json) or plain-text input. Sets *text and *raw (valid until the
  // next Parse; raw is the line, or its repaired copy), and *repaired when
  // invalid UTF-8 was replaced with U+FFFD (also for a line then found bad).
  // A bad line is DataLoss with the message DocumentReader gives before
  // ", file:line"; on_bad_line is the caller's to apply.
  absl::Status Parse(std::string_view line, bool json, std::string_view* text, std::string_view* raw,
                     bool* repaired);

 private:
  LineParser() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Returns the JSON object `raw` with `fields` (key, already-serialized JSON
// value) set: existing top-level keys of the same name are replaced in place,
// new ones appended before the closing brace. Other bytes are kept as they are.
absl::StatusOr<std::string> SetJsonFields(
    std::string_view raw, const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_JSONL_H_
