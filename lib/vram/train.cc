// Training memory: model states (weights, gradients, optimizer states incl.
// fp32 master weights) under ZeRO/FSDP sharding and offload, LoRA/QLoRA,
// activations after Korthikanti et al. 2022, and overheads.
#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/vram/estimate.h"
#include "lib/vram/formats.h"
#include "lib/vram/internal.h"
#include "lib/vram/train_internal.h"
#include "lib/base/status.h"

namespace llmtk {

using internal::Gib;
using internal::Num;

absl::StatusOr<Optimizer> ParseOptimizer(std::string_view s) {
  if (s == "adamw" || s == "adam") return Optimizer::kAdamW;
  if (s == "adamw8bit" || s == "adamw-8bit" || s == "adam8bit") return Optimizer::kAdamW8bit;
  if (s == "sgd") return Optimizer::kSgd;
  if (s == "sgd-momentum" || s == "sgdm") return Optimizer::kSgdMomentum;
  if (s == "adafactor") return Optimizer::kAdafactor;
  if (s == "lion") return Optimizer::kLion;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown optimizer '", ToAbsl(s), "'; use adamw, adamw8bit, sgd, sgd-momentum, adafactor or lion"));
}

absl::StatusOr<Precision> ParsePrecision(std::string_view s) {
  if (s == "fp32") return Precision::kFp32;
  if (s == "amp") return Precision::kAmp;
  if (s == "mixed") return Precision::kMixed;
  if (s == "bf16") return Precision::kBf16;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown precision '", ToAbsl(s), "'; use fp32, amp, mixed or bf16"));
}

absl::StatusOr<Recompute> ParseRecompute(std::string_view s) {
  if (s == "none") return Recompute::kNone;
  if (s == "selective") return Recompute::kSelective;
  if (s == "full") return Recompute::kFull;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown recompute '", ToAbsl(s), "'; use none, selective or full"));
}

absl::StatusOr<TrainMethod> ParseTrainMethod(std::string_view s) {
  if (s == "full") return TrainMethod::kFull;
  if (s == "lora") return TrainMethod::kLora;
  if (s == "qlora") return TrainMethod::kQlora;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown training method '", ToAbsl(s), "'; use full, lora or qlora"));
}

absl::StatusOr<int> ParseFsdp(std::string_view s) {
  if (s == "full") return 3;
  if (s == "grad-op") return 2;
  if (s == "none") return 0;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown --fsdp '", ToAbsl(s), "'; use full, grad-op or none"));
}

ModelStates ZeroModelStates(int64_t psi, int64_t k_bytes, int dp, int stage) {
  ModelStates s;
  s.weights = 2 * psi;
  s.gradients = 2 * psi;
  s.optimizer = k_bytes * psi;
  if (stage >= 1) s.optimizer /= dp;
  if (stage >= 2) s.gradients /= dp;
  if (stage >= 3) s.weights /= dp;
  return s;
}

namespace {

int ParamBytes(Precision p) { return p == Precision::kFp32 || p == Precision::kAmp ? 4 : 2; }

// Bytes of optimizer state per trainable parameter, times 1000 (the 8-bit
// optimizer's block statistics are fractional).
int64_t StateMilliBytes(Optimizer opt, Precision p) {
  const int64_t s = p == Precision::kBf16 ? 2 : 4;
  switch (opt) {
    case Optimizer::kAdamW: return 2 * s * 1000;
    // bitsandbytes: two uint8 states + an fp32 absmax per 256 values each.
    case Optimizer::kAdamW8bit: return 2 * 1000 + 2 * 4 * 1000 / 256;
    case Optimizer::kSgd: return 0;
    case Optimizer::kSgdMomentum: return s * 1000;
    case Optimizer::kLion: return s * 1000;
    case Optimizer::kAdafactor: return 0;  // factored: computed from matrix shapes
  }
  return 0;
}

const char* OptimizerName(Optimizer o) {
  switch (o) {
    case Optimizer::kAdamW: return "AdamW";
    case Optimizer::kAdamW8bit: return "8-bit AdamW";
    case Optimizer::kSgd: return "SGD";
    case Optimizer::kSgdMomentum: return "SGD+momentum";
    case Optimizer::kAdafactor: return "Adafactor";
    case Optimizer::kLion: return "Lion";
  }
  return "";
}

const char* PrecisionName(Precision p) {
  switch (p) {
    case Precision::kFp32: return "fp32";
    case Precision::kAmp: return "amp (fp32 params, 16-bit autocast)";
    case Precision::kMixed: return "mixed (16-bit params + fp32 master)";
    case Precision::kBf16: return "pure bf16";
  }
  return "";
}

// Every option's range, and the options' fit with each other and the model.
absl::Status CheckTrainingOptions(const ModelShape& m, const TrainingOptions& o) {
  RETURN_IF_ERROR(internal::CheckTokens("--micro-batch", o.micro_batch, "--seq-len", o.seq_len));
  RETURN_IF_ERROR(internal::CheckPositive("--grad-accum", o.grad_accum));
  RETURN_IF_ERROR(internal::CheckDegree("--gpus", o.gpus));
  RETURN_IF_ERROR(internal::CheckDegree("--tp", o.tp));
  RETURN_IF_ERROR(internal::CheckDegree("--pp", o.pp));
  RETURN_IF_ERROR(internal::CheckPositive("--loss-chunks", o.loss_chunks));
  RETURN_IF_ERROR(internal::CheckDegree("--lora-rank", o.lora_rank));
  RETURN_IF_ERROR(internal::CheckMagnitude(
      m, o.micro_batch * o.seq_len * std::min<int64_t>(o.pp, o.grad_accum), o.seq_len));
  if (o.zero_stage < 0 || o.zero_stage > 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("--zero must be 0, 1, 2 or 3, got ", o.zero_stage));
  }
  if (o.gpus % (o.tp * o.pp) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--gpus ", o.gpus, " is not a multiple of tp ",
                                                   o.tp, " x pp ", o.pp));
  }
  if (o.tp > 1 && m.heads % o.tp != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tp ", o.tp, " does not divide the ", m.heads, " attention heads"));
  }
  if (o.pp > m.layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("--pp ", o.pp, " exceeds the ", m.layers, " layers"));
  }
  if (o.offload_params && o.zero_stage < 3) {
    return absl::InvalidArgumentError("--offload-params needs --zero 3 (or --fsdp full)");
  }
  if (o.offload_gradients && o.zero_stage < 1) {
    return absl::InvalidArgumentError(
        "--offload-gradients needs sharded training: --zero 1-3 or --fsdp");
  }
  if (!(o.lora_dropout >= 0 && o.lora_dropout < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("--lora-dropout must be in [0, 1), got ", o.lora_dropout));
  }
  if (o.loss_chunks < 1) {
    return absl::InvalidArgumentError(absl::StrCat("--loss-chunks must be positive, got ", o.loss_chunks));
  }
  if (!o.token_heads.empty() && (!m.encoder || o.method != TrainMethod::kFull)) {
    return absl::InvalidArgumentError(
        "--token-heads is modelled for full fine-tuning of an encoder (BERT-style config)");
  }
  if (o.frozen_layers < 0 || o.frozen_layers > m.layers) {
    return absl::InvalidArgumentError(absl::StrCat("--freeze-layers must be in 0..", m.layers));
  }
  return absl::OkStatus();
}

