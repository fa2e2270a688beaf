// Reserved memory of a training step: what PyTorch's CUDA caching allocator
// holds beyond the allocated bytes (docs/vram.md "What the measurement
// reports"): the segment slack of the tensors that live through the step,
// activation blocks freed and cached but not reusable at the peak, the
// FSDP/ZeRO-3 all-gather stream's own pool, and (nvidia-smi) NCCL's buffers.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/status.h"
#include "lib/vram/allocator.h"
#include "lib/vram/estimate.h"
#include "lib/vram/formats.h"
#include "lib/vram/internal.h"
#include "lib/vram/train_internal.h"

namespace llmtk {

absl::StatusOr<Measure> ParseMeasure(std::string_view s) {
  if (s == "allocated") return Measure::kAllocated;
  if (s == "reserved") return Measure::kReserved;
  if (s == "nvidia-smi") return Measure::kNvidiaSmi;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown --measure '", ToAbsl(s), "'; use allocated, reserved or nvidia-smi"));
}

const char* MeasureName(Measure m) {
  switch (m) {
    case Measure::kBudget: return "budget";
    case Measure::kAllocated: return "allocated";
    case Measure::kReserved: return "reserved";
    case Measure::kNvidiaSmi: return "nvidia-smi";
  }
  return "";
}

namespace internal {
namespace {

// Tensor bytes of one copy of the model's parameters, per GPU, in creation
// order: each tensor on its own, or (sharded) one flat shard per FSDP unit
// (each block, then the root: embeddings, final norm, LM head).
struct TensorList {
  std::vector<int64_t> sizes;
  int64_t bytes = 0;
  void Add(int64_t b) {
    if (b <= 0) return;
    sizes.push_back(b);
    bytes += b;
  }
};

// bytes(role, layer, rows, cols, count) for each parameter tensor.
template <typename BytesFn>
TensorList ParamTensors(const ModelShape& m, int64_t mp, int dp, bool sharded, BytesFn bytes) {
  TensorList out;
  std::vector<int64_t> unit(m.layers + 1, 0);  // last: the root unit
  ForEachTensor(m, [&](TensorRole role, int64_t layer, int64_t r, int64_t c, int64_t n) {
    const int64_t b = bytes(role, layer, r, c, n);
    if (sharded) {
      unit[layer < 0 ? m.layers : layer] += b;
    } else {
      for (int64_t i = 0; i < n; ++i) out.Add((b / n + mp - 1) / mp);
    }
  });
  if (sharded) {
    for (int64_t b : unit) out.Add((b + mp * dp - 1) / (mp * dp));
  }
  return out;
}

// LoRA adapters: per layer and target an A (r x in) and a B (out x r); their
// shapes are taken as equal halves of the layer's adapter parameters, which
// only moves a tensor between 512-byte blocks.
TensorList AdapterTensors(const ModelShape& m, const TrainingOptions& o, int64_t adapter,
                          int64_t elem, int64_t mp, int dp, bool sharded) {
  TensorList out;
  const int64_t per_layer = adapter / m.layers;
  const int64_t pieces = 2 * static_cast<int64_t>(o.lora_targets.size());
  for (int64_t layer = 0; layer < m.layers; ++layer) {
    if (sharded) {
      out.Add((per_layer * elem + mp * dp - 1) / (mp * dp));
    } else {
      for (int64_t i = 0; i < pieces; ++i) out.Add((per_layer / pieces * elem + mp - 1) / mp);
    }
  }
  return out;
}

// The slack between the segments a list of tensors reserves and its bytes.
int64_t Slack(const TensorList& t) {
  return std::max<int64_t>(0, cuda_alloc::ReservedForSequence(t.sizes) - t.bytes);
}

}  // namespace

int64_t WeightSegmentSlack(const ModelShape& m, const WeightFormat& f, int64_t mp) {
  return Slack(ParamTensors(m, mp, 1, false, [&](TensorRole role, int64_t layer, int64_t r,
                                                 int64_t c, int64_t n) {
    return f.Bytes(role, layer < 0 ? 0 : layer, m.layers, r, c, n, m.tied_embeddings);
  }));
}

ReservePlan PlanReserve(const ModelShape& m, const TrainingOptions& o, const ReserveInputs& in) {
  ReservePlan r;
  const bool lora = o.method != TrainMethod::kFull;
  const bool fp32_params = o.precision == Precision::kFp32 || o.precision == Precision::kAmp;
  const int pbytes = fp32_params ? 4 : 2;
  // Weights, created at load (nothing freed in between).
  if (!o.offload_params) {
    TensorList w;
    const bool sharded = o.zero_stage >= 3 && in.dp > 1;
    if (lora) {
      absl::StatusOr<WeightFormat> f = WeightFormat::Parse(
          o.method == TrainMethod::kQlora ? o.qlora_format : (fp32_params ? "fp32" : "bf16"),
          fp32_params ? 4 : 2);
      if (f.ok()) {
        w = ParamTensors(m, in.mp, in.dp, sharded, [&](TensorRole role, int64_t layer, int64_t r,
                                                       int64_t c, int64_t n) {
          return f->Bytes(role, layer < 0 ? 0 : layer, m.layers, r, c, n, m.tied_embeddings);
        });
      }
      const TensorList a = AdapterTensors(m, o, in.adapter, pbytes, in.mp, in.dp, sharded);
      w.sizes.insert(w.sizes.end(), a.sizes.begin(), a.sizes.end());
      w.bytes += a.bytes;
    } else {
      w = ParamTensors(m, in.mp, in.dp, sharded,
                       [&](TensorRole, int64_t, int64_t r, int64_t c, int64_t n) {
                         return r * c * n * pbytes;
                       });
    }
    r.rounding += Slack(w);
  }
  // Gradients and optimizer states take trainable-parameter-shaped tensors
  // (flat shards when sharded).
  auto trainable = [&](int64_t elem, bool sharded) {
    if (lora) return AdapterTensors(m, o, in.adapter, elem, in.mp, in.dp, sharded);
    return ParamTensors(m, in.mp, in.dp, sharded,
                        [&](TensorRole, int64_t, int64_t r, int64_t c, int64_t n) {
                          return r * c * n * elem;
                        });
  };
  if (in.gradients_held && !o.offload_gradients) {
    r.rounding += Slack(trainable(pbytes, o.zero_stage >= 2 && in.dp > 1));
  }
  // bitsandbytes' paged states live in CUDA managed memory, outside
  // PyTorch's allocator (bitsandbytes/functional.py,
  // get_paged: lib.cget_managed_ptr, CUDA managed memory).
  if (!o.offload_optimizer && !o.paged_optimizer) {
    const bool sharded = o.zero_stage >= 1 && in.dp > 1;
    const int64_t state = o.precision == Precision::kBf16 ? 2 : 4;
    int copies = 0, elem = static_cast<int>(state);
    switch (o.optimizer) {
      case Optimizer::kAdamW: copies = 2; break;
      case Optimizer::kAdamW8bit: copies = 2; elem = 1; break;
      case Optimizer::kSgdMomentum:
      case Optimizer::kLion: copies = 1; break;
      case Optimizer::kSgd:
      case Optimizer::kAdafactor: copies = 0; break;  // factored vectors: small-pool blocks
    }
    for (int i = 0; i < copies; ++i) r.rounding += Slack(trainable(elem, sharded));
    if (o.precision == Precision::kMixed) r.rounding += Slack(trainable(4, sharded));
  }
  // Activation blocks freed and cached: see kActivationFragmentation.
  r.fragmentation = static_cast<int64_t>(
      kActivationFragmentation * static_cast<double>(in.max_activations));
  r.unshard_pool = std::max<int64_t>(0, in.max_gathered - in.gathered_at_peak);
  if (o.measure == Measure::kNvidiaSmi && o.gpus > 1) r.nccl = kNcclBuffers;
  r.formula = absl::StrCat("caching allocator reserve ", Gib(r.Total()), " = segment slack ",
                           Gib(r.rounding), " + ", absl::StrFormat("%.0f%%", kActivationFragmentation * 100),
                           " of the largest activation set ", Gib(in.max_activations),
                           " (freed blocks kept cached)");
  if (r.unshard_pool > 0) {
    absl::StrAppend(&r.formula, " + all-gather stream pool kept ", Gib(r.unshard_pool));
  }
  if (r.nccl > 0) absl::StrAppend(&r.formula, " + NCCL buffers ", Gib(r.nccl));
  return r;
}

}  // namespace internal
}  // namespace llmtk
