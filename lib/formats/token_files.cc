#include "lib/formats/token_files.h"

#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace llmtk {
namespace {

// Explicit little-endian encoding, independent of the host's byte order.
void PutLe(std::string* out, uint64_t v, size_t bytes) {
  char b[8];
  for (size_t i = 0; i < bytes; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out->append(b, bytes);
}

uint64_t GetLe(const uint8_t* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

constexpr size_t kFlushBytes = 1 << 20;

}  // namespace

// ---------------------------------------------------------------- nanoGPT

NanoGptDtype NanoGptDtypeForVocab(uint64_t vocab_size) {
  return vocab_size <= 65536 ? NanoGptDtype::kUint16 : NanoGptDtype::kUint32;
}

size_t NanoGptDtypeSize(NanoGptDtype dtype) { return dtype == NanoGptDtype::kUint16 ? 2 : 4; }

std::string_view NanoGptDtypeName(NanoGptDtype dtype) {
  return dtype == NanoGptDtype::kUint16 ? "uint16" : "uint32";
}

absl::StatusOr<std::unique_ptr<NanoGptWriter>> NanoGptWriter::Open(std::string_view path, NanoGptDtype dtype) {
  auto w = std::unique_ptr<NanoGptWriter>(new NanoGptWriter());
  ASSIGN_OR_RETURN(w->out_, OutputFile::Open(path));
  w->dtype_ = dtype;
  return w;
}

absl::Status NanoGptWriter::Append(std::span<const uint32_t> tokens) {
  const size_t size = NanoGptDtypeSize(dtype_);
  if (dtype_ == NanoGptDtype::kUint16) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] > 0xffff) {
        return absl::InvalidArgumentError(absl::StrCat("token id ", tokens[i], " does not fit uint16, ",
                                                       out_->name(), " (use uint32 for vocabularies over 65536)"));
      }
    }
  }
  for (uint32_t t : tokens) PutLe(&buf_, t, size);
  tokens_ += tokens.size();
  if (buf_.size() >= kFlushBytes) {
    RETURN_IF_ERROR(out_->Write(buf_));
    buf_.clear();
  }
  return absl::OkStatus();
}

absl::Status NanoGptWriter::Close() {
  if (!buf_.empty()) RETURN_IF_ERROR(out_->Write(buf_));
  buf_.clear();
  return out_->Close();
}

absl::StatusOr<std::unique_ptr<NanoGptReader>> NanoGptReader::Open(std::string_view path, NanoGptDtype dtype) {
  auto r = std::unique_ptr<NanoGptReader>(new NanoGptReader());
  ASSIGN_OR_RETURN(r->file_, MappedFile::Open(path));
  r->dtype_ = dtype;
  const size_t size = NanoGptDtypeSize(dtype);
  if (r->file_->size() % size != 0) {
    return absl::DataLossError(absl::StrCat("truncated token file: ", r->file_->size(), " bytes is not a multiple of ",
                                            size, " (", ToAbsl(NanoGptDtypeName(dtype)), "); the last token at byte ",
                                            r->file_->size() / size * size, " is incomplete, ", ToAbsl(path)));
  }
  r->size_ = r->file_->size() / size;
  return r;
}

uint32_t NanoGptReader::at(uint64_t i) const {
  const size_t size = NanoGptDtypeSize(dtype_);
  return static_cast<uint32_t>(GetLe(file_->data() + i * size, size));
}

absl::StatusOr<std::vector<uint32_t>> NanoGptReader::Read(uint64_t begin, uint64_t count) const {
  if (begin > size_ || count > size_ - begin) {
    return absl::OutOfRangeError(absl::StrCat("tokens [", begin, ", ", begin + count, ") past the end (",
                                              size_, " tokens), ", file_->name()));
  }
  std::vector<uint32_t> out(count);
  for (uint64_t i = 0; i < count; ++i) out[i] = at(begin + i);
  return out;
}

// ---------------------------------------------------------------- Megatron