// How the GPUs split the work: model parallelism (tp x pp) and data
// parallelism over the rest.
struct Parallelism {
  int dp = 1;
  int64_t mp = 1;
  // Bytes per GPU: shard over model parallelism, then ZeRO/FSDP over data
  // parallelism.
  int64_t Shard(int64_t bytes, bool zero_sharded) const {
    int64_t b = (bytes + mp - 1) / mp;
    if (zero_sharded) b = (b + dp - 1) / dp;
    return b;
  }
};

// Which parameters train, and the weights' bytes for the whole model.
struct TrainedParams {
  int64_t trainable = 0;
  int64_t adapter = 0;       // LoRA/QLoRA adapter parameters
  int64_t weight_bytes = 0;  // whole model, before sharding
  std::string weights_formula;
};

// Trainable vs frozen parameters: a full fine-tune (less frozen layers or
// embeddings), or adapters over a frozen base in its format.
absl::StatusOr<TrainedParams> CountTrainedParams(const ModelShape& m, const TrainingOptions& o, int64_t total) {
  TrainedParams trained;
  const int pbytes = ParamBytes(o.precision);
  if (o.method == TrainMethod::kFull) {
    int64_t frozen = 0;
    if (o.frozen_layers > 0 || o.freeze_embeddings) {
      ForEachTensor(m, [&](TensorRole role, int64_t layer, int64_t r, int64_t c, int64_t n) {
        const bool emb = role == TensorRole::kEmbedding;
        if ((layer >= 0 && layer < o.frozen_layers) || (emb && o.freeze_embeddings)) {
          frozen += r * c * n;
        }
      });
    }
    // A tagger's heads are parameters beside the encoder's own count.
    int64_t heads = 0;
    for (const int64_t n : o.token_heads) heads += m.hidden * n + n;
    trained.trainable = total + heads - frozen;
    trained.weight_bytes = (total + heads) * pbytes;
    trained.weights_formula = absl::StrCat(Num(total), " params x ", pbytes, " bytes (",
                                      PrecisionName(o.precision), ")");
    if (heads > 0) {
      trained.weights_formula = absl::StrCat("(", Num(total), " + token heads ", Num(heads), ") params x ",
                                             pbytes, " bytes (", PrecisionName(o.precision), ")");
    }
    if (frozen > 0) absl::StrAppend(&trained.weights_formula, "; ", Num(frozen), " frozen");
  } else {
    ASSIGN_OR_RETURN(trained.adapter, LoraParams(m, o.lora_targets, o.lora_rank));
    trained.trainable = trained.adapter;
    // fp32 and amp keep fp32 weights; for QLoRA that is every weight the
    // quantizer left alone (PEFT's prepare_model_for_kbit_training casts them).
    const bool fp32_base = o.precision == Precision::kFp32 || o.precision == Precision::kAmp;
    std::string base_fmt = o.method == TrainMethod::kQlora ? o.qlora_format
                           : (fp32_base ? "fp32" : "bf16");
    ASSIGN_OR_RETURN(WeightFormat f, WeightFormat::Parse(base_fmt, fp32_base ? 4 : 2));
    const int64_t base = internal::WeightBytes(m, f).total + internal::QuantizedHeadWeightDelta(m, o, f);
    // Adapters follow the precision mode like any trainable parameter.
    trained.weight_bytes = base + trained.adapter * pbytes;
    trained.weights_formula = absl::StrCat("frozen base ", Num(total), " params in ", f.Describe(),
                                      internal::QuantizedHead(m, o) ? " (LM head quantized too)" : "",
                                      " = ", Num(base), " + LoRA r=", o.lora_rank, " adapters ",
                                      Num(trained.adapter), " params x ", pbytes, " bytes");
  }
  return trained;
}

