#include "lib/vram/fit.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/size.h"
#include "lib/base/status.h"
#include "lib/vram/internal.h"

namespace llmtk {
namespace {

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '_') c = '-';
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

const std::vector<GpuSpec>& GpuTable() {
  static const std::vector<GpuSpec>* table = new std::vector<GpuSpec>{
      {"H200-141GB", 141 * kGiB}, {"H100-80GB", 80 * kGiB},  {"H100-94GB", 94 * kGiB},
      {"A100-80GB", 80 * kGiB},   {"A100-40GB", 40 * kGiB},  {"L40S", 48 * kGiB},
      {"A40", 48 * kGiB},         {"A6000", 48 * kGiB},      {"L4", 24 * kGiB},
      {"A10G", 24 * kGiB},        {"A10", 24 * kGiB},        {"RTX5090", 32 * kGiB},
      {"RTX4090", 24 * kGiB},     {"RTX3090", 24 * kGiB},    {"RTX4080", 16 * kGiB},
      {"RTX4060Ti-16GB", 16 * kGiB}, {"V100-32GB", 32 * kGiB}, {"V100-16GB", 16 * kGiB},
      {"T4", 16 * kGiB},          {"MI300X", 192 * kGiB},    {"MI250X", 128 * kGiB},
  };
  return *table;
}

absl::StatusOr<GpuSpec> FindGpu(std::string_view name) {
  const std::string want = Lower(name);
  std::vector<std::string> names;
  for (const GpuSpec& g : GpuTable()) {
    if (Lower(g.name) == want) return g;
    names.push_back(g.name);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown GPU '", ToAbsl(name), "'; known: ",
                                                 absl::StrJoin(names, ", "),
                                                 "; or give --gpu-mem SIZE"));
}

absl::StatusOr<int64_t> ParseByteSize(std::string_view s) {
  double bytes = 0;
  switch (ParseSize(s, kByteUnits, kByteSeparators, &bytes)) {
    case SizeError::kNumber:
      return absl::InvalidArgumentError(absl::StrCat("bad size '", ToAbsl(s),
                                                     "'; use e.g. 24GiB, 80GB, 81559MiB"));
    case SizeError::kUnit:
      return absl::InvalidArgumentError(absl::StrCat("bad size unit in '", ToAbsl(s),
                                                     "'; use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB"));
    case SizeError::kNone:
      break;
  }
  // "24" for a GPU is 24 GB to a person and 24 bytes to a parser: say which.
  const absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(ToAbsl(s));
  if (bytes != 0 && (trimmed.empty() || !absl::ascii_isalpha(trimmed.back()))) {
    return absl::InvalidArgumentError(absl::StrCat("size '", ToAbsl(s), "' has no unit; write e.g. ", ToAbsl(s),
                                                   "GiB or ", ToAbsl(s), "GB (", ToAbsl(s), "B for bytes)"));
  }
  if (bytes > 9e18) return absl::InvalidArgumentError(absl::StrCat("size '", ToAbsl(s), "' is too large"));
  return static_cast<int64_t>(std::llround(bytes));
}

absl::StatusOr<SolveFor> ParseSolve(std::string_view s) {
  if (s == "max-batch") return SolveFor::kMaxBatch;
  if (s == "max-seq") return SolveFor::kMaxSeq;
  if (s == "min-gpus") return SolveFor::kMinGpus;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown --solve '", ToAbsl(s), "'; use max-batch, max-seq or min-gpus"));
}

absl::StatusOr<MemoryEstimate> EstimateScenario(const ModelShape& m, const Scenario& s) {
  if (s.training) return EstimateTraining(m, s.train);
  InferenceOptions o = s.inference;
  o.gpu_bytes = s.gpu_bytes;
  return EstimateInference(m, o);
}

bool Fits(const MemoryEstimate& e, const Scenario& s) {
  if (!s.training && s.inference.engine == Engine::kVllm) {
    return e.kv_tokens >= s.inference.context * s.inference.batch;
  }
  return s.gpu_bytes > 0 && e.TotalPerGpu() <= s.gpu_bytes;
}

namespace {

// Applies `v` to the scenario's knob.
Scenario With(const Scenario& s, SolveFor what, int64_t v) {
  Scenario t = s;
  if (what == SolveFor::kMaxBatch) {
    if (s.training) t.train.micro_batch = v; else t.inference.batch = v;
  } else if (what == SolveFor::kMaxSeq) {
    if (s.training) t.train.seq_len = v; else t.inference.context = v;
  }
  return t;
}

// Fits, treating "no room at all" errors as not fitting.
absl::StatusOr<bool> TryFit(const ModelShape& m, const Scenario& s, MemoryEstimate* out) {
  absl::StatusOr<MemoryEstimate> e = EstimateScenario(m, s);
  if (!e.ok()) {
    if (absl::IsResourceExhausted(e.status())) return false;
    return e.status();
  }
  *out = *e;
  return Fits(*e, s);
}

}  // namespace

