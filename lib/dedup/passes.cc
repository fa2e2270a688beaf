#include "lib/dedup/passes.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <mutex>

#include "absl/strings/str_split.h"
#include "lib/base/progress.h"
#include "lib/base/unicode.h"
#include "simdjson.h"

namespace llmtk {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

simdjson::ondemand::parser& Parser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

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

// The JSON text of top-level `key` in `raw` ("null" when absent).
std::string IdField(std::string_view raw, const std::string& key) {
  simdjson::padded_string padded(raw.data(), raw.size());
  simdjson::ondemand::document doc;
  if (Parser().iterate(padded).get(doc)) return "null";
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return "null";
  simdjson::ondemand::value val;
  if (obj.find_field_unordered(key).get(val)) return "null";
  simdjson::ondemand::json_type type;
  if (val.type().get(type)) return "null";
  std::string_view s;
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object o;
    if (val.get_object().get(o) || o.raw_json().get(s)) return "null";
    return std::string(s);
  }
  if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array a;
    if (val.get_array().get(a) || a.raw_json().get(s)) return "null";
    return std::string(s);
  }
  s = val.raw_json_token();
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

std::string IdOf(const Document& doc, const DedupOptions& o, bool multi) {
  if (!o.id_key.empty()) return IdField(doc.raw, o.id_key);
  if (!multi) return std::to_string(doc.line_number);
  std::string s;
  AppendJsonString(&s, absl::StrCat(*doc.source, ":", doc.line_number));
  return s;
}

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
                                                         Progress* progress) {
  return [=](TextBatch* b) -> absl::StatusOr<bool> {
    Document doc;
    size_t size = 0;
    while (b->docs.size() < kBatchDocs && size < kBatchBytes) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
      if (!more) break;
      const uint64_t d = doc.index;
      progress->Add(1, doc.raw.size() + 1);
      if (!want(d)) continue;
      b->texts.append(doc.text);
      b->ends.push_back(b->texts.size());
      b->docs.push_back(d);
      size += doc.text.size();
    }
    return !b->docs.empty();
  };
}


// The text DocumentReader took from `raw` when signing (the same walk: the
// first top-level field named key_path[0], then nested lookups); false when
// the line no longer yields one. The text lives in this thread's parser.
bool TextOfLine(std::string_view raw, const std::vector<std::string>& key_path, std::string* padded,
                std::string_view* text) {
  padded->assign(raw);
  padded->append(simdjson::SIMDJSON_PADDING, '\0');
  simdjson::ondemand::document doc;
  if (Parser().iterate(padded->data(), raw.size(), padded->size()).get(doc)) return false;
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    if (key != key_path[0]) continue;
    simdjson::ondemand::value v;
    if (field.value().get(v)) return false;
    for (size_t k = 1; k < key_path.size(); ++k) {
      simdjson::ondemand::object inner;
      if (v.get_object().get(inner) || inner.find_field_unordered(key_path[k]).get(v)) return false;
    }
    return !v.get_string().get(*text);
  }
  return false;
}

// Calls fn(doc, d) for the documents of file f (numbered from first_doc), the
// lines signing took as documents, found by number; a line the reader
// repaired (--invalid-utf8=replace) is repaired the same way.
absl::Status ForEachDocLine(const std::string& file, uint64_t first_doc, const DocLines& lines, size_t f,
                            const std::function<absl::Status(const Document&, uint64_t)>& fn) {
  ASSIGN_OR_RETURN(auto in, OpenInput(file));
  LineReader reader(std::move(in));
  const uint64_t end = first_doc + lines.count[f];
  std::string repaired;
  Document doc;
  doc.source = &reader.name();
  doc.is_json = lines.json[f];
  std::string_view l;
  for (uint64_t d = first_doc; d < end;) {
    ASSIGN_OR_RETURN(bool got, reader.Next(&l));
    if (!got)
      return absl::DataLossError(absl::StrCat("the inputs changed since signing: ", file, " ends at line ",
                                              reader.line_number(), ", before its ", lines.count[f], " documents"));
    if (reader.line_number() != lines.line[d]) continue;
    if (lines.repaired[f] && !simdjson::validate_utf8(l.data(), l.size())) {
      repaired = ReplaceInvalidUtf8(l);
      l = repaired;
    }
    doc.raw = l;
    doc.line_number = reader.line_number();
    doc.index = d;
    RETURN_IF_ERROR(fn(doc, d));
    ++d;
  }
  return absl::OkStatus();
}

bool ShowProgress(const DedupOptions& o) { return o.progress || (!o.quiet && isatty(2)); }

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

