// Pass 1: reading, parsing and signing every document (SignFiles).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "lib/base/json_writer.h"
#include "lib/base/progress.h"
#include "lib/base/unicode.h"
#include "lib/dedup/passes.h"
#include "lib/dedup/passes_internal.h"
#include "simdjson.h"

namespace llmtk {

using namespace dedup_pass;  // NOLINT: the pass files' shared pieces

namespace {

// The numeric value of top-level `key` in `raw`; false when absent or not a number.
bool NumberField(std::string_view raw, const std::string& key, double* v) {
  simdjson::padded_string padded(raw.data(), raw.size());
  simdjson::ondemand::document doc;
  if (Parser().iterate(padded).get(doc)) return false;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return false;
  simdjson::ondemand::value val;
  if (obj.find_field_unordered(key).get(val)) return false;
  double d;
  if (val.get_double().get(d)) return false;
  *v = d;
  return true;
}

// Document lines of one file, split on the reading thread, parsed on a worker.
struct LineBatch {
  std::string lines;  // back to back, kLinePadding bytes after the last
  std::vector<size_t> ends;
  std::vector<uint64_t> numbers;  // line numbers
  const std::string* source = nullptr;  // the input's name
  bool json = false;
  std::string_view Line(size_t i) const {
    size_t b = i ? ends[i - 1] : 0;
    return std::string_view(lines).substr(b, ends[i] - b);
  }
};

// A batch's features, flat (a vector per document would be allocated on a
// worker and freed on the consuming thread).
struct SignResult {
  std::vector<Hash128> exact;
  std::vector<uint64_t> band;
  std::vector<uint16_t> sig16;
  std::vector<double> keep;
  std::vector<uint64_t> lines;  // the documents' line numbers
  uint64_t missing = 0, bytes = 0, skipped = 0, replaced = 0;
  bool json = false;
};

// LineParsers for the workers of one pass, each used by one at a time.
class ParserPool {
 public:
  explicit ParserPool(const DocumentReaderOptions& opts) : opts_(opts) {}
  absl::StatusOr<std::unique_ptr<LineParser>> Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        auto p = std::move(free_.back());
        free_.pop_back();
        return p;
      }
    }
    return LineParser::Create(opts_);
  }
  void Give(std::unique_ptr<LineParser> p) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(p));
  }

 private:
  const DocumentReaderOptions& opts_;
  std::mutex mu_;
  std::vector<std::unique_ptr<LineParser>> free_;
};

}  // namespace

SignOptions MakeSignOptions(const DedupOptions& o, const LshParams& lsh) {
  SignOptions so;
  so.normalize = o.normalize;
  so.shingle.ngram = o.ngram;
  so.shingle.cjk_ngram = o.cjk_ngram;
  so.shingle.seed = o.seed;
  so.lsh = lsh;
  so.seed = o.seed;
  so.keep_sig16 = o.verify != VerifyMode::kExact;
  return so;
}

namespace {

// Splits document lines off `reader` into `b` (as DocumentReader would:
// IsDocumentLine), counting blank lines; false at the end. A read error after
// some lines is kept in *read_error and returned by the next call, so the
// lines before it are signed first.
absl::StatusOr<bool> ReadLineBatch(LineReader& reader, InputFormat* format, absl::Status* read_error,
                                   uint64_t* blank_lines, LineBatch* b) {
  RETURN_IF_ERROR(*read_error);
  b->source = &reader.name();
  while (b->ends.size() < kBatchDocs && b->lines.size() < kSignBatchBytes) {
    std::string_view l;
    absl::StatusOr<bool> got = reader.Next(&l);
    if (!got.ok()) {
      if (b->ends.empty()) return got.status();
      *read_error = got.status();
      break;
    }
    if (!*got) break;
    if (!IsDocumentLine(l, format)) {
      ++*blank_lines;
      continue;
    }
    b->lines.append(l);
    b->ends.push_back(b->lines.size());
    b->numbers.push_back(reader.line_number());
  }
  if (b->ends.empty()) return false;
  b->json = *format == InputFormat::kJsonl;
  b->lines.append(kLinePadding, '\0');
  return true;
}

// Once 16 MB are read, reserves the table for the documents expected in all
// inputs (at the rate so far, with a margin): growing it by doubling would
// copy it and touch fresh pages several times over, and reserved pages that
// are never written cost no memory.
class TableReserver {
 public:
  TableReserver(const std::vector<std::string>& files, bool use_score, DocTable* table, DocLines* lines)
      : use_score_(use_score), table_(table), lines_(lines) {
    for (const std::string& file : files) {
      std::error_code ec;
      const uint64_t size = std::filesystem::file_size(file, ec);
      total_size_ = ec || total_size_ < 0 ? -1 : total_size_ + static_cast<int64_t>(size);
    }
    reserved_ = total_size_ <= 0;
  }
  // `raw`: the input bytes read so far.
  void Reserve(int64_t raw) {
    if (reserved_ || raw < (16 << 20)) return;
    reserved_ = true;
    const size_t docs = table_->size() + 1024 +
                        static_cast<size_t>(1.25 * static_cast<double>(table_->size()) *
                                            static_cast<double>(total_size_ - raw) / static_cast<double>(raw));
    table_->exact.reserve(docs);
    table_->band.reserve(docs * table_->bands);
    if (table_->has_sig16) table_->sig16.reserve(docs * table_->num_perm);
    if (use_score_) table_->keep.reserve(docs);
    if (lines_) lines_->line.reserve(docs);
  }