void SetWeightsLine(const TrainingOptions& o, const Parallelism& par, const TrainedParams& trained,
                    MemoryEstimate* e) {
  MemoryLine& wl = internal::Line(*e, internal::kWeights);
  wl.formula = trained.weights_formula;
  if (par.mp > 1) absl::StrAppend(&wl.formula, " / (tp ", o.tp, " x pp ", o.pp, ")");
  if (o.zero_stage >= 3) absl::StrAppend(&wl.formula, " / dp ", par.dp, " (ZeRO-3/FSDP)");
  wl.bytes = par.Shard(trained.weight_bytes, o.zero_stage >= 3);
  if (o.offload_params) {
    e->cpu_bytes += wl.bytes;
    wl.bytes = 0;
    absl::StrAppend(&wl.formula, "; offloaded to CPU");
  }
}

void SetGradientsLine(const TrainingOptions& o, const Parallelism& par, int64_t trainable, MemoryEstimate* e) {
  const int gbytes = ParamBytes(o.precision);
  MemoryLine& gl = internal::Line(*e, internal::kGradients);
  if (o.optimizer_in_backward) {
    gl.formula = "optimizer step fused into backward: each gradient is freed after its update";
  } else {
    gl.bytes = par.Shard(trainable * gbytes, o.zero_stage >= 2);
    gl.formula = absl::StrCat(Num(trainable), " trainable x ", gbytes, " bytes");
    if (par.mp > 1) absl::StrAppend(&gl.formula, " / (tp x pp ", par.mp, ")");
    if (o.zero_stage >= 2) absl::StrAppend(&gl.formula, " / dp ", par.dp, " (ZeRO-2+)");
    if (o.offload_gradients) {
      e->cpu_bytes += gl.bytes;
      gl.bytes = 0;
      absl::StrAppend(&gl.formula, "; offloaded to CPU");
    }
  }
}