MegatronDtype MegatronDtypeForVocab(uint64_t vocab_size) {
  return vocab_size < 65500 ? MegatronDtype::kUint16 : MegatronDtype::kInt32;
}

size_t MegatronDtypeSize(MegatronDtype dtype) {
  switch (dtype) {
    case MegatronDtype::kUint8:
    case MegatronDtype::kInt8:
      return 1;
    case MegatronDtype::kInt16:
    case MegatronDtype::kUint16:
      return 2;
    case MegatronDtype::kInt32:
    case MegatronDtype::kFloat32:
      return 4;
    case MegatronDtype::kInt64:
    case MegatronDtype::kFloat64:
      return 8;
  }
  return 0;
}

std::string_view MegatronDtypeName(MegatronDtype dtype) {
  switch (dtype) {
    case MegatronDtype::kUint8: return "uint8";
    case MegatronDtype::kInt8: return "int8";
    case MegatronDtype::kInt16: return "int16";
    case MegatronDtype::kInt32: return "int32";
    case MegatronDtype::kInt64: return "int64";
    case MegatronDtype::kFloat64: return "float64";
    case MegatronDtype::kFloat32: return "float32";
    case MegatronDtype::kUint16: return "uint16";
  }
  return "unknown";
}

absl::StatusOr<MegatronDtype> ParseMegatronDtype(std::string_view name) {
  for (int code = 1; code <= 8; ++code) {
    auto d = static_cast<MegatronDtype>(code);
    if (MegatronDtypeName(d) == name) return d;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown token dtype '", ToAbsl(name),
                                                 "' (uint8, int8, int16, uint16, int32, int64)"));
}

