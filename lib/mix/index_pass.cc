#include "lib/mix/index_pass.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "lib/base/json_writer.h"
#include "lib/base/parallel.h"
#include "lib/base/sha256.h"
#include "simdjson.h"

namespace llmtk {
namespace {

namespace fs = std::filesystem;

// Buffered append-only file for the spool (no fsync: it is temporary).
class SpoolWriter {
 public:
  absl::Status Open(const std::string& path) {
    path_ = path;
    fd_ = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) return absl::InternalError(absl::StrCat("cannot create spool file: ", strerror(errno), ", ", path));
    return absl::OkStatus();
  }
  ~SpoolWriter() {
    if (fd_ >= 0) close(fd_);
  }
  uint64_t offset() const { return written_ + buf_.size(); }
  absl::Status Append(std::string_view s) {
    buf_.append(s.data(), s.size());
    if (buf_.size() >= (4 << 20)) return Flush();
    return absl::OkStatus();
  }
  absl::Status Flush() {
    size_t at = 0;
    while (at < buf_.size()) {
      ssize_t w = write(fd_, buf_.data() + at, buf_.size() - at);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        return absl::ResourceExhaustedError(
            absl::StrCat("cannot write spool file: ", strerror(errno), ", ", path_,
                         " (the mixer needs temporary disk as large as the decompressed inputs)"));
      }
      at += static_cast<size_t>(w);
    }
    written_ += buf_.size();
    buf_.clear();
    return absl::OkStatus();
  }
  absl::Status Close() {
    RETURN_IF_ERROR(Flush());
    close(fd_);
    fd_ = -1;
    return absl::OkStatus();
  }

 private:
  std::string path_, buf_;
  int fd_ = -1;
  uint64_t written_ = 0;
};



absl::StatusOr<uint64_t> TokenCount(simdjson::ondemand::parser* parser, std::string* pad, std::string_view raw,
                                    const std::string& key) {
  pad->assign(raw.data(), raw.size());
  pad->append(simdjson::SIMDJSON_PADDING, ' ');
  simdjson::ondemand::document doc;
  if (parser->iterate(pad->data(), raw.size(), pad->size()).get(doc)) {
    return absl::DataLossError("malformed JSON");
  }
  simdjson::ondemand::value v;
  if (doc.find_field_unordered(key).get(v)) {
    return absl::DataLossError(absl::StrCat("no \"", key, "\" field (--tokens-key)"));
  }
  uint64_t n;
  if (v.get_uint64().get(n)) {
    return absl::DataLossError(absl::StrCat("\"", key, "\" is not a non-negative integer"));
  }
  return n;
}

// One document made ready for the spool.
struct Prepared {
  std::string bytes;  // the output line, or (Megatron) the token ids, uint32 LE
  uint32_t text_bytes = 0;
  uint32_t tokens = 0;
};

// Per-document work of the index pass: token count, source field, tokens.
// A data problem is returned as DataLoss without location; the caller adds it.
absl::Status PrepareDoc(const IndexOptions& io, simdjson::ondemand::parser* parser, std::string* pad,
                        std::string_view raw, std::string_view text, bool is_json, Prepared* out) {
  if (raw.size() > UINT32_MAX / 2 || text.size() > UINT32_MAX) {
    return absl::ResourceExhaustedError("document over 2 GiB");
  }
  out->text_bytes = static_cast<uint32_t>(text.size());
  uint64_t tokens = 0;
  if (io.tokenizer) {
    std::vector<uint32_t> ids;
    RETURN_IF_ERROR(EncodeDocument(*io.tokenizer, io.specials, text, &ids));
    tokens = ids.size();
    if (io.megatron) {
      out->bytes.resize(4 * ids.size());
      for (size_t i = 0; i < ids.size(); ++i) {
        for (int b = 0; b < 4; ++b) out->bytes[4 * i + b] = static_cast<char>((ids[i] >> (8 * b)) & 0xff);
      }
    }
  } else if (!io.tokens_key.empty()) {
    if (!is_json) return absl::DataLossError("plain text has no token count field");
    ASSIGN_OR_RETURN(tokens, TokenCount(parser, pad, raw, io.tokens_key));
    if (tokens > UINT32_MAX) return absl::DataLossError(absl::StrCat("token count ", tokens, " is too large"));
  }
  out->tokens = static_cast<uint32_t>(tokens);
  if (io.megatron) return absl::OkStatus();
  if (!is_json) {
    std::string& line = out->bytes;
    line.clear();
    line += '{';
    AppendJsonString(&line, io.reader.text_key);
    line += ':';
    AppendJsonString(&line, text);
    if (!io.source_field.empty()) {
      line += ',';
      AppendJsonString(&line, io.source_field);
      line += ':';
      line += io.source_json;
    }
    line += '}';
  } else if (!io.source_field.empty()) {
    ASSIGN_OR_RETURN(out->bytes, SetJsonFields(raw, {{io.source_field, io.source_json}}));
  } else {
    out->bytes.assign(raw.data(), raw.size());
  }
  return absl::OkStatus();
}