// Optimizer states (+ fp32 master copy in mixed precision), whole model.
int64_t OptimizerStateBytes(const ModelShape& m, const TrainingOptions& o, const TrainedParams& trained,
                            std::string* formula) {
  int64_t opt_bytes;
  if (o.optimizer == Optimizer::kAdafactor) {
    // Factored second moment: one fp32 row and column vector per matrix,
    // full fp32 for vectors; no first moment (HF default beta1=None).
    int64_t elems = 0;
    if (o.method == TrainMethod::kFull) {
      ForEachTensor(m, [&](TensorRole, int64_t layer, int64_t r, int64_t c, int64_t n) {
        if (layer >= 0 && layer < o.frozen_layers) return;
        elems += n * (r == 1 ? c : r + c);
      });
    } else {
      // Adapter pair (r x in, out x r): factored state (r + in) + (out + r);
      // r*(in+out) parameters, so in+out = params / r (the 2r terms are dropped).
      elems = trained.adapter / o.lora_rank;
    }
    opt_bytes = elems * 4;
    *formula = absl::StrCat("Adafactor factored second moment: ", Num(elems), " x 4 bytes");
  } else {
    const int64_t milli = StateMilliBytes(o.optimizer, o.precision);
    opt_bytes = (trained.trainable * milli + 999) / 1000;
    *formula = absl::StrCat(OptimizerName(o.optimizer), ": ", Num(trained.trainable), " x ",
                            absl::StrFormat("%g", milli / 1000.0), " bytes");
  }
  if (o.precision == Precision::kMixed) {
    opt_bytes += trained.trainable * 4;
    absl::StrAppend(formula, " + fp32 master weights ", Num(trained.trainable), " x 4 bytes");
  }
  return opt_bytes;
}

void SetOptimizerLine(const ModelShape& m, const TrainingOptions& o, const Parallelism& par,
                      const TrainedParams& trained, MemoryEstimate* e) {
  std::string opt_formula;
  const int64_t opt_bytes = OptimizerStateBytes(m, o, trained, &opt_formula);
  MemoryLine& optl = internal::Line(*e, internal::kOptimizer);
  optl.bytes = par.Shard(opt_bytes, o.zero_stage >= 1);
  optl.formula = opt_formula;
  if (par.mp > 1) absl::StrAppend(&optl.formula, " / (tp x pp ", par.mp, ")");
  if (o.zero_stage >= 1) absl::StrAppend(&optl.formula, " / dp ", par.dp, " (ZeRO-1+)");
  if (o.offload_optimizer) {
    e->cpu_bytes += optl.bytes;
    optl.bytes = 0;
    absl::StrAppend(&optl.formula, "; offloaded to CPU");
  }
  if (o.paged_optimizer && optl.bytes > 0) {
    e->pageable_bytes = optl.bytes;
    absl::StrAppend(&optl.formula, "; paged (can spill to CPU under memory pressure)");
  }
}

