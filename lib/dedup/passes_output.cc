// The last passes: survivors' ids, and the kept/removed/clusters outputs.
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
