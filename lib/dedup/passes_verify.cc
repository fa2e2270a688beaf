// Pass 2: exact verification of candidate pairs by re-reading their documents.
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

}  // namespace llmtk