// ZeRO-3/FSDP's all-gathered layers: the current one and one prefetched, in
// the dtype the shards are stored in. QLoRA's shards are the NF4 blocks with
// their scales (bitsandbytes' quant_storage packs them into the flat
// parameter), so that is what is gathered (docs/vram.md "QLoRA with FSDP").
// Outside the blocks, FSDP's root unit (embeddings, final norm, LM head) is
// gathered for the whole forward; DeepSpeed gathers each module when it runs,
// so at the loss that is the LM head.
int64_t GatheredBytes(const ModelShape& m, const TrainingOptions& o, const Parallelism& par,
                      const MemoryEstimate& e) {
  if (o.zero_stage < 3 || par.dp <= 1) return 0;
  const bool fp32_base = o.precision == Precision::kFp32 || o.precision == Precision::kAmp;
  absl::StatusOr<WeightFormat> f = WeightFormat::Parse(
      o.method == TrainMethod::kQlora ? o.qlora_format : (fp32_base ? "fp32" : "bf16"),
      fp32_base ? 4 : 2);
  if (!f.ok()) return 0;  // CountTrainedParams has already rejected it
  int64_t layer0 = 0, root = 0, head = 0;
  ForEachTensor(m, [&](TensorRole role, int64_t layer, int64_t r, int64_t c, int64_t n) {
    const int64_t b = f->Bytes(role, layer < 0 ? 0 : layer, m.layers, r, c, n, m.tied_embeddings);
    if (layer == 0) layer0 += b;
    if (layer < 0) root += b;
    if (role == TensorRole::kOutput) head += b;
  });
  if (o.method != TrainMethod::kQlora) {
    // Full and LoRA shards are gathered in the 16-bit compute dtype (FSDP's
    // param_dtype), fp32 only in fp32 training.
    const int elem = internal::ActivationElemBytes(o);
    const int64_t blocks = e.params.total - e.params.embedding - e.params.lm_head;
    layer0 = blocks / m.layers * elem;
    root = (e.params.total - blocks) * elem;
    head = (m.tied_embeddings ? e.params.embedding : e.params.lm_head) * elem;
  } else if (m.tied_embeddings) {
    head = root;
  }
  return (2 * layer0 + (o.fsdp ? root : head)) / par.mp;
}

// PyTorch's default (foreach) AdamW forms sqrt(v) for the whole parameter
// group at once: one state-sized temporary during the step. The mixed mode
// (fp32 master weights) is DeepSpeed's/Megatron's, whose fused Adam updates
// in place.
int64_t StepTemporaryBytes(const TrainingOptions& o, const Parallelism& par, int64_t trainable) {
  if (o.optimizer != Optimizer::kAdamW || !o.optimizer_foreach || o.optimizer_in_backward ||
      o.offload_optimizer || o.precision == Precision::kMixed) {
    return 0;
  }
  const int64_t state = o.precision == Precision::kBf16 ? 2 : 4;
  return par.Shard(trainable * state, o.zero_stage >= 1);
}

// DeepSpeed ZeRO-2's contiguous-gradient buckets (docs/vram.md "DeepSpeed
// ZeRO-2's gradient buckets"): DeepSpeedZeroOptimizer.backward
// (deepspeed/runtime/zero/stage_1_and_2.py) allocates reduce_bucket_size
// elements in the parameters' dtype before loss.backward(), a second buffer
// with overlap_comm, whatever the model's size; the epilogue at the end of
// backward releases them before the step. The engine turns contiguous
// gradients off for stage 1, and FSDP has no such buffer.
int64_t GradientBucketBytes(const TrainingOptions& o) {
  if (o.zero_stage != 2 || o.fsdp) return 0;
  return o.reduce_bucket * ParamBytes(o.precision) * (o.overlap_comm ? 2 : 1);
}

// One phase of the step and what is resident in it besides weights and
// optimizer states.
struct Phase {
  const char* name;
  int64_t activations = 0, gradients = 0, temporary = 0;
  int64_t gathered = 0;  // ZeRO-3/FSDP: unsharded parameters (none by the step)
  int64_t buckets = 0;   // ZeRO-2's gradient buckets (backward only)
};

