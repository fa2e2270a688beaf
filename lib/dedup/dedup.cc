#include "lib/dedup/dedup.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "lib/base/progress.h"
#include "lib/dedup/passes.h"
#include "lib/base/parallel.h"

namespace llmtk {
namespace {


// Removes the spooled copy of stdin when the run ends.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) unlink(path.c_str());
  }
};

absl::Status SpoolStdin(TempFile* spool) {
  const char* dir = getenv("TMPDIR");
  std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/llmtk-dedup-stdin.XXXXXX";
  int fd = mkstemp(tmpl.data());
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create a temporary file for stdin in ", tmpl));
  spool->path = tmpl;
  close(fd);
  ASSIGN_OR_RETURN(auto in, OpenInput("-"));
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(tmpl));
  std::string buf(1 << 20, '\0');
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, in->Read(buf.data(), buf.size()));
    if (n == 0) break;
    RETURN_IF_ERROR(out->Write(std::string_view(buf.data(), n)));
  }
  return out->Close();
}

absl::StatusOr<std::vector<std::string>> PrepareInputs(const std::vector<std::string>& given, TempFile* spool) {
  std::vector<std::string> in = given.empty() ? std::vector<std::string>{"-"} : given;
  if (std::count(in.begin(), in.end(), "-") > 1)
    return absl::InvalidArgumentError("stdin ('-') can be given only once");
  ASSIGN_OR_RETURN(std::vector<std::string> paths, ExpandInputs(in));
  for (auto& p : paths) {
    if (p != "-") continue;
    RETURN_IF_ERROR(SpoolStdin(spool));
    p = spool->path;
  }
  return paths;
}

}  // namespace

absl::StatusOr<LshParams> ResolveLshParams(const DedupOptions& o, bool* chosen) {
  *chosen = false;
  if (!(o.threshold > 0 && o.threshold <= 1))
    return absl::InvalidArgumentError(absl::StrFormat("--threshold %g is not in (0, 1]", o.threshold));
  if ((o.bands > 0) != (o.rows > 0))
    return absl::InvalidArgumentError("--bands and --rows go together; give both or neither");
  if (o.bands > 0) {
    LshParams p{o.bands, o.rows};
    if (o.num_perm > 0 && o.num_perm != p.num_perm())
      return absl::InvalidArgumentError(absl::StrFormat(
          "--num-perm %d does not equal --bands %d x --rows %d; drop --num-perm", o.num_perm, o.bands, o.rows));
    if (p.num_perm() > 1024) return absl::InvalidArgumentError("--bands x --rows must be at most 1024");
    return p;
  }
  // Chosen from the values alone (a flag given with its default value
  // changes nothing): a requested --num-perm is split exactly, without one
  // the split uses at most kAutoNumPerm hashes.
  const LshSplit split = o.num_perm > 0 ? LshSplit::kExact : LshSplit::kAtMost;
  const int n = o.num_perm > 0 ? o.num_perm : kAutoNumPerm;
  if (n > 1024) return absl::InvalidArgumentError("--num-perm must be at most 1024");
  if (split == LshSplit::kExact && !HasExactLshSplit(n)) {
    int below = n - 1, above = n + 1;
    while (below >= 4 && !HasExactLshSplit(below)) --below;
    while (!HasExactLshSplit(above)) ++above;
    return absl::InvalidArgumentError(absl::StrCat(
        "--num-perm ", n, " does not split into bands x rows (both at least 2); the nearest that ",
        below >= 4 ? absl::StrCat("do are ", below, " and ", above) : absl::StrCat("does is ", above),
        ", or give --bands and --rows"));
  }
  *chosen = true;
  // A candidate costs one exact comparison when verifying, a missed pair is
  // a duplicate left in: recall first. Unverified, candidates are removals,
  // so false positives and negatives weigh the same.
  if (o.verify == VerifyMode::kExact) return ChooseLshParamsForRecall(o.threshold, n, 0.99, split);
  return ChooseLshParams(o.threshold, n, 0.5, 0.5, split);
}

