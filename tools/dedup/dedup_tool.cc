#include "tools/dedup/dedup_tool.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/base/progress.h"
#include "lib/dedup/minhash.h"

namespace llmtk {

absl::Status PrintDedupReport(const DedupOptions& o, const DedupReport& r) {
  if (o.json) return WriteJsonReport(o.output, FormatDedupJson(o, r));
  if (o.quiet) return absl::OkStatus();
  std::string s = FormatDedupSummary(o, r);
  fwrite(s.data(), 1, s.size(), stderr);
  return absl::OkStatus();
}

namespace {
const char* VerifyName(VerifyMode v) {
  return v == VerifyMode::kExact ? "exact" : v == VerifyMode::kEstimate ? "estimate" : "none";
}
}  // namespace

std::string FormatDedupSummary(const DedupOptions& o, const DedupReport& r) {
  std::string s = absl::StrFormat(
      "llmtk-dedup: %d documents (%s): %d exact duplicates, %d near duplicates removed, %d kept",
      r.documents, HumanBytes(static_cast<double>(r.bytes)), r.exact_duplicates, r.near_duplicates, r.kept);
  if (r.skipped) absl::StrAppendFormat(&s, ", %d bad lines skipped", r.skipped);
  if (r.blank_lines) absl::StrAppendFormat(&s, ", %d blank lines ignored", r.blank_lines);
  if (r.replaced_utf8) absl::StrAppendFormat(&s, ", %d documents with invalid UTF-8 repaired", r.replaced_utf8);
  s += "\n";
  absl::StrAppendFormat(&s,
                        "llmtk-dedup: MinHash %d hashes = %d bands x %d rows%s, threshold %g: "
                        "P(candidate) %.3f at the threshold, false-positive area %.4f, false-negative area %.4f\n",
                        r.lsh.num_perm(), r.lsh.bands, r.lsh.rows, r.lsh_chosen ? " (chosen for the threshold)" : "",
                        o.threshold, CandidateProbability(o.threshold, r.lsh), FalsePositiveArea(o.threshold, r.lsh),
                        FalseNegativeArea(o.threshold, r.lsh));
  absl::StrAppendFormat(&s, "llmtk-dedup: verify %s: %d candidate pairs, %d accepted, %d rejected; %d clusters\n",
                        VerifyName(o.verify), r.candidate_pairs, r.accepted_pairs,
                        r.candidate_pairs - r.accepted_pairs, r.clusters);
  if (r.missing_keep_field)
    absl::StrAppendFormat(&s, "llmtk-dedup: %d documents lack a numeric '%s' and rank last for --keep\n",
                          r.missing_keep_field, o.keep_field);
  return s;
}

std::string FormatDedupJson(const DedupOptions& o, const DedupReport& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("documents").Uint(r.documents).Key("bytes").Uint(r.bytes);
  w.Key("exact_duplicates").Uint(r.exact_duplicates).Key("near_duplicates").Uint(r.near_duplicates);
  w.Key("kept").Uint(r.kept).Key("skipped").Uint(r.skipped).Key("blank_lines").Uint(r.blank_lines);
  w.Key("replaced_utf8").Uint(r.replaced_utf8);
  w.Key("num_perm").Int(r.lsh.num_perm()).Key("bands").Int(r.lsh.bands).Key("rows").Int(r.lsh.rows);
  w.Key("threshold").Double(o.threshold).Key("verify").String(VerifyName(o.verify));
  w.Key("candidate_probability_at_threshold").Double(CandidateProbability(o.threshold, r.lsh));
  w.Key("false_positive_area").Double(FalsePositiveArea(o.threshold, r.lsh));
  w.Key("false_negative_area").Double(FalseNegativeArea(o.threshold, r.lsh));
  w.Key("candidate_pairs").Uint(r.candidate_pairs).Key("accepted_pairs").Uint(r.accepted_pairs);
  w.Key("clusters").Uint(r.clusters).Key("verified_documents").Uint(r.verified_docs);
  w.Key("missing_keep_field").Uint(r.missing_keep_field);
  w.Key("table_bytes").Uint(r.table_bytes).Key("verify_bytes").Uint(r.verify_bytes);
  w.Key("seconds").Double(r.seconds);
  w.EndObject();
  return w.Take();
}

}  // namespace llmtk