 private:
  const bool use_score_;
  DocTable* table_;
  DocLines* lines_;
  int64_t total_size_ = 0;
  bool reserved_ = false;
};

// What one input file's paths add up to.
struct FileSignTotals {
  uint64_t documents = 0, replaced = 0;
  bool last_json = false;
};

// Pass 1 (SignFiles): this thread only splits lines; the workers parse them
// (LineParser) and sign the texts, so that the reading thread does not bound
// the pass.
class FileSigner {
 public:
  FileSigner(const std::vector<std::string>& files, const DedupOptions& o, const SignOptions& so, DocTable* table,
             DedupReport* rep, DocLines* lines)
      : o_(o),
        so_(so),
        table_(table),
        rep_(rep),
        lines_(lines),
        threads_(ResolveThreads(o.threads)),
        hasher_(so.lsh.num_perm(), so.seed),
        progress_("dedup: signing", ShowProgress(o)),
        parsers_(o.reader),
        reserver_(files, o.keep != KeepPolicy::kFirst, table, lines) {}

  // Signs `file` (all the paths it expands to); appends its document count.
  absl::Status SignFile(const std::string& file, std::vector<uint64_t>* counts);
  void Finish() { progress_.Finish(); }

 private:
  absl::Status SignPath(const std::string& path, FileSignTotals* totals);
  // A worker's part: parses and signs a batch's lines with a pooled parser.
  absl::Status SignBatch(LineBatch& b, SignResult* r);
  absl::Status SignLines(const LineBatch& b, LineParser* parser, SignResult* r);
  // Appends a batch's features to the table, in input order.
  absl::Status Absorb(const SignResult& r, FileSignTotals* totals);