namespace {

bool IsFloat(MegatronDtype d) { return d == MegatronDtype::kFloat32 || d == MegatronDtype::kFloat64; }

// The largest token id a dtype holds.
uint64_t MaxId(MegatronDtype d) {
  switch (d) {
    case MegatronDtype::kUint8: return 0xff;
    case MegatronDtype::kInt8: return 0x7f;
    case MegatronDtype::kInt16: return 0x7fff;
    case MegatronDtype::kUint16: return 0xffff;
    case MegatronDtype::kInt32: return 0x7fffffff;
    default: return 0xffffffff;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<MegatronWriter>> MegatronWriter::Open(std::string_view prefix, MegatronDtype dtype) {
  if (MegatronDtypeSize(dtype) == 0 || IsFloat(dtype)) {
    return absl::InvalidArgumentError(absl::StrCat("token dtype ", ToAbsl(MegatronDtypeName(dtype)),
                                                   " cannot hold token ids, ", ToAbsl(prefix), ".bin"));
  }
  auto w = std::unique_ptr<MegatronWriter>(new MegatronWriter());
  w->prefix_ = std::string(prefix);
  w->dtype_ = dtype;
  ASSIGN_OR_RETURN(w->bin_, OutputFile::Open(w->prefix_ + ".bin"));
  return w;
}

MegatronWriter::~MegatronWriter() = default;

absl::Status MegatronWriter::CheckIds(std::span<const uint32_t> tokens) const {
  const uint64_t max_id = MaxId(dtype_);
  for (uint32_t t : tokens) {
    if (t > max_id) {
      return absl::InvalidArgumentError(absl::StrCat("token id ", t, " does not fit ", ToAbsl(MegatronDtypeName(dtype_)),
                                                     ", ", bin_->name()));
    }
  }
  return absl::OkStatus();
}

absl::Status MegatronWriter::WriteTokens(std::span<const uint32_t> tokens) {
  RETURN_IF_ERROR(CheckIds(tokens));
  if (tokens.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InvalidArgumentError(absl::StrCat("sequence of ", tokens.size(),
                                                   " tokens is longer than an int32 length allows, ", bin_->name()));
  }
  const size_t size = MegatronDtypeSize(dtype_);
  for (uint32_t t : tokens) PutLe(&buf_, t, size);
  tokens_ += tokens.size();
  if (buf_.size() >= kFlushBytes) {
    RETURN_IF_ERROR(bin_->Write(buf_));
    buf_.clear();
  }
  return absl::OkStatus();
}

absl::Status MegatronWriter::AddSequence(std::span<const uint32_t> tokens) {
  if (closed_) return absl::FailedPreconditionError("writer is closed");
  RETURN_IF_ERROR(WriteTokens(tokens));
  sequence_lengths_.push_back(static_cast<int32_t>(tokens.size()));
  return absl::OkStatus();
}

absl::Status MegatronWriter::EndDocument() {
  if (closed_) return absl::FailedPreconditionError("writer is closed");
  document_index_.push_back(static_cast<int64_t>(sequence_lengths_.size()));
  return absl::OkStatus();
}

absl::Status MegatronWriter::AddDocument(std::span<const uint32_t> tokens) {
  RETURN_IF_ERROR(AddSequence(tokens));
  return EndDocument();
}

absl::Status MegatronWriter::AddDocument(std::span<const uint32_t> tokens, std::span<const int32_t> sequence_lengths) {
  uint64_t sum = 0;
  for (int32_t len : sequence_lengths) {
    if (len < 0) return absl::InvalidArgumentError(absl::StrCat("negative sequence length ", len));
    sum += static_cast<uint64_t>(len);
  }
  if (sum != tokens.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sequence lengths sum to ", sum, " but the document has ", tokens.size(), " tokens"));
  }
  RETURN_IF_ERROR(CheckIds(tokens));  // all or nothing of the document
  size_t at = 0;
  for (int32_t len : sequence_lengths) {
    RETURN_IF_ERROR(AddSequence(tokens.subspan(at, static_cast<size_t>(len))));
    at += static_cast<size_t>(len);
  }
  return EndDocument();
}

absl::Status MegatronWriter::Close() {
  if (closed_) return absl::FailedPreconditionError("writer is closed");
  if (document_index_.back() != static_cast<int64_t>(sequence_lengths_.size())) RETURN_IF_ERROR(EndDocument());
  closed_ = true;
  if (!buf_.empty()) RETURN_IF_ERROR(bin_->Write(buf_));
  buf_.clear();
  RETURN_IF_ERROR(bin_->Close());

  std::string idx;
  const size_t s = sequence_lengths_.size();
  idx.reserve(kMegatronIndexHeaderSize + 12 * s + 8 * document_index_.size());
  idx.append(kMegatronIndexMagic, sizeof(kMegatronIndexMagic));
  PutLe(&idx, 1, 8);
  PutLe(&idx, static_cast<uint8_t>(dtype_), 1);
  PutLe(&idx, s, 8);
  PutLe(&idx, document_index_.size(), 8);
  for (int32_t len : sequence_lengths_) PutLe(&idx, static_cast<uint32_t>(len), 4);
  const uint64_t size = MegatronDtypeSize(dtype_);
  uint64_t pointer = 0;
  for (int32_t len : sequence_lengths_) {
    PutLe(&idx, pointer, 8);
    pointer += static_cast<uint64_t>(len) * size;
  }
  for (int64_t d : document_index_) PutLe(&idx, static_cast<uint64_t>(d), 8);
  ASSIGN_OR_RETURN(auto idx_file, OutputFile::Open(prefix_ + ".idx"));
  RETURN_IF_ERROR(idx_file->Write(idx));
  return idx_file->Close();
}

absl::StatusOr<std::unique_ptr<MegatronReader>> MegatronReader::Open(std::string_view prefix) {
  const std::string idx_path = absl::StrCat(ToAbsl(prefix), ".idx");
  auto r = std::unique_ptr<MegatronReader>(new MegatronReader());
  r->bin_path_ = absl::StrCat(ToAbsl(prefix), ".bin");
  ASSIGN_OR_RETURN(auto idx, MappedFile::Open(idx_path));
  const uint8_t* p = idx->data();
  const uint64_t n = idx->size();
  auto corrupt = [&](uint64_t offset, std::string_view what) {
    return absl::DataLossError(absl::StrCat(ToAbsl(what), ", ", idx_path, " at byte ", offset));
  };
  if (n < kMegatronIndexHeaderSize) {
    if (n < 9 || memcmp(p, kMegatronIndexMagic, 9) != 0) {
      return corrupt(0, "not a Megatron index (no MMIDIDX magic)");
    }
    return corrupt(n, absl::StrCat("truncated index header: ", n, " bytes, the header alone has 34"));
  }
  if (memcmp(p, kMegatronIndexMagic, 9) != 0) return corrupt(0, "not a Megatron index (no MMIDIDX magic)");
  const uint64_t version = GetLe(p + 9, 8);
  if (version != 1) return corrupt(9, absl::StrCat("unsupported index version ", version, " (only 1 is defined)"));
  const uint8_t code = p[17];
  if (code < 1 || code > 8) return corrupt(17, absl::StrCat("unknown dtype code ", code, " (Megatron's are 1..8)"));
  r->dtype_ = static_cast<MegatronDtype>(code);
  const uint64_t s = GetLe(p + 18, 8);
  const uint64_t d = GetLe(p + 26, 8);
  if (d == 0) return corrupt(26, "document index has 0 entries (it always starts with 0)");
  // Sizes come from the file: bound them before any arithmetic can overflow.
  if (s > n || d > n) {
    return corrupt(s > n ? 18 : 26, absl::StrCat("sequence count ", s, " / document index size ", d,
                                                 " cannot fit a ", n, "-byte index"));
  }
  const uint64_t expected = kMegatronIndexHeaderSize + 12 * s + 8 * d;
  if (n == expected + s && s > 0) {
    r->multimodal_ = true;
  } else if (n != expected) {
    if (n < expected) {
      return corrupt(n, absl::StrCat("truncated index: ", s, " sequences and ", d, " document index entries need ",
                                     expected, " bytes, the file has ", n));
    }
    return corrupt(expected, absl::StrCat("index has ", n - expected, " unexpected trailing bytes (", s,
                                          " sequences and ", d, " document index entries need ", expected, ")"));
  }
  const uint64_t lengths_at = kMegatronIndexHeaderSize;
  const uint64_t pointers_at = lengths_at + 4 * s;
  const uint64_t docs_at = pointers_at + 8 * s;
  const uint64_t elem = MegatronDtypeSize(r->dtype_);
  r->sequence_lengths_.resize(s);
  r->sequence_pointers_.resize(s);
  uint64_t next_pointer = 0;
  for (uint64_t i = 0; i < s; ++i) {
    const int32_t len = static_cast<int32_t>(GetLe(p + lengths_at + 4 * i, 4));
    if (len < 0) return corrupt(lengths_at + 4 * i, absl::StrCat("sequence ", i, " has negative length ", len));
    const int64_t ptr = static_cast<int64_t>(GetLe(p + pointers_at + 8 * i, 8));
    if (ptr < 0 || static_cast<uint64_t>(ptr) != next_pointer) {
      return corrupt(pointers_at + 8 * i, absl::StrCat("sequence ", i, " starts at data byte ", ptr, ", expected ",
                                                       next_pointer, " (sequences are stored back to back)"));
    }
    r->sequence_lengths_[i] = len;
    r->sequence_pointers_[i] = ptr;
    next_pointer += static_cast<uint64_t>(len) * elem;
    r->num_tokens_ += static_cast<uint64_t>(len);
  }
  r->document_index_.resize(d);
  for (uint64_t i = 0; i < d; ++i) {
    const int64_t v = static_cast<int64_t>(GetLe(p + docs_at + 8 * i, 8));
    const int64_t prev = i == 0 ? 0 : r->document_index_[i - 1];
    if (i == 0 && v != 0) return corrupt(docs_at, absl::StrCat("document index starts with ", v, ", not 0"));
    if (v < prev || static_cast<uint64_t>(v) > s) {
      return corrupt(docs_at + 8 * i, absl::StrCat("document index entry ", i, " is ", v, ", outside [", prev,
                                                    ", ", s, "]"));
    }
    r->document_index_[i] = v;
  }
  if (static_cast<uint64_t>(r->document_index_.back()) != s) {
    return corrupt(docs_at + 8 * (d - 1), absl::StrCat("document index ends at sequence ", r->document_index_.back(),
                                                       ", not at the sequence count ", s));
  }
  ASSIGN_OR_RETURN(r->bin_, MappedFile::Open(r->bin_path_));
  if (r->bin_->size() != next_pointer) {
    return absl::DataLossError(absl::StrCat(
        r->bin_->size() < next_pointer ? "truncated data file: " : "data file has trailing bytes: ", r->bin_->size(),
        " bytes, the index describes ", next_pointer, " (", r->num_tokens_, " ",
        ToAbsl(MegatronDtypeName(r->dtype_)), " tokens), ", r->bin_path_, " at byte ",
        std::min<uint64_t>(r->bin_->size(), next_pointer)));
  }
  return r;
}

absl::Status MegatronReader::Decode(uint64_t first_token, uint64_t count, std::vector<uint32_t>* out) const {
  if (IsFloat(dtype_)) {
    return absl::UnimplementedError(absl::StrCat("float data (", ToAbsl(MegatronDtypeName(dtype_)),
                                                 ") holds no token ids, ", bin_path_));
  }
  const size_t elem = MegatronDtypeSize(dtype_);
  const bool is_signed = dtype_ == MegatronDtype::kInt8 || dtype_ == MegatronDtype::kInt16 ||
                         dtype_ == MegatronDtype::kInt32 || dtype_ == MegatronDtype::kInt64;
  out->resize(count);
  const uint8_t* base = bin_->data() + first_token * elem;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t v = GetLe(base + i * elem, elem);
    if (is_signed && elem < 8 && (v >> (8 * elem - 1)) != 0) v |= ~uint64_t{0} << (8 * elem);  // sign-extend
    const int64_t sv = static_cast<int64_t>(v);
    if ((is_signed && sv < 0) || v > 0xffffffffull) {
      return absl::DataLossError(absl::StrCat("token ", is_signed ? absl::StrCat(sv) : absl::StrCat(v),
                                              " is not a valid id, ", bin_path_, " at byte ",
                                              (first_token + i) * elem));
    }
    (*out)[i] = static_cast<uint32_t>(v);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint32_t>> MegatronReader::Sequence(uint64_t i) const {
  if (i >= num_sequences()) {
    return absl::OutOfRangeError(absl::StrCat("sequence ", i, " of ", num_sequences(), ", ", bin_path_));
  }
  std::vector<uint32_t> out;
  const uint64_t elem = MegatronDtypeSize(dtype_);
  RETURN_IF_ERROR(Decode(static_cast<uint64_t>(sequence_pointers_[i]) / elem,
                         static_cast<uint64_t>(sequence_lengths_[i]), &out));
  return out;
}

absl::StatusOr<std::vector<uint32_t>> MegatronReader::Document(uint64_t d) const {
  if (d >= num_documents()) {
    return absl::OutOfRangeError(absl::StrCat("document ", d, " of ", num_documents(), ", ", bin_path_));
  }
  const uint64_t first = static_cast<uint64_t>(document_index_[d]);
  const uint64_t last = static_cast<uint64_t>(document_index_[d + 1]);
  std::vector<uint32_t> out;
  if (first == last) return out;
  const uint64_t elem = MegatronDtypeSize(dtype_);
  uint64_t count = 0;
  for (uint64_t i = first; i < last; ++i) count += static_cast<uint64_t>(sequence_lengths_[i]);
  RETURN_IF_ERROR(Decode(static_cast<uint64_t>(sequence_pointers_[first]) / elem, count, &out));
  return out;
}

}  // namespace llmtk