// The peak over the step's phases (docs/vram.md "When the peak happens"):
// at the loss no gradient exists yet (unless earlier micro-batches
// accumulated them); backward frees activations as gradients appear, so its
// extremes are its start (the loss) and its end, where all gradients are
// held, as in the optimizer step that follows.
void SetPhaseLines(const ModelShape& m, const TrainingOptions& o, const Parallelism& par,
                   int64_t trainable, MemoryEstimate* e) {
  const internal::ActivationPlan plan = internal::PlanActivations(m, o);
  MemoryLine& gl = internal::Line(*e, internal::kGradients);
  const int64_t all_grads = gl.bytes;
  const int64_t accumulated = o.grad_accum > 1 || o.keep_gradients ? all_grads : 0;
  const int64_t gathered = GatheredBytes(m, o, par, *e);
  // The buckets exist from the start of backward, while the loss's working
  // set is alive, to its end, where all gradients are; the step's temporary
  // comes after their release, so the last phase holds the larger of the two.
  const int64_t buckets = GradientBucketBytes(o);
  const int64_t step_temp = StepTemporaryBytes(o, par, trainable);
  std::vector<Phase> phases;
  phases.push_back({"forward, at the loss", plan.stored + plan.loss + plan.casts, accumulated, 0,
                    gathered, buckets});
  if (o.recompute == Recompute::kFull) {
    phases.push_back({"backward, a layer rebuilt", plan.stored + plan.rebuilt, accumulated, 0,
                      gathered, buckets});
  }
  phases.push_back({"backward end, optimizer step", 0, all_grads, buckets > step_temp ? 0 : step_temp, 0,
                    buckets > step_temp ? buckets : 0});
  // The default budget adds the context and a flat slack; a --measure adds
  // what that measurement includes (docs/vram.md "What the measurement reports").
  const int64_t context =
      o.measure == Measure::kBudget || o.measure == Measure::kNvidiaSmi ? o.cuda_context : 0;
  const double slack_share = o.measure == Measure::kBudget ? o.alloc_overhead : 0;
  const int64_t fixed = internal::Line(*e, internal::kWeights).bytes +
                        internal::Line(*e, internal::kOptimizer).bytes + context;
  auto frag = [&](const Phase& p) {
    return static_cast<int64_t>(
        std::llround(slack_share * static_cast<double>(p.activations + p.gradients)));
  };
  size_t peak = 0;
  for (size_t i = 0; i < phases.size(); ++i) {
    const Phase& p = phases[i];
    const int64_t total =
        fixed + p.activations + p.gradients + p.temporary + p.gathered + p.buckets + frag(p);
    e->phases.push_back({p.name, total});
    if (total > e->phases[peak].bytes) peak = i;
  }
  const Phase& at = phases[peak];
  e->peak_phase = at.name;
  internal::ReservePlan reserve;
  if (o.measure == Measure::kReserved || o.measure == Measure::kNvidiaSmi) {
    internal::ReserveInputs in;
    in.dp = par.dp;
    in.mp = par.mp;
    in.adapter = o.method == TrainMethod::kFull ? 0 : trainable;
    in.gathered_at_peak = at.gathered;
    for (const Phase& p : phases) {
      in.gradients_held = in.gradients_held || p.gradients > 0;
      in.max_activations = std::max(in.max_activations, p.activations);
      in.max_gathered = std::max(in.max_gathered, p.gathered);
    }
    reserve = internal::PlanReserve(m, o, in);
    e->allocator_reserve = reserve.Total();
  }

  gl.bytes = at.gradients;
  if (at.gradients < all_grads) {
    absl::StrAppend(&gl.formula, "; none held at the peak (", at.name, "): ", Gib(all_grads),
                    " once backward has run");
  }
  MemoryLine& al = internal::Line(*e, internal::kActivations);
  al.bytes = at.activations;
  al.formula = plan.stored_formula;
  if (!plan.loss_formula.empty()) absl::StrAppend(&al.formula, "; at the loss + ", plan.loss_formula);
  if (!plan.casts_formula.empty()) absl::StrAppend(&al.formula, "; + ", plan.casts_formula);
  if (at.activations == 0) absl::StrAppend(&al.formula, "; all freed by the peak (", at.name, ")");

  MemoryLine& ol = internal::Line(*e, internal::kOverhead);
  const int64_t slack = frag(at);
  ol.bytes = context + at.gathered + slack + at.temporary + at.buckets + reserve.Total();
  ol.formula = absl::StrCat("CUDA context ", Gib(context));
  if (at.gathered > 0) {
    absl::StrAppend(&ol.formula, " + ", o.fsdp ? "FSDP" : "ZeRO-3", " gathered (2 x one layer",
                    o.method == TrainMethod::kQlora ? ", 4-bit blocks + scales" : "",
                    o.fsdp ? " + root unit: embeddings, final norm, LM head" : " + LM head", ") ",
                    Gib(at.gathered));
  }
  if (at.temporary > 0) absl::StrAppend(&ol.formula, " + AdamW step temporary ", Gib(at.temporary));
  if (at.buckets > 0) {
    absl::StrAppend(&ol.formula, " + ZeRO-2 gradient bucket", o.overlap_comm ? "s 2" : " 1", " x ",
                    Num(o.reduce_bucket), " x ", ParamBytes(o.precision), " bytes ", Gib(at.buckets));
  }
  if (slack > 0) {
    absl::StrAppend(&ol.formula, " + allocator ", absl::StrFormat("%.0f%%", o.alloc_overhead * 100),
                    " of activations and gradients ", Gib(slack));
  }
  if (!reserve.formula.empty()) absl::StrAppend(&ol.formula, " + ", reserve.formula);
}