  const DedupOptions& o_;
  const SignOptions& so_;
  DocTable* table_;
  DedupReport* rep_;
  DocLines* lines_;
  const int threads_;
  const MinHasher hasher_;
  Progress progress_;
  ParserPool parsers_;
  TableReserver reserver_;
  int64_t raw_done_ = 0;  // input bytes of the paths signed so far
};

absl::Status FileSigner::SignLines(const LineBatch& b, LineParser* parser, SignResult* r) {
  r->json = b.json;
  DocFeatures f;
  r->exact.reserve(b.ends.size());
  r->band.reserve(b.ends.size() * so_.lsh.bands);
  if (so_.keep_sig16) r->sig16.reserve(b.ends.size() * so_.lsh.num_perm());
  r->lines.reserve(b.ends.size());
  for (size_t i = 0; i < b.ends.size(); ++i) {
    std::string_view text, raw;
    bool repaired = false;
    absl::Status st = parser->Parse(b.Line(i), b.json, &text, &raw, &repaired);
    r->replaced += repaired;
    if (!st.ok()) {
      if (o_.reader.on_bad_line == BadLinePolicy::kError)
        return absl::DataLossError(absl::StrCat(st.message(), ", ", *b.source, ":", b.numbers[i]));
      ++r->skipped;
      continue;
    }
    r->lines.push_back(b.numbers[i]);
    r->bytes += raw.size() + 1;
    SignText(text, so_, hasher_, &f);
    r->exact.push_back(f.exact);
    r->band.insert(r->band.end(), f.band.begin(), f.band.end());
    r->sig16.insert(r->sig16.end(), f.sig16.begin(), f.sig16.end());
    if (o_.keep == KeepPolicy::kLongest) {
      r->keep.push_back(static_cast<double>(text.size()));
    } else if (o_.keep == KeepPolicy::kField) {
      double v;
      if (NumberField(raw, o_.keep_field, &v)) {
        r->keep.push_back(v);
      } else {
        r->keep.push_back(-std::numeric_limits<double>::infinity());
        ++r->missing;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status FileSigner::SignBatch(LineBatch& b, SignResult* r) {
  ASSIGN_OR_RETURN(std::unique_ptr<LineParser> parser, parsers_.Take());
  absl::Status status = SignLines(b, parser.get(), r);
  parsers_.Give(std::move(parser));
  return status;
}

absl::Status FileSigner::Absorb(const SignResult& r, FileSignTotals* totals) {
  const size_t docs = r.exact.size();
  if (table_->size() + docs > kNone) return absl::ResourceExhaustedError("more than 4294967294 documents in one run");
  table_->Append(r.exact, r.band, r.sig16);
  table_->keep.insert(table_->keep.end(), r.keep.begin(), r.keep.end());
  if (lines_) lines_->line.insert(lines_->line.end(), r.lines.begin(), r.lines.end());
  if (docs) totals->last_json = r.json;
  totals->documents += docs;
  rep_->bytes += r.bytes;
  rep_->skipped += r.skipped;
  totals->replaced += r.replaced;
  rep_->missing_keep_field += r.missing;
  progress_.Add(docs, r.bytes);
  return absl::OkStatus();
}

absl::Status FileSigner::SignPath(const std::string& path, FileSignTotals* totals) {
  ASSIGN_OR_RETURN(auto in, OpenInput(path));
  LineReader reader(std::move(in));
  InputFormat format = o_.reader.format;
  absl::Status read_error;  // after the lines before it are parsed
  std::function<absl::StatusOr<bool>(LineBatch*)> produce = [&](LineBatch* b) {
    return ReadLineBatch(reader, &format, &read_error, &rep_->blank_lines, b);
  };
  std::function<absl::Status(LineBatch&, SignResult*)> work = [&](LineBatch& b, SignResult* r) {
    return SignBatch(b, r);
  };
  std::function<absl::Status(SignResult&)> consume = [&](SignResult& r) {
    RETURN_IF_ERROR(Absorb(r, totals));
    reserver_.Reserve(raw_done_ + reader.stream().RawBytesRead());
    return absl::OkStatus();
  };
  RETURN_IF_ERROR((OrderedParallelMap<LineBatch, SignResult>(threads_, produce, work, consume)));
  raw_done_ += reader.stream().RawBytesRead();
  return absl::OkStatus();
}

absl::Status FileSigner::SignFile(const std::string& file, std::vector<uint64_t>* counts) {
  // The first parser checks --text-key before the file is opened, as
  // DocumentReader::Open does.
  ASSIGN_OR_RETURN(std::unique_ptr<LineParser> first, parsers_.Take());
  parsers_.Give(std::move(first));
  ASSIGN_OR_RETURN(std::vector<std::string> paths, ExpandInputs({file}));
  FileSignTotals totals;
  for (const std::string& path : paths) RETURN_IF_ERROR(SignPath(path, &totals));
  counts->push_back(totals.documents);
  if (lines_) {
    lines_->json.push_back(totals.last_json);
    lines_->repaired.push_back(totals.replaced > 0);
  }
  rep_->documents += totals.documents;
  rep_->replaced_utf8 += totals.replaced;
  return absl::OkStatus();
}

}  // namespace

absl::Status SignFiles(const std::vector<std::string>& files, const DedupOptions& o, const SignOptions& so,
                       DocTable* table, std::vector<uint64_t>* counts, DedupReport* rep,
                       DocLines* lines) {
  FileSigner signer(files, o, so, table, rep, lines);
  for (const std::string& file : files) RETURN_IF_ERROR(signer.SignFile(file, counts));
  signer.Finish();
  return absl::OkStatus();
}

}  // namespace llmtk