absl::StatusOr<Solution> Solve(const ModelShape& m, const Scenario& s, SolveFor what) {
  if (s.gpu_bytes <= 0) {
    return absl::InvalidArgumentError("--solve needs a GPU: give --gpu NAME or --gpu-mem SIZE");
  }
  Solution sol;
  sol.what = what;
  if (what == SolveFor::kMaxBatch || what == SolveFor::kMaxSeq) {
    MemoryEstimate est;
    ASSIGN_OR_RETURN(bool ok, TryFit(m, With(s, what, 1), &est));
    if (!ok) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "does not fit even with ", what == SolveFor::kMaxBatch ? "batch 1" : "1 token", ": ",
          internal::Gib(est.TotalPerGpu()), " needed per GPU, ", internal::Gib(s.gpu_bytes),
          " available"));
    }
    // Memory grows monotonically with batch and sequence: double, then bisect.
    int64_t lo = 1, hi = 2;
    const int64_t limit = int64_t{1} << 24;
    while (hi <= limit) {
      ASSIGN_OR_RETURN(bool f, TryFit(m, With(s, what, hi), &est));
      if (!f) break;
      lo = hi;
      hi *= 2;
    }
    if (hi > limit) hi = limit + 1;
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      ASSIGN_OR_RETURN(bool f, TryFit(m, With(s, what, mid), &est));
      (f ? lo : hi) = mid;
    }
    sol.value = lo;
    sol.scenario = With(s, what, lo);
    ASSIGN_OR_RETURN(sol.estimate, EstimateScenario(m, sol.scenario));
    return sol;
  }
  // Fewest GPUs.
  if (s.training) {
    const int group = s.train.tp * s.train.pp;
    for (int dp = 1; dp * group <= 4096; ++dp) {
      Scenario t = s;
      t.train.gpus = dp * group;
      MemoryEstimate est;
      ASSIGN_OR_RETURN(bool f, TryFit(m, t, &est));
      if (f) {
        sol.value = t.train.gpus;
        sol.scenario = t;
        sol.estimate = est;
        return sol;
      }
      if (t.train.zero_stage == 0 && dp == 1) break;  // replicas do not shrink per-GPU memory
    }
    return absl::ResourceExhaustedError(
        s.train.zero_stage == 0
            ? "does not fit on one model-parallel group and data parallelism without ZeRO does "
              "not reduce per-GPU memory; try --zero 1..3, --tp or --pp"
            : "does not fit on any number of GPUs up to 4096");
  }
  for (int tp = 1; tp <= m.heads && tp <= 1024; ++tp) {
    if (m.heads % tp != 0) continue;
    Scenario t = s;
    t.inference.tp = tp;
    MemoryEstimate est;
    ASSIGN_OR_RETURN(bool f, TryFit(m, t, &est));
    if (f) {
      sol.value = tp;
      sol.scenario = t;
      sol.estimate = est;
      return sol;
    }
  }
  return absl::ResourceExhaustedError("does not fit with any tensor-parallel degree");
}

// --params without a model: the ZeRO paper's model-state arithmetic.
absl::StatusOr<MemoryEstimate> EstimateModelStatesOnly(int64_t psi, const Scenario& s) {
  if (!s.training) {
    return absl::InvalidArgumentError("--params works for training model states only; give "
                                      "--model for inference");
  }
  const TrainingOptions& o = s.train;
  if (o.method != TrainMethod::kFull || o.precision != Precision::kMixed ||
      o.optimizer != Optimizer::kAdamW) {
    return absl::InvalidArgumentError(
        "--params supports full training with mixed precision AdamW (K = 12) only");
  }
  if (o.tp != 1 || o.pp != 1) {
    return absl::InvalidArgumentError("--params does not model tp/pp; give --model");
  }
  if (o.zero_stage < 0 || o.zero_stage > 3) {
    return absl::InvalidArgumentError(absl::StrCat("--zero must be 0, 1, 2 or 3, got ", o.zero_stage));
  }
  ModelStates st = ZeroModelStates(psi, 12, o.gpus, o.zero_stage);
  MemoryEstimate e;
  e.mode = "training";
  e.params.total = e.params.active = psi;
  e.gpus = o.gpus;
  e.lines = internal::EmptyLines();
  auto set = [&](const char* name, int64_t bytes, std::string f) {
    MemoryLine& l = internal::Line(e, name);
    l.bytes = bytes;
    l.formula = std::move(f);
  };
  const std::string dp = absl::StrCat(" / N_d ", o.gpus);
  set(internal::kWeights, st.weights,
      absl::StrCat("2 bytes x ", internal::Num(psi), o.zero_stage >= 3 ? dp : ""));
  set(internal::kGradients, st.gradients,
      absl::StrCat("2 bytes x ", internal::Num(psi), o.zero_stage >= 2 ? dp : ""));
  set(internal::kOptimizer, st.optimizer,
      absl::StrCat("K=12 bytes (fp32 master, momentum, variance) x ", internal::Num(psi),
                   o.zero_stage >= 1 ? dp : ""));
  set(internal::kActivations, 0, "no model shape given: activations not estimated");
  set(internal::kOverhead, 0, "model states only");
  e.summary = absl::StrCat("training model states (ZeRO paper, mixed-precision Adam), ", o.gpus,
                           " GPUs, ZeRO ", o.zero_stage);
  return e;
}


}  // namespace llmtk
