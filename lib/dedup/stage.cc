#include "lib/dedup/stage.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "lib/dedup/passes.h"
#include "lib/dedup/stage_file.h"
#include "lib/base/parallel.h"
#include "xxhash.h"

namespace llmtk {
namespace {

// Everything that changes what a stage computes.
uint64_t Fingerprint(const DedupOptions& o, const LshParams& lsh, const std::vector<std::string>& inputs,
                     int num_shards) {
  std::string s = absl::StrFormat("v1|%d|%d|%d|%d|%d|%d|%d|%d|%d|%d|%.17g|%d|%d|%s|%s|%d|%d|%d|%s|", num_shards,
                                  o.normalize.nfkc, o.normalize.lowercase, o.normalize.punctuation,
                                  o.normalize.digits, o.normalize.whitespace, o.ngram, o.cjk_ngram, lsh.bands,
                                  lsh.rows, o.threshold, static_cast<int>(o.verify), static_cast<int>(o.keep),
                                  o.keep_field, o.reader.text_key, static_cast<int>(o.reader.format),
                                  static_cast<int>(o.reader.on_bad_line), static_cast<int>(o.reader.invalid_utf8),
                                  o.id_key);
  absl::StrAppend(&s, o.seed, "|");
  for (const auto& p : inputs) {
    struct stat st;
    int64_t size = stat(p.c_str(), &st) == 0 ? st.st_size : -1;
    absl::StrAppend(&s, p, "\t", size, "\n");
  }
  return XXH3_64bits(s.data(), s.size());
}

struct Run {
  const DedupOptions* o;
  const StageOptions* s;
  LshParams lsh;
  std::vector<std::string> inputs;
  uint64_t fp = 0;
  std::string Path(const std::string& name) const { return (std::filesystem::path(s->work) / name).string(); }
  std::string ShardName(int i) const { return absl::StrFormat("sign-%d-of-%d", i, s->num_shards); }
  std::string DocsPath(int i) const { return Path(ShardName(i) + ".docs"); }
  std::string BandPath(int i, int b) const { return Path(absl::StrFormat("%s.band-%d", ShardName(i), b)); }
  std::string PairsPath(int b) const { return Path(absl::StrFormat("pairs-%d", b)); }
  std::string ClustersPath() const { return Path("clusters"); }
  size_t FileBegin(int i) const { return inputs.size() * i / s->num_shards; }
  std::vector<std::string> ShardFiles(int i) const {
    return std::vector<std::string>(inputs.begin() + FileBegin(i), inputs.begin() + FileBegin(i + 1));
  }
};

// A stage output that exists and checks out means the work is done; one
// that does not is redone (a warning says why).
bool Done(const std::string& path, StageKind kind, uint64_t fp, bool quiet) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return false;
  auto r = ReadStageFile(path, kind, fp);
  if (r.ok()) return true;
  if (!quiet) fprintf(stderr, "llmtk-dedup: redoing %s: %s\n", path.c_str(), std::string(r.status().message()).c_str());
  return false;
}

void Say(const DedupOptions& o, const std::string& msg) {
  if (!o.quiet) fprintf(stderr, "llmtk-dedup: %s\n", msg.c_str());
}

// Shard i's documents as the sign stage recorded them.
struct ShardDocs {
  uint64_t first_file = 0;
  std::vector<uint64_t> counts;
  std::vector<Hash128> exact;
  std::vector<double> keep;
  std::vector<uint16_t> sig16;
  DedupReport rep;
};

absl::StatusOr<ShardDocs> ReadDocs(const Run& run, int i) {
  const std::string path = run.DocsPath(i);
  ASSIGN_OR_RETURN(std::string payload, ReadStageFile(path, StageKind::kDocs, run.fp));
  Cursor c(payload, path);
  ShardDocs d;
  RETURN_IF_ERROR(c.Get(&d.first_file));
  RETURN_IF_ERROR(c.GetVec(&d.counts));
  RETURN_IF_ERROR(c.GetVec(&d.exact));
  RETURN_IF_ERROR(c.GetVec(&d.keep));
  RETURN_IF_ERROR(c.GetVec(&d.sig16));
  for (uint64_t* v : {&d.rep.bytes, &d.rep.skipped, &d.rep.blank_lines, &d.rep.replaced_utf8,
                      &d.rep.missing_keep_field})
    RETURN_IF_ERROR(c.Get(v));
  return d;
}

absl::Status SignStage(const Run& run) {
  const int i = run.s->shard;
  bool done = Done(run.DocsPath(i), StageKind::kDocs, run.fp, run.o->quiet);
  for (int b = 0; done && b < run.lsh.bands; ++b) done = Done(run.BandPath(i, b), StageKind::kBand, run.fp, run.o->quiet);
  if (done) {
    Say(*run.o, absl::StrCat("sign ", i, "/", run.s->num_shards, ": already done"));
    return absl::OkStatus();
  }
  const SignOptions so = MakeSignOptions(*run.o, run.lsh);
  DocTable table;
  table.bands = run.lsh.bands;
  table.num_perm = run.lsh.num_perm();
  table.has_sig16 = so.keep_sig16;
  std::vector<uint64_t> counts;
  DedupReport rep;
  std::vector<std::string> files = run.ShardFiles(i);
  RETURN_IF_ERROR(SignFiles(files, *run.o, so, &table, &counts, &rep));
  // Local ids (file << 40 | document in file) sort like global numbers.
  std::vector<uint64_t> local(table.size());
  {
    size_t d = 0;
    for (size_t f = 0; f < counts.size(); ++f)
      for (uint64_t k = 0; k < counts[f]; ++k) local[d++] = (static_cast<uint64_t>(run.FileBegin(i) + f) << 40) | k;
  }
  for (int b = 0; b < table.bands; ++b) {
    std::vector<std::pair<uint64_t, uint64_t>> e(table.size());
    for (size_t d = 0; d < table.size(); ++d) e[d] = {table.band[d * table.bands + b], local[d]};
    std::sort(e.begin(), e.end());
    std::string payload;
    PutVec(&payload, e);
    RETURN_IF_ERROR(WriteStageFile(run.BandPath(i, b), StageKind::kBand, run.fp, payload));
  }
  std::string payload;
  Put<uint64_t>(&payload, run.FileBegin(i));
  PutVec(&payload, counts);
  PutVec(&payload, table.exact);
  PutVec(&payload, table.keep);
  PutVec(&payload, table.sig16);
  for (uint64_t v : {rep.bytes, rep.skipped, rep.blank_lines, rep.replaced_utf8, rep.missing_keep_field})
    Put(&payload, v);
  // Written last: its presence marks the shard as done.
  RETURN_IF_ERROR(WriteStageFile(run.DocsPath(i), StageKind::kDocs, run.fp, payload));
  Say(*run.o, absl::StrCat("sign ", i, "/", run.s->num_shards, ": ", rep.documents, " documents, ", files.size(),
                           " files"));
  return absl::OkStatus();
}

// All shards' documents in global order.
struct AllDocs {
  std::vector<uint64_t> file_first;  // global number of each input file's first document
  DocTable table;
  DedupReport rep;
};

absl::StatusOr<AllDocs> ReadAllDocs(const Run& run) {
  AllDocs a;
  a.table.bands = run.lsh.bands;
  a.table.num_perm = run.lsh.num_perm();
  a.table.has_sig16 = run.o->verify != VerifyMode::kExact;
  uint64_t next = 0;
  for (int i = 0; i < run.s->num_shards; ++i) {
    ASSIGN_OR_RETURN(ShardDocs d, ReadDocs(run, i));
    if (d.first_file != run.FileBegin(i) || d.counts.size() != run.FileBegin(i + 1) - run.FileBegin(i))
      return absl::DataLossError(absl::StrCat("stage file ", run.DocsPath(i), " covers other input files"));
    for (uint64_t c : d.counts) {
      a.file_first.push_back(next);
      next += c;
    }
    a.table.exact.insert(a.table.exact.end(), d.exact.begin(), d.exact.end());
    a.table.keep.insert(a.table.keep.end(), d.keep.begin(), d.keep.end());
    a.table.sig16.insert(a.table.sig16.end(), d.sig16.begin(), d.sig16.end());
    a.rep.bytes += d.rep.bytes;
    a.rep.skipped += d.rep.skipped;
    a.rep.blank_lines += d.rep.blank_lines;
    a.rep.replaced_utf8 += d.rep.replaced_utf8;
    a.rep.missing_keep_field += d.rep.missing_keep_field;
  }
  a.file_first.push_back(next);
  a.rep.documents = next;
  if (next >= UINT32_MAX) return absl::ResourceExhaustedError("more than 4294967294 documents in one run");
  return a;
}

absl::Status PairsStage(const Run& run) {
  std::vector<int> bands;
  for (int b = 0; b < run.lsh.bands; ++b)
    if (run.s->band < 0 || (run.s->band_step ? b % run.s->band_step == run.s->band : b == run.s->band))
      bands.push_back(b);
  std::vector<int> todo;
  for (int b : bands)
    if (!Done(run.PairsPath(b), StageKind::kPairs, run.fp, run.o->quiet)) todo.push_back(b);
  if (todo.empty()) {
    Say(*run.o, "pairs: already done");
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(AllDocs all, ReadAllDocs(run));
  std::vector<uint32_t> exact_rep = ExactRepresentatives(all.table.exact);
  for (int b : todo) {
    std::vector<std::pair<uint64_t, uint32_t>> entries;
    for (int i = 0; i < run.s->num_shards; ++i) {
      const std::string path = run.BandPath(i, b);
      ASSIGN_OR_RETURN(std::string payload, ReadStageFile(path, StageKind::kBand, run.fp));
      Cursor c(payload, path);
      std::vector<std::pair<uint64_t, uint64_t>> e;
      RETURN_IF_ERROR(c.GetVec(&e));
      for (auto& [key, id] : e) {
        const uint64_t file = id >> 40, k = id & ((1ULL << 40) - 1);
        if (file + 1 >= all.file_first.size() || all.file_first[file] + k >= all.file_first[file + 1])
          return absl::DataLossError(absl::StrCat("stage file ", path, " names document ", k, " of input ", file,
                                                  ", which the .docs files do not have"));
        const uint32_t d = static_cast<uint32_t>(all.file_first[file] + k);
        if (exact_rep[d] == d) entries.emplace_back(key, d);
      }
    }
    std::vector<uint64_t> pairs;
    BandPairs(&entries, &pairs);
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    std::string payload;
    PutVec(&payload, pairs);
    RETURN_IF_ERROR(WriteStageFile(run.PairsPath(b), StageKind::kPairs, run.fp, payload));
    Say(*run.o, absl::StrCat("pairs band ", b, ": ", pairs.size(), " candidate pairs"));
  }
  return absl::OkStatus();
}

// The clusters stage's file: per document its survivor, kind and similarity,
// and (when the stage was given --clusters) the survivors' ids.
struct ClustersFile {
  std::vector<uint64_t> file_first;
  ClusterTable t;
  bool has_ids = false;
};

absl::StatusOr<ClustersFile> ReadClusters(const Run& run) {
  const std::string path = run.ClustersPath();
  ASSIGN_OR_RETURN(std::string payload, ReadStageFile(path, StageKind::kClusters, run.fp));
  Cursor c(payload, path);
  ClustersFile f;
  uint8_t has_ids = 0;
  RETURN_IF_ERROR(c.Get(&has_ids));
  f.has_ids = has_ids != 0;
  RETURN_IF_ERROR(c.GetVec(&f.file_first));
  RETURN_IF_ERROR(c.GetVec(&f.t.survivor));
  RETURN_IF_ERROR(c.GetVec(&f.t.exact));
  RETURN_IF_ERROR(c.GetVec(&f.t.jaccard));
  uint64_t n_ids = 0;
  RETURN_IF_ERROR(c.Get(&n_ids));
  for (uint64_t k = 0; k < n_ids; ++k) {
    uint32_t d = 0;
    std::string id;
    RETURN_IF_ERROR(c.Get(&d));
    RETURN_IF_ERROR(c.GetString(&id));
    f.t.ids[d] = std::move(id);
  }
  if (f.file_first.size() != run.inputs.size() + 1 || f.t.exact.size() != f.t.survivor.size() ||
      f.t.jaccard.size() != f.t.survivor.size())
    return absl::DataLossError(absl::StrCat("stage file ", path, " does not match the inputs"));
  return f;
}

absl::StatusOr<ClustersFile> ComputeClusters(const Run& run) {
  ASSIGN_OR_RETURN(AllDocs all, ReadAllDocs(run));
  DedupReport rep = all.rep;
  rep.lsh = run.lsh;
  std::vector<uint32_t> exact_rep = ExactRepresentatives(all.table.exact);
  std::vector<uint64_t> pairs;
  for (int b = 0; b < run.lsh.bands; ++b) {
    const std::string path = run.PairsPath(b);
    ASSIGN_OR_RETURN(std::string payload, ReadStageFile(path, StageKind::kPairs, run.fp));
    Cursor c(payload, path);
    std::vector<uint64_t> p;
    RETURN_IF_ERROR(c.GetVec(&p));
    pairs.insert(pairs.end(), p.begin(), p.end());
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  rep.candidate_pairs = pairs.size();
  ThreadPool pool(ResolveThreads(run.o->threads));
  ShingleSets sets;
  ASSIGN_OR_RETURN(std::vector<uint64_t> accepted, VerifyPairs(run.inputs, *run.o, all.table, pairs, &pool, &sets, &rep));
  rep.accepted_pairs = accepted.size();
  ClustersFile f;
  f.t = BuildClusterTable(*run.o, exact_rep, ChooseSurvivors(exact_rep, accepted, run.o->keep, all.table.keep),
                          all.table, sets);
  f.has_ids = !run.o->clusters.empty();
  if (f.has_ids) RETURN_IF_ERROR(CollectSurvivorIds(run.inputs, *run.o, &f.t));
  f.file_first = std::move(all.file_first);
  std::string payload;
  Put<uint8_t>(&payload, f.has_ids ? 1 : 0);
  PutVec(&payload, f.file_first);
  PutVec(&payload, f.t.survivor);
  PutVec(&payload, f.t.exact);
  PutVec(&payload, f.t.jaccard);
  std::vector<std::pair<uint32_t, std::string>> ids(f.t.ids.begin(), f.t.ids.end());
  std::sort(ids.begin(), ids.end());
  Put<uint64_t>(&payload, ids.size());
  for (auto& [d, id] : ids) {
    Put(&payload, d);
    Put<uint32_t>(&payload, static_cast<uint32_t>(id.size()));
    payload.append(id);
  }
  RETURN_IF_ERROR(WriteStageFile(run.ClustersPath(), StageKind::kClusters, run.fp, payload));
  rep.clusters = f.t.clusters();
  Say(*run.o, absl::StrCat("clusters: ", rep.documents, " documents, ", rep.candidate_pairs, " candidate pairs, ",
                           rep.accepted_pairs, " accepted, ", rep.clusters, " clusters"));
  return f;
}

// With --clusters FILE the stage also writes the whole run's report, the
// single command's --clusters file byte for byte (one more pass over the
// inputs, for the removed documents' ids).
absl::Status ClustersStage(const Run& run) {
  const bool report = !run.o->clusters.empty();
  std::optional<ClustersFile> f;
  if (Done(run.ClustersPath(), StageKind::kClusters, run.fp, run.o->quiet)) {
    ASSIGN_OR_RETURN(f, ReadClusters(run));
    if (report && !f->has_ids) {
      Say(*run.o, "clusters: redoing, to collect the kept documents' ids for --clusters");
      f.reset();
    } else {
      Say(*run.o, "clusters: already done");
    }
  }
  if (!f) {
    ASSIGN_OR_RETURN(f, ComputeClusters(run));
  }
  if (!report) return absl::OkStatus();
  DedupOptions ro = *run.o;
  ro.output.clear();
  ro.removed.clear();
  DedupReport rep;
  RETURN_IF_ERROR(WriteFiltered(run.inputs, 0, run.inputs.size() > 1, ro, f->t, &rep));
  if (rep.kept + rep.exact_duplicates + rep.near_duplicates != f->file_first.back())
    return absl::DataLossError(absl::StrCat("the inputs changed since signing: ",
                                            rep.kept + rep.exact_duplicates + rep.near_duplicates, " documents, ",
                                            f->file_first.back(), " signed"));
  Say(*run.o, absl::StrCat("clusters: wrote ", run.o->clusters, " (", rep.exact_duplicates + rep.near_duplicates,
                           " removed documents)"));
  return absl::OkStatus();
}

absl::Status FilterStage(const Run& run) {
  const std::string path = run.ClustersPath();
  ASSIGN_OR_RETURN(ClustersFile f, ReadClusters(run));
  if (!f.has_ids && !run.o->clusters.empty())
    return absl::InvalidArgumentError(
        "--clusters needs the ids of the kept documents, which the clusters stage collects only when it is "
        "given --clusters FILE too (it then also writes the whole run's report to FILE); rerun it with --clusters");
  const std::vector<uint64_t>& file_first = f.file_first;
  const ClusterTable& t = f.t;
  const int i = run.s->shard;
  DedupReport rep;
  RETURN_IF_ERROR(WriteFiltered(run.ShardFiles(i), file_first[run.FileBegin(i)], run.inputs.size() > 1, *run.o, t, &rep));
  const uint64_t want = file_first[run.FileBegin(i + 1)] - file_first[run.FileBegin(i)];
  if (rep.kept + rep.exact_duplicates + rep.near_duplicates != want)
    return absl::DataLossError(absl::StrCat("the inputs of shard ", i, " changed since signing: ",
                                            rep.kept + rep.exact_duplicates + rep.near_duplicates, " documents, ",
                                            want, " signed"));
  Say(*run.o, absl::StrCat("filter ", i, "/", run.s->num_shards, ": ", rep.kept, " kept, ", rep.exact_duplicates,
                           " exact duplicates, ", rep.near_duplicates, " near duplicates removed"));
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseShard(const std::string& s, int* shard, int* num_shards) {
  size_t slash = s.find('/');
  int i, n;
  if (slash == std::string::npos || !absl::SimpleAtoi(s.substr(0, slash), &i) ||
      !absl::SimpleAtoi(s.substr(slash + 1), &n) || n < 1 || i < 0 || i >= n)
    return absl::InvalidArgumentError(absl::StrCat("--shard '", s, "' is not i/N with 0 <= i < N"));
  *shard = i;
  *num_shards = n;
  return absl::OkStatus();
}

absl::Status ParseBand(const std::string& s, int* band, int* step) {
  if (s.find('/') != std::string::npos) {
    absl::Status st = ParseShard(s, band, step);
    if (!st.ok()) return absl::InvalidArgumentError(absl::StrCat("--band '", s, "' is not b or j/M with 0 <= j < M"));
    return absl::OkStatus();
  }
  if (!absl::SimpleAtoi(s, band) || *band < 0)
    return absl::InvalidArgumentError(absl::StrCat("--band '", s, "' is not b or j/M with 0 <= j < M"));
  *step = 0;
  return absl::OkStatus();
}

absl::Status RunDedupStage(const DedupOptions& o, const StageOptions& s) {
  RETURN_IF_ERROR(CheckDedupOptions(o));
  if (s.work.empty()) return absl::InvalidArgumentError("staged mode needs --work DIR, shared by all stages");
  Run run;
  run.o = &o;
  run.s = &s;
  bool chosen;
  ASSIGN_OR_RETURN(run.lsh, ResolveLshParams(o, &chosen));
  if (o.inputs.empty()) return absl::InvalidArgumentError("staged mode reads files; give the inputs to every stage");
  for (const auto& p : o.inputs)
    if (p == "-") return absl::InvalidArgumentError("staged mode cannot read stdin; give input files");
  ASSIGN_OR_RETURN(run.inputs, ExpandInputs(o.inputs));
  if (s.band_step == 0 && s.band >= run.lsh.bands)
    return absl::InvalidArgumentError(absl::StrCat("--band ", s.band, " is not below the ", run.lsh.bands, " bands"));
  std::error_code ec;
  std::filesystem::create_directories(s.work, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create --work ", s.work, ": ", ec.message()));
  run.fp = Fingerprint(o, run.lsh, run.inputs, s.num_shards);
  if (s.stage == "sign") return SignStage(run);
  if (s.stage == "pairs") return PairsStage(run);
  if (s.stage == "clusters") return ClustersStage(run);
  if (s.stage == "filter") return FilterStage(run);
  return absl::InvalidArgumentError(absl::StrCat("unknown stage '", s.stage, "'"));
}

}  // namespace llmtk