struct DocBatch {
  std::vector<std::string> raw, text;
  std::vector<uint64_t> line;
  std::vector<bool> is_json;
};

struct PreparedBatch {
  std::vector<Prepared> docs;
  std::vector<absl::Status> status;
  std::vector<uint64_t> line;
};

// Prepares every document `reader` gives (PrepareDoc), in input order, and
// hands each to add(prepared, status, line), calling tick() per document
// read. With a tokenizer the preparation runs on `threads` workers over
// batches of documents, results kept in input order.
template <typename Tick, typename Add>
absl::Status PrepareAllDocs(const IndexOptions& io, DocumentReader* reader, int threads, Tick& tick, Add& add) {
  Document doc;
  if (io.tokenizer == nullptr || threads <= 1) {
    simdjson::ondemand::parser parser;
    std::string pad;
    Prepared p;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
      if (!more) break;
      tick();
      absl::Status st = PrepareDoc(io, &parser, &pad, doc.raw, doc.text, doc.is_json, &p);
      RETURN_IF_ERROR(add(p, st, doc.line_number));
    }
    return absl::OkStatus();
  }
  constexpr size_t kBatchBytes = 1 << 20;
  auto produce = [&](DocBatch* b) -> absl::StatusOr<bool> {
    size_t bytes = 0;
    while (bytes < kBatchBytes) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
      if (!more) break;
      tick();
      b->raw.emplace_back(doc.raw);
      b->text.emplace_back(doc.text);
      b->line.push_back(doc.line_number);
      b->is_json.push_back(doc.is_json);
      bytes += doc.raw.size() + 64;
    }
    return !b->raw.empty();
  };
  auto work = [&](DocBatch& b, PreparedBatch* out) -> absl::Status {
    simdjson::ondemand::parser parser;
    std::string pad;
    out->docs.resize(b.raw.size());
    out->status.resize(b.raw.size());
    out->line = std::move(b.line);
    for (size_t i = 0; i < b.raw.size(); ++i) {
      out->status[i] = PrepareDoc(io, &parser, &pad, b.raw[i], b.text[i], b.is_json[i], &out->docs[i]);
    }
    return absl::OkStatus();
  };
  auto consume = [&](PreparedBatch& out) -> absl::Status {
    for (size_t i = 0; i < out.docs.size(); ++i) RETURN_IF_ERROR(add(out.docs[i], out.status[i], out.line[i]));
    return absl::OkStatus();
  };
  return OrderedParallelMap<DocBatch, PreparedBatch>(threads, produce, work, consume);
}

// The sha256 of a file input, which must still be the one a manifest recorded.
absl::Status HashInput(MixInputIndex* in) {
  ASSIGN_OR_RETURN(in->sha256, Sha256File(in->path));
  if (!in->expected_sha256.empty() && in->expected_sha256 != in->sha256) {
    return absl::DataLossError(absl::StrCat("input changed since the manifest was written: sha256 ", in->sha256,
                                            ", the manifest says ", in->expected_sha256, ", ", in->path));
  }
  return absl::OkStatus();
}