// --fsdp is recorded as the ZeRO stage it shards like; the summary names the
// sharding the user asked for.
std::string FsdpName(int stage) {
  return absl::StrCat("FSDP ", stage == 3 ? "full" : (stage == 2 ? "grad-op" : "none"));
}

std::string TrainingSummary(const TrainingOptions& o, const Parallelism& par) {
  const char* method = o.method == TrainMethod::kFull ? "full" : (o.method == TrainMethod::kLora ? "LoRA" : "QLoRA");
  return absl::StrCat("training, ", method, ", ", OptimizerName(o.optimizer), ", ",
                      PrecisionName(o.precision), ", micro-batch ", o.micro_batch, " x seq ", o.seq_len,
                      ", grad-accum ", o.grad_accum, ", ", o.gpus, " GPU",
                      o.gpus > 1 ? "s" : "", " (dp ", par.dp, ", tp ", o.tp, ", pp ", o.pp,
                      o.sp ? ", sp" : "", "), ",
                      o.fsdp ? FsdpName(o.zero_stage) : absl::StrCat("ZeRO ", o.zero_stage));
}

}  // namespace

absl::StatusOr<MemoryEstimate> EstimateTraining(const ModelShape& m, const TrainingOptions& o) {
  RETURN_IF_ERROR(CheckTrainingOptions(m, o));
  MemoryEstimate e;
  e.mode = "training";
  e.params = CountParams(m);
  e.gpus = o.gpus;
  e.lines = internal::EmptyLines();
  Parallelism par;
  par.dp = o.gpus / (o.tp * o.pp);
  par.mp = static_cast<int64_t>(o.tp) * o.pp;
  const int64_t total = e.params.total;

  ASSIGN_OR_RETURN(const TrainedParams trained, CountTrainedParams(m, o, total));
  SetWeightsLine(o, par, trained, &e);
  SetGradientsLine(o, par, trained.trainable, &e);
  SetOptimizerLine(m, o, par, trained, &e);
  SetPhaseLines(m, o, par, trained.trainable, &e);

  e.summary = TrainingSummary(o, par);
  if (o.measure != Measure::kBudget) e.measure = MeasureName(o.measure);
  if (o.method != TrainMethod::kFull) {
    e.notes.push_back(absl::StrCat("trainable params: ", Num(trained.trainable), " (",
                                   absl::StrFormat("%.3f%%", 100.0 * trained.trainable / total), ")"));
  }
  if (e.cpu_bytes > 0) e.notes.push_back(absl::StrCat("offloaded to CPU: ", Gib(e.cpu_bytes), " per GPU"));
  return e;
}

}  // namespace llmtk
