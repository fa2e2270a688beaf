#include "tools/filter/filter_tool.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "lib/base/json_writer.h"
#include "lib/dedup/stage.h"

namespace llmtk {

std::string FormatFilterSummary(const FilterOptions& o, const FilterReport& r) {
  const double secs = r.seconds > 0 ? r.seconds : 1e-9;
  std::string s = absl::StrFormat("llmtk-filter: %d documents (%s)", r.documents, HumanBytes(static_cast<double>(r.bytes)));
  if (o.tag) {
    absl::StrAppend(&s, " tagged\n");
  } else {
    absl::StrAppendFormat(&s, ": kept %d, removed %d (%.2f%%)\n", r.kept, r.removed,
                          r.documents ? 100.0 * r.removed / r.documents : 0.0);
    for (const auto& [rule, n] : r.removed_by_rule)
      if (n > 0) absl::StrAppendFormat(&s, "llmtk-filter:   %-28s %d\n", rule, n);
  }
  if (o.pii)
    absl::StrAppendFormat(&s, "llmtk-filter: pii: %d e-mail addresses, %d IP addresses replaced\n", r.pii.emails,
                          r.pii.ips);
  if (r.skipped > 0)
    absl::StrAppendFormat(&s, "llmtk-filter: skipped %d bad lines (first: %s)\n", r.skipped, r.first_skip_reason);
  absl::StrAppendFormat(&s, "llmtk-filter: %.2f s, %.0f docs/s, %s/s\n", r.seconds, r.documents / secs,
                        HumanBytes(r.bytes / secs));
  return s;
}

std::string FormatFilterJson(const FilterOptions& o, const FilterReport& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("mode").String(o.tag ? "tag" : "filter");
  w.Key("taggers").BeginArray();
  for (const std::string& t : r.taggers) w.String(t);
  w.EndArray();
  w.Key("documents").Uint(r.documents).Key("bytes").Uint(r.bytes);
  if (!o.tag) {
    w.Key("kept").Uint(r.kept).Key("removed").Uint(r.removed);
    w.Key("removed_by_rule").BeginObject();
    for (const auto& [rule, n] : r.removed_by_rule) w.Key(rule).Uint(n);
    w.EndObject();
  }
  if (o.pii) w.Key("pii").BeginObject().Key("emails").Uint(r.pii.emails).Key("ips").Uint(r.pii.ips).EndObject();
  w.Key("skipped_lines").Uint(r.skipped).Key("blank_lines").Uint(r.blank_lines);
  w.Key("shard").String(absl::StrCat(o.shard, "/", o.num_shards));
  w.Key("seconds").Double(r.seconds);
  w.EndObject();
  return w.Take();
}

absl::Status RunFilterTool(FilterToolOptions& o) {
  FilterOptions& run = o.run;
  RETURN_IF_ERROR(ParseShard(o.shard, &run.shard, &run.num_shards));
  if (run.num_shards == 1) RETURN_IF_ERROR(RequireInputOrPipe(run.inputs));
  if (run.tag)
    for (absl::string_view t : absl::StrSplit(o.taggers, ',', absl::SkipEmpty())) run.taggers.emplace_back(t);
  if (run.output.empty()) run.output = "-";
  run.threads = o.common.Threads();
  run.progress = o.common.ShowProgress();
  ASSIGN_OR_RETURN(FilterReport report, RunFilter(run));
  if (o.common.json) return WriteJsonReport(run.output, FormatFilterJson(run, report));
  if (!o.common.quiet) std::fputs(FormatFilterSummary(run, report).c_str(), stderr);
  return absl::OkStatus();
}

}  // namespace llmtk
