#include "tools/vram/vram_tool.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/json_writer.h"
#include "lib/base/status.h"
#include "lib/vram/internal.h"

namespace llmtk {

using internal::Gib;
using internal::Num;

namespace {

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string ModelName(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  std::string name = p.filename().string();
  if (name == "config.json" || name.empty()) name = p.parent_path().filename().string();
  const std::string suffix = ".config.json";
  if (name.size() > suffix.size() && name.ends_with(suffix)) name.resize(name.size() - suffix.size());
  return name;
}

std::string SolveName(SolveFor w) {
  switch (w) {
    case SolveFor::kMaxBatch: return "max-batch";
    case SolveFor::kMaxSeq: return "max-seq";
    case SolveFor::kMinGpus: return "min-gpus";
    case SolveFor::kNone: break;
  }
  return "";
}

std::string FitLine(const MemoryEstimate& e, const Scenario& s, const std::string& gpu) {
  if (s.gpu_bytes <= 0) return "";
  const std::string where =
      absl::StrCat(gpu.empty() ? "a" : gpu, " GPU of ", Gib(s.gpu_bytes));
  const int64_t total = e.TotalPerGpu();
  if (!s.training && s.inference.engine == Engine::kVllm) {
    return Fits(e, s)
               ? absl::StrCat("fits on ", where, ": KV pool holds ", Num(e.kv_tokens),
                              " tokens for ", Num(s.inference.batch * s.inference.context),
                              " needed\n")
               : absl::StrCat("does NOT fit on ", where, ": KV pool holds ", Num(e.kv_tokens),
                              " tokens, ", Num(s.inference.batch * s.inference.context),
                              " needed\n");
  }
  if (total <= s.gpu_bytes) {
    return absl::StrCat("fits on ", where, ": ", Gib(s.gpu_bytes - total), " to spare\n");
  }
  std::string line = absl::StrCat("does NOT fit on ", where, ": short by ",
                                  Gib(total - s.gpu_bytes), "\n");
  if (e.pageable_bytes > 0 && total - e.pageable_bytes <= s.gpu_bytes) {
    absl::StrAppend(&line, "fits if the paged optimizer spills ",
                    Gib(total - s.gpu_bytes), " of its states to CPU memory\n");
  }
  return line;
}

}  // namespace

std::string RenderTable(const std::string& model_name, const MemoryEstimate& e,
                        const Scenario& s, const std::string& gpu_name, bool explain) {
  std::string out = absl::StrCat(model_name, ": ", Num(e.params.total), " params");
  if (e.params.active != e.params.total) absl::StrAppend(&out, " (", Num(e.params.active), " active)");
  absl::StrAppend(&out, "\n", e.summary, "\n\n");
  absl::StrAppend(&out, absl::StrFormat("%-18s %14s\n", "component", "per GPU"));
  for (const MemoryLine& l : e.lines) {
    absl::StrAppend(&out, absl::StrFormat("%-18s %14s\n", l.name, Gib(l.bytes)));
    if (explain && !l.formula.empty()) absl::StrAppend(&out, "    = ", l.formula, "\n");
  }
  absl::StrAppend(&out, absl::StrFormat("%-18s %14s\n", "total", Gib(e.TotalPerGpu())));
  if (explain) absl::StrAppend(&out, "    = ", Num(e.TotalPerGpu()), " bytes\n");
  if (!e.measure.empty()) absl::StrAppend(&out, "measure: ", e.measure, "\n");
  if (explain) {
    if (!e.peak_phase.empty()) {
      absl::StrAppend(&out, "peak at: ", e.peak_phase, " (the lines above are what is resident then)\n");
      if (e.allocator_reserve > 0) {
        absl::StrAppend(&out, "    allocated per phase below; reserved adds ",
                        Gib(e.allocator_reserve), " held by the caching allocator\n");
      }
      for (const MemoryEstimate::Phase& p : e.phases) {
        absl::StrAppend(&out, absl::StrFormat("    %-30s %14s\n", p.name, Gib(p.bytes)));
      }
    }
  }
  for (const std::string& n : e.notes) absl::StrAppend(&out, n, "\n");
  absl::StrAppend(&out, FitLine(e, s, gpu_name));
  return out;
}

std::string RenderJson(const std::string& model_name, const MemoryEstimate& e,
                       const Scenario& s, const std::string& gpu_name) {
  std::string out = absl::StrCat("{\"model\":", JsonString(model_name), ",\"mode\":",
                                 JsonString(e.mode), ",\"summary\":", JsonString(e.summary),
                                 ",\"params\":{\"total\":", e.params.total,
                                 ",\"active\":", e.params.active, "},\"gpus\":", e.gpus,
                                 ",\"per_gpu\":[");
  for (size_t i = 0; i < e.lines.size(); ++i) {
    const MemoryLine& l = e.lines[i];
    absl::StrAppend(&out, i ? "," : "", "{\"name\":", JsonString(l.name), ",\"bytes\":", l.bytes,
                    ",\"formula\":", JsonString(l.formula), "}");
  }
  absl::StrAppend(&out, "],\"total_per_gpu_bytes\":", e.TotalPerGpu(),
                  ",\"cpu_offload_bytes\":", e.cpu_bytes,
                  ",\"pageable_bytes\":", e.pageable_bytes);
  if (!e.measure.empty()) {
    absl::StrAppend(&out, ",\"measure\":", JsonString(e.measure),
                    ",\"allocator_reserve_bytes\":", e.allocator_reserve);
  }
  if (!e.peak_phase.empty()) {
    absl::StrAppend(&out, ",\"peak_phase\":", JsonString(e.peak_phase), ",\"phases\":[");
    for (size_t i = 0; i < e.phases.size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", "{\"name\":", JsonString(e.phases[i].name),
                      ",\"bytes\":", e.phases[i].bytes, "}");
    }
    absl::StrAppend(&out, "]");
  }
  if (e.kv_tokens >= 0) {
    absl::StrAppend(&out, ",\"kv_cache_tokens\":", e.kv_tokens,
                    ",\"max_concurrency\":", absl::StrFormat("%.4f", e.max_concurrency));
  }
  if (s.gpu_bytes > 0) {
    absl::StrAppend(&out, ",\"gpu\":{\"name\":", JsonString(gpu_name), ",\"bytes\":", s.gpu_bytes,
                    ",\"fits\":", Fits(e, s) ? "true" : "false",
                    ",\"spare_bytes\":", s.gpu_bytes - e.TotalPerGpu(), "}");
  }
  absl::StrAppend(&out, ",\"notes\":[");
  for (size_t i = 0; i < e.notes.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", JsonString(e.notes[i]));
  }
  absl::StrAppend(&out, "]}");
  return out;
}


absl::StatusOr<std::string> RunVramRequest(const VramRequest& r) {
  if (r.model.empty() == (r.params <= 0)) {
    return absl::InvalidArgumentError("give exactly one of --model PATH or --params N");
  }
  std::string name;
  MemoryEstimate e;
  Scenario s = r.scenario;
  std::string solved;
  if (r.params > 0) {
    if (r.solve != SolveFor::kNone) {
      return absl::InvalidArgumentError("--solve needs --model");
    }
    name = absl::StrCat(Num(r.params), " params");
    ASSIGN_OR_RETURN(e, EstimateModelStatesOnly(r.params, s));
  } else {
    ASSIGN_OR_RETURN(ModelShape m, LoadModelShape(r.model));
    name = ModelName(r.model);
    if (r.solve != SolveFor::kNone) {
      ASSIGN_OR_RETURN(Solution sol, Solve(m, s, r.solve));
      s = sol.scenario;
      e = sol.estimate;
      solved = absl::StrCat("solve ", SolveName(r.solve), ": ", sol.value);
      e.notes.insert(e.notes.begin(), solved);
    } else {
      ASSIGN_OR_RETURN(e, EstimateScenario(m, s));
    }
  }
  if (r.json) return RenderJson(name, e, s, r.gpu_name) + "\n";
  return RenderTable(name, e, s, r.gpu_name, r.explain);
}

}  // namespace llmtk