namespace {
absl::StatusOr<DedupReport> RunDedupImpl(const DedupOptions& o, TempFile* spool);
}  // namespace

absl::StatusOr<DedupReport> RunDedup(const DedupOptions& o) {
  TempFile spool;
  absl::StatusOr<DedupReport> r = RunDedupImpl(o, &spool);
  // Errors name the spooled copy of stdin as "<stdin>", as the user gave it.
  if (!r.ok() && !spool.path.empty()) {
    std::string msg(r.status().message());
    for (size_t at; (at = msg.find(spool.path)) != std::string::npos;) msg.replace(at, spool.path.size(), "<stdin>");
    return absl::Status(r.status().code(), msg);
  }
  return r;
}

namespace {
absl::StatusOr<DedupReport> RunDedupImpl(const DedupOptions& o, TempFile* spool) {
  auto t0 = std::chrono::steady_clock::now();
  DedupReport rep;
  ASSIGN_OR_RETURN(rep.lsh, ResolveLshParams(o, &rep.lsh_chosen));
  RETURN_IF_ERROR(CheckDedupOptions(o));
  ASSIGN_OR_RETURN(std::vector<std::string> inputs, PrepareInputs(o.inputs, spool));
  ThreadPool pool(ResolveThreads(o.threads));

  const SignOptions so = MakeSignOptions(o, rep.lsh);
  DocTable table;
  table.bands = rep.lsh.bands;
  table.num_perm = rep.lsh.num_perm();
  table.has_sig16 = so.keep_sig16;
  DocLines lines;
  RETURN_IF_ERROR(SignFiles(inputs, o, so, &table, &lines.count, &rep, &lines));
  rep.table_bytes = TableBytes(table, o);

  std::vector<uint32_t> exact_rep = ExactRepresentatives(table.exact, &pool);
  std::vector<uint64_t> pairs = CandidatePairs(table, exact_rep, &pool);
  rep.candidate_pairs = pairs.size();
  std::vector<uint64_t>().swap(table.band);

  ShingleSets sets;
  ASSIGN_OR_RETURN(std::vector<uint64_t> accepted, VerifyPairs(inputs, o, table, pairs, &pool, &sets, &rep, &lines));
  rep.accepted_pairs = accepted.size();
  std::vector<uint64_t>().swap(pairs);
  ClusterTable clusters = BuildClusterTable(o, exact_rep, ChooseSurvivors(exact_rep, accepted, o.keep, table.keep),
                                            table, sets);
  rep.clusters = clusters.clusters();
  if (!o.clusters.empty()) RETURN_IF_ERROR(CollectSurvivorIds(inputs, o, &clusters, &lines));
  RETURN_IF_ERROR(WriteFiltered(inputs, 0, inputs.size() > 1, o, clusters, &rep, &lines));
  if (rep.kept + rep.exact_duplicates + rep.near_duplicates != rep.documents)
    return absl::DataLossError(absl::StrCat("the inputs changed between passes: ",
                                            rep.kept + rep.exact_duplicates + rep.near_duplicates,
                                            " documents on re-reading, ", rep.documents, " signed"));
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}
}  // namespace

uint64_t TableBytes(const DocTable& t, const DedupOptions& o) {
  return t.size() * (sizeof(Hash128) + 8 * t.bands + (t.has_sig16 ? 2 * t.num_perm : 0) +
                     (o.keep != KeepPolicy::kFirst ? 8 : 0) + 17);
}

absl::Status CheckDedupOptions(const DedupOptions& o) {
  if (o.ngram < 1 || o.cjk_ngram < 1) return absl::InvalidArgumentError("--ngram and --cjk-ngram must be at least 1");
  if (o.keep == KeepPolicy::kField && o.keep_field.empty()) return absl::InvalidArgumentError("--keep needs a field name");
  return absl::OkStatus();
}

}  // namespace llmtk