double ShingleSets::Jaccard(uint32_t a, uint32_t b) const {
  if (cand.empty() || cand[a] == kNone || cand[b] == kNone) return 0.0;
  return SortedJaccard(sets[cand[a]], sets[cand[b]]);
}

namespace {

using ShingleSetBatch = std::vector<std::vector<uint32_t>>;

// Ranks the documents of the pairs in input order (batches arrive in that
// order): ss->cand[d] is d's rank or kNone. Returns the number ranked.
uint32_t RankCandidates(const std::vector<uint64_t>& pairs, size_t n, ShingleSets* ss) {
  ss->cand.assign(n, kNone);
  for (uint64_t p : pairs)
    for (uint32_t d : {PairFirst(p), PairSecond(p)}) ss->cand[d] = 0;
  uint32_t ranks = 0;
  for (uint32_t d = 0; d < n; ++d)
    if (ss->cand[d] == 0) ss->cand[d] = ranks++;
  return ranks;
}

// With the documents' lines known (DocLines), batches of the candidates'
// lines, split on the reading thread and found by number, to be parsed on
// the workers.
class CandidateLineProducer {
 public:
  CandidateLineProducer(const std::vector<std::string>& files, const DocLines& lines, const ShingleSets& ss,
                        Progress* progress)
      : files_(files), lines_(lines), ss_(ss), n_(ss.cand.size()), progress_(progress) {}

  absl::StatusOr<bool> operator()(TextBatch* b) {
    size_t size = 0;
    while (next_ < n_ && b->docs.size() < kVerifyBatchDocs && size < kBatchBytes) {
      if (!lr_ || next_ == file_end_) {
        while (file_ < files_.size() && lines_.count[file_] == 0) ++file_;
        if (file_ == files_.size()) break;
        ASSIGN_OR_RETURN(auto in, OpenInput(files_[file_]));
        lr_ = std::make_unique<LineReader>(std::move(in));
        file_end_ = next_ + lines_.count[file_++];
      }
      std::string_view l;
      ASSIGN_OR_RETURN(bool got, lr_->Next(&l));
      if (!got)
        return absl::DataLossError(absl::StrCat("the inputs changed since signing: ", lr_->name(),
                                                " ends at line ", lr_->line_number(), ", before its documents"));
      if (lr_->line_number() != lines_.line[next_]) continue;
      const uint64_t d = next_++;
      progress_.Add(l.size() + 1);
      if (ss_.cand[d] == kNone) continue;
      b->raws.append(l);
      b->raw_ends.push_back(b->raws.size());
      b->json.push_back(lines_.json[file_ - 1]);
      b->docs.push_back(d);
      size += l.size();
    }
    return !b->docs.empty();
  }
  void Flush() { progress_.Flush(); }