// Reads one input: validates every document, prepares it (PrepareAllDocs)
// and appends it to the spool, indexing where it lies.
absl::Status IndexInput(const IndexOptions& io, const std::string& spool_path, int threads, MixInputIndex* in) {
  if (in->path != "-") {
    std::error_code ec;
    in->file_bytes = static_cast<int64_t>(fs::file_size(in->path, ec));
    if (ec) in->file_bytes = -1;
  }
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open({in->path}, io.reader));
  SpoolWriter spool;
  RETURN_IF_ERROR(spool.Open(spool_path));
  const bool want_tokens = io.tokenizer != nullptr || !io.tokens_key.empty();
  auto add = [&](const Prepared& p, const absl::Status& st, uint64_t line) -> absl::Status {
    if (!st.ok()) {
      const std::string where = absl::StrCat(in->path, ":", line);
      if (io.reader.on_bad_line == BadLinePolicy::kSkip && st.code() == absl::StatusCode::kDataLoss) {
        if (in->skipped++ == 0) in->first_skip = std::string(Annotate(st, where).message());
        return absl::OkStatus();
      }
      return Annotate(st, where);
    }
    in->offset.push_back(spool.offset());
    in->length.push_back(static_cast<uint32_t>(p.bytes.size()));
    in->text_bytes.push_back(p.text_bytes);
    if (want_tokens) in->tokens.push_back(p.tokens);
    return spool.Append(p.bytes);
  };
  // Progress in input bytes (compressed ones for zstd), so the total of the
  // file sizes gives an ETA; several inputs may be read at once.
  int64_t raw_seen = 0;
  auto tick = [&]() {
    if (io.progress == nullptr) return;
    const int64_t now = std::max<int64_t>(raw_seen, reader->RawBytesRead());
    io.progress->Add(1, static_cast<uint64_t>(now - raw_seen));
    raw_seen = now;
  };
  RETURN_IF_ERROR(PrepareAllDocs(io, reader.get(), threads, tick, add));
  in->skipped += reader->skipped();
  if (in->first_skip.empty()) in->first_skip = reader->first_skip_reason();
  RETURN_IF_ERROR(spool.Close());
  ASSIGN_OR_RETURN(in->spool, MappedFile::Open(spool_path));
  if (in->path != "-") RETURN_IF_ERROR(HashInput(in));
  return absl::OkStatus();
}

}  // namespace

absl::Status IndexAllInputs(IndexOptions io, const std::string& tmp_dir, int threads, bool progress,
                            const std::vector<std::unique_ptr<MixInputIndex>>& inputs,
                            const std::vector<MixSourceData>& data) {
  Progress reading("mix: reading", progress);
  int64_t input_bytes = 0;
  for (const auto& in : inputs) {
    std::error_code size_ec;
    const auto size = in->path == "-" ? 0 : fs::file_size(in->path, size_ec);
    input_bytes += size_ec ? 0 : static_cast<int64_t>(size);
  }
  if (input_bytes > 0) reading.SetTotalBytes(input_bytes);
  io.progress = &reading;
  std::vector<absl::Status> status(inputs.size());
  auto index_one = [&](size_t k, int inner_threads) {
    IndexOptions mine = io;
    mine.source_json = data[inputs[k]->source].name_json;
    status[k] = IndexInput(mine, absl::StrCat(tmp_dir, "/.spool/", k), inner_threads, inputs[k].get());
  };
  if (io.tokenizer) {
    // Tokenizing is the heavy part: parallel within each input, inputs in turn.
    for (size_t k = 0; k < inputs.size() && (k == 0 || status[k - 1].ok()); ++k) index_one(k, threads);
  } else {
    ThreadPool pool(threads);
    pool.ParallelFor(inputs.size(), [&](size_t k) { index_one(k, 1); });
  }
  for (const absl::Status& s : status) RETURN_IF_ERROR(s);
  reading.Finish();
  return absl::OkStatus();
}

}  // namespace llmtk
