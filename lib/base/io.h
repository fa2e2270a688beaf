// base/io: byte streams in and out of the tools.
//
// Inputs are files, directories (expanded to their document files, sorted) or
// "-" for stdin; zstd is detected by its magic number and decompressed as a
// stream (multi-frame too). A truncated or corrupt stream is a DataLoss error
// naming the path and the compressed byte offset, never a silent short read.
// Outputs go to stdout ("-" or empty path) or to a file written under a
// temporary name in the same directory and renamed by Close(); destroying an
// unclosed OutputFile removes the temporary. A ".zst" output name compresses.
//
// Thread-safety: each object is used by one thread at a time; distinct
// objects are independent.
#ifndef LLMTK_LIB_BASE_IO_H_
#define LLMTK_LIB_BASE_IO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace llmtk {

// A sequential source of (decompressed) bytes.
class InputStream {
 public:
  virtual ~InputStream() = default;
  // Reads up to `n` bytes into `buf`; returns 0 only at the end of input.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
  // The path as given, or "<stdin>".
  virtual const std::string& name() const = 0;
  // Total size of the underlying file in bytes (compressed size for zstd),
  // or -1 when unknown (pipes). For progress estimates only.
  virtual int64_t SizeHint() const = 0;
  // Bytes consumed from the underlying file so far (compressed for zstd).
  virtual int64_t RawBytesRead() const = 0;
};

// Opens one path or "-". zstd input is detected and decompressed.
absl::StatusOr<std::unique_ptr<InputStream>> OpenInput(std::string_view path);

// Expands directories into their document files (recursively, sorted by
// path); files and "-" are kept in the order given, whatever their names.
// In a directory, files ending in one of kDocumentExtensions are documents;
// hidden files and directories, names holding ".tmp." (outputs still being
// written) and llmtk-mix's manifest.json are skipped; any other file is an
// InvalidArgument error naming it, never read as documents. Missing paths
// are NotFound.
inline constexpr std::string_view kDocumentExtensions[] = {".jsonl", ".ndjson", ".txt", ".zst"};
inline constexpr std::string_view kMixManifestName = "manifest.json";
absl::StatusOr<std::vector<std::string>> ExpandInputs(const std::vector<std::string>& paths);

// Reads a whole input (decompressed) into memory.
absl::StatusOr<std::string> ReadFileToString(std::string_view path);

// Splits a stream into lines of any length. "\n" and "\r\n" endings are
// stripped; a missing final newline is fine.
class LineReader {
 public:
  explicit LineReader(std::unique_ptr<InputStream> in);
  // Sets *line to the next line (valid until the next call) and returns true,
  // or returns false at the end of input.
  absl::StatusOr<bool> Next(std::string_view* line);
  // 1-based number of the line last returned.
  uint64_t line_number() const { return line_number_; }
  // Decompressed byte offset where the line last returned starts.
  uint64_t line_offset() const { return line_offset_; }
  const std::string& name() const { return in_->name(); }
  InputStream& stream() { return *in_; }

 private:
  absl::Status Fill();
  std::unique_ptr<InputStream> in_;
  std::string buf_;
  size_t begin_ = 0, end_ = 0;  // unread bytes are buf_[begin_, end_)
  bool eof_ = false;
  uint64_t line_number_ = 0, line_offset_ = 0, consumed_ = 0;
};

struct OutputOptions {
  // zstd compression level for ".zst" outputs (1..19).
  int zstd_level = 3;
  // Compress even when the name does not end in ".zst".
  bool force_zstd = false;
};

// Status returned by writes to a closed pipe (EPIPE). Tools end quietly with
// exit code 0 on it; see IsBrokenPipe.
absl::Status BrokenPipeError();
bool IsBrokenPipe(const absl::Status& s);

// Creates the directories above `path` that do not exist yet (`mkdir -p
// "$(dirname path)"`), so that every output, -o data/heldout included, may
// name a new directory. Every tool's file outputs go through it.
absl::Status CreateParentDirectories(std::string_view path);

class OutputFile {
 public:
  // "-" or "" is stdout. An existing path that is not a regular file (a
  // device such as /dev/null, a FIFO) is written in place. Otherwise creates
  // the missing parent directories and "<path>.tmp.<pid>.<n>" next to it.
  static absl::StatusOr<std::unique_ptr<OutputFile>> Open(std::string_view path,
                                                          const OutputOptions& opts = {});
  ~OutputFile();  // removes the temporary file unless Close() succeeded
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  absl::Status Write(std::string_view data);
  // Flushes (ends the zstd frame), fsyncs and renames to the final name.
  absl::Status Close();
  const std::string& name() const { return path_; }
  uint64_t bytes_written() const { return bytes_in_; }  // before compression

 private:
  OutputFile() = default;
  absl::Status WriteRaw(const char* p, size_t n);
  absl::Status FlushBuffer();
  std::string path_, tmp_path_;
  int fd_ = -1;
  bool is_stdout_ = false, closed_ = false;
  bool in_place_ = false;  // a device or pipe: no temporary file, no rename
  struct Zstd;
  std::unique_ptr<Zstd> zstd_;
  std::string buf_;
  uint64_t bytes_in_ = 0;
};

// A read-only memory map of a whole file (empty files map to size 0).
class MappedFile {
 public:
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(std::string_view path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& name() const { return path_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Where a --json report goes, in every tool: stdout carries data only, so a
// run that writes its data to stdout (output "-" or "") puts the report on
// stderr; any other run (data to a file, or no data) puts it on stdout.
// --quiet silences progress and the human summary, never a --json report.
bool DataOnStdout(std::string_view output);
// Writes a --json report (a trailing newline added if missing) where the
// rule above says; a closed stdout is BrokenPipeError.
absl::Status WriteJsonReport(std::string_view data_output, std::string_view json);

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_IO_H_