 private:
  const std::vector<std::string>& files_;
  const DocLines& lines_;
  const ShingleSets& ss_;
  const size_t n_;
  LineProgress progress_;
  std::unique_ptr<LineReader> lr_;
  size_t file_ = 0;
  uint64_t next_ = 0, file_end_ = 0;
};

// A worker's part: the batch's documents' shingle sets (the high 32 bits of
// the hashes, sorted, distinct). Lines (from CandidateLineProducer) are
// parsed for their text here, as signing took it.
absl::Status ShingleSetsOf(const TextBatch& b, const std::vector<std::string>& key_path, const DedupOptions& o,
                           const ShingleOptions& sh, ShingleSetBatch* r) {
  r->resize(b.docs.size());
  std::string repaired, padded;
  for (size_t i = 0; i < b.docs.size(); ++i) {
    std::string_view text;
    if (b.json.empty()) {
      text = b.Text(i);
    } else {
      text = b.Raw(i);
      if (!simdjson::validate_utf8(text.data(), text.size())) {
        repaired = ReplaceInvalidUtf8(text);
        text = repaired;
      }
      if (b.json[i] && !TextOfLine(text, key_path, &padded, &text))
        return absl::DataLossError(absl::StrCat("the inputs changed since signing: document ", b.docs[i],
                                                " has no text on re-reading"));
    }
    std::vector<uint64_t> h = ShingleHashes(NormalizeForDedup(text, o.normalize), sh);
    auto& s = (*r)[i];
    s.reserve(h.size());
    // The high 32 bits: a collision inside one document (p ~ m^2 / 2^33
    // for m shingles) moves its Jaccard by about 1/m at most.
    for (uint64_t x : h) s.push_back(static_cast<uint32_t>(x >> 32));
    std::sort(s.begin(), s.end());
    s.erase(std::unique(s.begin(), s.end()), s.end());
  }
  return absl::OkStatus();
}

// Re-reads `files` for the `ranks` ranked candidates' shingle sets, into
// ss->sets by rank.
absl::Status ReadCandidateSets(const std::vector<std::string>& files, const DedupOptions& o, uint32_t ranks,
                               const DocLines* lines, ShingleSets* ss, DedupReport* rep) {
  const size_t n = ss->cand.size();
  const int threads = ResolveThreads(o.threads);
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(files, o.reader));
  Progress progress("dedup: verifying", ShowProgress(o));
  progress.SetTotalBytes(reader->TotalBytesHint());
  std::function<absl::StatusOr<bool>(TextBatch*)> produce =
      Producer(reader.get(), [&](uint64_t d) { return d < n && ss->cand[d] != kNone; }, &progress);
  // With the documents' lines known, this thread only splits lines and
  // the workers parse the candidates' JSON.
  std::unique_ptr<CandidateLineProducer> line_producer;
  if (lines) {
    line_producer = std::make_unique<CandidateLineProducer>(files, *lines, *ss, &progress);
    produce = [&](TextBatch* b) { return (*line_producer)(b); };
  }
  std::vector<std::string> key_path = absl::StrSplit(ToAbsl(o.reader.text_key), '.');
  ShingleOptions sh;
  sh.ngram = o.ngram;
  sh.cjk_ngram = o.cjk_ngram;
  sh.seed = o.seed;
  std::function<absl::Status(TextBatch&, ShingleSetBatch*)> work = [&](TextBatch& b, ShingleSetBatch* r) {
    return ShingleSetsOf(b, key_path, o, sh, r);
  };
  uint32_t seen = 0;
  std::function<absl::Status(ShingleSetBatch&)> consume = [&](ShingleSetBatch& r) {
    for (auto& s : r) {
      rep->verify_bytes += s.size() * sizeof(uint32_t) + sizeof(s);
      if (seen < ranks) ss->sets[seen] = std::move(s);
      ++seen;
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR((OrderedParallelMap<TextBatch, ShingleSetBatch>(threads, produce, work, consume)));
  if (line_producer) line_producer->Flush();
  progress.Finish();
  if (seen != ranks)
    return absl::DataLossError(absl::StrCat("the inputs changed between passes: ", seen, " of ", ranks,
                                            " candidate documents found on re-reading"));
  return absl::OkStatus();
}

// The pairs whose exact Jaccard is at or above the threshold, in order.
std::vector<uint64_t> KeepSimilarPairs(const std::vector<uint64_t>& pairs, const ShingleSets& ss, double threshold,
                                       ThreadPool* pool) {
  std::vector<uint64_t> accepted;
  std::vector<uint8_t> ok(pairs.size());
  const size_t chunk = 4096;
  pool->ParallelFor((pairs.size() + chunk - 1) / chunk, [&](size_t c) {
    for (size_t i = c * chunk; i < std::min(pairs.size(), (c + 1) * chunk); ++i)
      ok[i] = ss.Jaccard(PairFirst(pairs[i]), PairSecond(pairs[i])) >= threshold;
  });
  for (size_t i = 0; i < pairs.size(); ++i)
    if (ok[i]) accepted.push_back(pairs[i]);
  return accepted;
}

}  // namespace

absl::StatusOr<std::vector<uint64_t>> VerifyPairs(const std::vector<std::string>& files, const DedupOptions& o,
                                                  const DocTable& table, const std::vector<uint64_t>& pairs,
                                                  ThreadPool* pool, ShingleSets* ss, DedupReport* rep,
                                                  const DocLines* lines) {
  std::vector<uint64_t> accepted;
  if (o.verify == VerifyMode::kNone) return pairs;
  if (o.verify == VerifyMode::kEstimate) {
    for (uint64_t p : pairs)
      if (EstimateJaccard16(table.Sig16(PairFirst(p)), table.Sig16(PairSecond(p)), table.num_perm) >= o.threshold)
        accepted.push_back(p);
    return accepted;
  }
  const uint32_t ranks = RankCandidates(pairs, table.size(), ss);
  ss->sets.assign(ranks, {});
  rep->verified_docs = ranks;
  if (ranks > 0) RETURN_IF_ERROR(ReadCandidateSets(files, o, ranks, lines, ss, rep));
  return KeepSimilarPairs(pairs, *ss, o.threshold, pool);
}

ClusterTable BuildClusterTable(const DedupOptions& o, const std::vector<uint32_t>& exact_rep,
                               std::vector<uint32_t> survivor, const DocTable& table, const ShingleSets& sets) {
  ClusterTable t;
  const size_t n = survivor.size();
  t.exact.assign(n, 0);
  t.jaccard.assign(n, 1.0f);
  for (uint32_t d = 0; d < n; ++d) {
    const uint32_t s = survivor[d];
    if (s == d) continue;
    t.ids.try_emplace(s);
    const uint32_t a = exact_rep[d], b = exact_rep[s];
    t.exact[d] = a == b;
    if (a == b) continue;
    double j = o.verify == VerifyMode::kExact ? sets.Jaccard(a, b)
                                              : EstimateJaccard16(table.Sig16(a), table.Sig16(b), table.num_perm);
    t.jaccard[d] = static_cast<float>(j);
  }
  t.survivor = std::move(survivor);
  return t;
}

absl::Status CollectSurvivorIds(const std::vector<std::string>& files, const DedupOptions& o, ClusterTable* t,
                                const DocLines* lines) {
  if (t->ids.empty()) return absl::OkStatus();
  if (lines) {
    uint64_t first = 0;
    for (size_t f = 0; f < files.size(); ++f) {
      RETURN_IF_ERROR(ForEachDocLine(files[f], first, *lines, f, [&](const Document& doc, uint64_t d) {
        auto it = t->ids.find(static_cast<uint32_t>(d));
        if (it != t->ids.end()) it->second = IdOf(doc, o, files.size() > 1);
        return absl::OkStatus();
      }));
      first += lines->count[f];
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(files, o.reader));
  Document doc;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
    if (!more) break;
    auto it = t->ids.find(static_cast<uint32_t>(doc.index));
    if (it != t->ids.end()) it->second = IdOf(doc, o, files.size() > 1);
  }
  return absl::OkStatus();
}

absl::Status WriteFiltered(const std::vector<std::string>& files, uint64_t first_doc, bool multi_input,
                           const DedupOptions& o, const ClusterTable& t, DedupReport* rep, const DocLines* lines) {
  const uint64_t n = t.survivor.size();
  std::unique_ptr<OutputFile> out, removed, clusters;
  if (!o.output.empty()) {
    ASSIGN_OR_RETURN(out, OutputFile::Open(o.output, o.output_opts));
  }
  if (!o.removed.empty()) {
    ASSIGN_OR_RETURN(removed, OutputFile::Open(o.removed, o.output_opts));
  }
  if (!o.clusters.empty()) {
    ASSIGN_OR_RETURN(clusters, OutputFile::Open(o.clusters, o.output_opts));
  }
  Progress progress("dedup: writing", ShowProgress(o));
  LineProgress line_progress(&progress);
  // Document number d, whose line `doc` holds, goes to its output.
  auto emit = [&](const Document& doc, uint64_t d64) -> absl::Status {
    line_progress.Add(doc.raw.size() + 1);
    if (d64 >= n)
      return absl::DataLossError(absl::StrCat("the inputs changed since signing: more than ", n, " documents, ",
                                              *doc.source, ":", doc.line_number));
    const uint32_t d = static_cast<uint32_t>(d64);
    const uint32_t s = t.survivor[d];
    auto put = [&](OutputFile* f) {
      RETURN_IF_ERROR(f->Write(doc.raw));
      return f->Write("\n");
    };
    if (s == d) {
      ++rep->kept;
      return out ? put(out.get()) : absl::OkStatus();
    }
    ++(t.exact[d] ? rep->exact_duplicates : rep->near_duplicates);
    if (removed) RETURN_IF_ERROR(put(removed.get()));
    if (!clusters) return absl::OkStatus();
    auto it = t.ids.find(s);
    JsonWriter w;
    w.BeginObject().Key("id").Raw(IdOf(doc, o, multi_input));
    w.Key("kept_id").Raw(it != t.ids.end() && !it->second.empty() ? it->second : "null");
    w.Key("cluster").Uint(s).Key("kind").String(t.exact[d] ? "exact" : "near");
    w.Key("jaccard").Double(std::round(static_cast<double>(t.jaccard[d]) * 10000) / 10000).EndObject();
    std::string rec = w.Take();
    rec.push_back('\n');
    return clusters->Write(rec);
  };
  for (size_t f = 0; f < files.size(); ++f) {
    if (lines) {
      RETURN_IF_ERROR(ForEachDocLine(files[f], first_doc, *lines, f, emit));
      first_doc += lines->count[f];
      continue;
    }
    ASSIGN_OR_RETURN(auto reader, DocumentReader::Open({files[f]}, o.reader));
    Document doc;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
      if (!more) break;
      RETURN_IF_ERROR(emit(doc, first_doc + doc.index));
    }
    first_doc += reader->documents();
  }
  line_progress.Flush();
  progress.Finish();
  if (out) RETURN_IF_ERROR(out->Close());
  if (removed) RETURN_IF_ERROR(removed->Close());
  if (clusters) RETURN_IF_ERROR(clusters->Close());
  return absl::OkStatus();
}

}  // namespace llmtk
