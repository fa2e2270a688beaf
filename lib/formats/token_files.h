// formats/token_files: the on-disk token formats training code reads.
//
// nanoGPT .bin: the token ids of the whole corpus back to back, no header,
// little-endian uint16 when the vocabulary has at most 65536 entries, else
// uint32. The reader must be told the element type (the file cannot say).
//
// Megatron-LM MMapIndexedDataset: a data file PREFIX.bin holding the tokens of
// every sequence back to back in one element type, and an index PREFIX.idx,
// all little-endian:
//   offset 0   9 bytes  magic "MMIDIDX\0\0"
//          9   u64      version, 1
//         17   u8       dtype code (MegatronDtype)
//         18   u64      S, the number of sequences
//         26   u64      D, the number of entries of the document index
//                       (documents + 1: it starts with 0)
//         34   i32[S]   sequence lengths, in elements
//              i64[S]   sequence pointers, byte offsets into PREFIX.bin
//              i64[D]   document index: document d is sequences
//                       [index[d], index[d+1])
//            [ i8[S]    sequence modes; only in multimodal datasets, which
//                       the reader accepts and ignores ]
// This is what megatron/core/datasets/indexed_dataset.py (_IndexWriter,
// IndexedDatasetBuilder) writes. A document usually is one sequence; a writer
// may split a document into several (e.g. sentences).
//
// Writers stream: tokens go to disk as they are appended; the Megatron index
// (12 bytes per sequence, 8 per document) is kept in memory and written by
// Close(). Files are written under temporary names and renamed by Close(), so
// an interrupted run leaves no file that looks complete. Readers map the files,
// validate every header field and index entry, and report truncation or
// corruption as DataLoss naming the file and byte offset.
//
// Thread-safety: each writer or reader is used by one thread at a time; a
// reader is immutable after Open() and its const methods may be shared.
#ifndef LLMTK_LIB_FORMATS_TOKEN_FILES_H_
#define LLMTK_LIB_FORMATS_TOKEN_FILES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/io.h"
#include "lib/base/status.h"

namespace llmtk {

// ---------------------------------------------------------------- nanoGPT

enum class NanoGptDtype { kUint16, kUint32 };

// uint16 when every id of a `vocab_size` vocabulary fits (<= 65536), else uint32.
NanoGptDtype NanoGptDtypeForVocab(uint64_t vocab_size);
size_t NanoGptDtypeSize(NanoGptDtype dtype);
std::string_view NanoGptDtypeName(NanoGptDtype dtype);  // "uint16", "uint32"

class NanoGptWriter {
 public:
  static absl::StatusOr<std::unique_ptr<NanoGptWriter>> Open(std::string_view path, NanoGptDtype dtype);
  // Appends ids; an id that does not fit the element type is InvalidArgument
  // (nothing of that call is written).
  absl::Status Append(std::span<const uint32_t> tokens);
  absl::Status Close();
  uint64_t tokens_written() const { return tokens_; }
  NanoGptDtype dtype() const { return dtype_; }

 private:
  NanoGptWriter() = default;
  std::unique_ptr<OutputFile> out_;
  NanoGptDtype dtype_ = NanoGptDtype::kUint16;
  uint64_t tokens_ = 0;
  std::string buf_;
};

class NanoGptReader {
 public:
  // A file whose size is not a multiple of the element size is DataLoss.
  static absl::StatusOr<std::unique_ptr<NanoGptReader>> Open(std::string_view path, NanoGptDtype dtype);
  uint64_t size() const { return size_; }  // tokens
  uint32_t at(uint64_t i) const;           // i < size()
  // Tokens [begin, begin + count); OutOfRange past the end.
  absl::StatusOr<std::vector<uint32_t>> Read(uint64_t begin, uint64_t count) const;
  NanoGptDtype dtype() const { return dtype_; }

 private:
  NanoGptReader() = default;
  std::unique_ptr<MappedFile> file_;
  NanoGptDtype dtype_ = NanoGptDtype::kUint16;
  uint64_t size_ = 0;
};

// ---------------------------------------------------------------- Megatron

// Megatron's DType codes (indexed_dataset.py).
enum class MegatronDtype : uint8_t {
  kUint8 = 1,
  kInt8 = 2,
  kInt16 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kFloat64 = 6,
  kFloat32 = 7,
  kUint16 = 8,
};

// Megatron's own choice (DType.optimal_dtype): uint16 for fewer than 65500
// entries, else int32.
MegatronDtype MegatronDtypeForVocab(uint64_t vocab_size);
size_t MegatronDtypeSize(MegatronDtype dtype);
std::string_view MegatronDtypeName(MegatronDtype dtype);  // numpy's name
// Parses "uint16", "int32", ... (numpy names); InvalidArgument otherwise.
absl::StatusOr<MegatronDtype> ParseMegatronDtype(std::string_view name);

inline constexpr char kMegatronIndexMagic[9] = {'M', 'M', 'I', 'D', 'I', 'D', 'X', '\0', '\0'};
inline constexpr size_t kMegatronIndexHeaderSize = 34;

class MegatronWriter {
 public:
  // Writes `prefix`.bin and `prefix`.idx. Token ids are written as `dtype`;
  // float dtypes are InvalidArgument.
  static absl::StatusOr<std::unique_ptr<MegatronWriter>> Open(std::string_view prefix, MegatronDtype dtype);
  ~MegatronWriter();

  // One document of one sequence.
  absl::Status AddDocument(std::span<const uint32_t> tokens);
  // One document split into sequences of the given lengths (summing to
  // tokens.size(), else InvalidArgument). A bad id adds nothing of it.
  absl::Status AddDocument(std::span<const uint32_t> tokens, std::span<const int32_t> sequence_lengths);
  // Streaming form: sequences one by one, then EndDocument().
  absl::Status AddSequence(std::span<const uint32_t> tokens);
  absl::Status EndDocument();
  // Ends an open document (sequences added since the last EndDocument), then
  // writes the index and renames both files into place.
  absl::Status Close();

  uint64_t documents() const { return document_index_.size() - 1; }
  uint64_t sequences() const { return sequence_lengths_.size(); }
  uint64_t tokens_written() const { return tokens_; }
  MegatronDtype dtype() const { return dtype_; }

 private:
  MegatronWriter() = default;
  absl::Status CheckIds(std::span<const uint32_t> tokens) const;
  absl::Status WriteTokens(std::span<const uint32_t> tokens);
  std::string prefix_;
  MegatronDtype dtype_ = MegatronDtype::kUint16;
  std::unique_ptr<OutputFile> bin_;
  std::vector<int32_t> sequence_lengths_;
  std::vector<int64_t> document_index_{0};
  uint64_t tokens_ = 0;
  std::string buf_;
  bool closed_ = false;
};

class MegatronReader {
 public:
  // Opens `prefix`.idx and `prefix`.bin and validates the index against the
  // data file: magic, version, dtype, sizes, lengths, contiguous pointers,
  // a document index from 0 to S that never decreases.
  static absl::StatusOr<std::unique_ptr<MegatronReader>> Open(std::string_view prefix);

  MegatronDtype dtype() const { return dtype_; }
  uint64_t num_sequences() const { return sequence_lengths_.size(); }
  uint64_t num_documents() const { return document_index_.size() - 1; }
  uint64_t num_tokens() const { return num_tokens_; }
  const std::vector<int32_t>& sequence_lengths() const { return sequence_lengths_; }
  const std::vector<int64_t>& sequence_pointers() const { return sequence_pointers_; }
  const std::vector<int64_t>& document_index() const { return document_index_; }
  bool multimodal() const { return multimodal_; }

  // Token ids of sequence `i` / document `d` (all its sequences). OutOfRange
  // for a bad index; DataLoss for a negative id or one above 2^32-1; float
  // dtypes are Unimplemented.
  absl::StatusOr<std::vector<uint32_t>> Sequence(uint64_t i) const;
  absl::StatusOr<std::vector<uint32_t>> Document(uint64_t d) const;

 private:
  MegatronReader() = default;
  absl::Status Decode(uint64_t first_token, uint64_t count, std::vector<uint32_t>* out) const;
  std::string bin_path_;
  std::unique_ptr<MappedFile> bin_;
  MegatronDtype dtype_ = MegatronDtype::kUint16;
  std::vector<int32_t> sequence_lengths_;
  std::vector<int64_t> sequence_pointers_;
  std::vector<int64_t> document_index_;
  uint64_t num_tokens_ = 0;
  bool multimodal_ = false;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_FORMATS_TOKEN_FILES_H_
