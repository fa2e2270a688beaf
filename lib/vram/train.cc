// Training memory: model states (weights, gradients, optimizer states incl.
// fp32 master weights) under ZeRO/FSDP sharding and offload, LoRA/QLoRA,
// activations after Korthikanti et al. 2022, and overheads.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/vram/estimate.h"
#include "lib/vram/formats.h"
#include "lib/vram/internal.h"
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

ActivationTerms LayerActivationBytesPerToken(const ModelShape& m, int64_t layer, int64_t s,
                                             int elem) {
  ActivationTerms t;
  const int64_t h = m.hidden;
  const int64_t mask = m.attention_dropout_masks ? 1 : 0;  // dropout masks: 1 byte each
  // Inputs of every norm, of the QKV projection and of the first MLP matrix
  // (Korthikanti: "10sbh" for GPT with two LayerNorms and two dropouts).
  t.replicated = elem * h * (m.norms_per_layer + 2) + mask * 2 * h;
  int64_t q, k, v, o;
  if (m.attention == AttentionKind::kLatent) {
    const int64_t qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
    q = m.heads * qk;
    k = m.heads * qk;
    v = m.heads * m.v_head_dim;
    o = m.heads * m.v_head_dim;
    // Compressed latents feed the up-projections and are saved for them.
    t.split += elem * (m.kv_lora_rank + m.q_lora_rank);
  } else {
    q = m.heads * m.head_dim;
    k = v = m.kv_heads * m.head_dim;
    o = q;
  }
  t.split += elem * (q + k + v + o);
  // Attention scores: softmax output (elem) and, with dropout, its mask (1)
  // and output (elem): Korthikanti's 5as per token for fp16.
  t.scores = m.heads * s * (elem + (mask ? 1 + elem : 0));
  // MLP intermediates: gated keeps gate, up, act(gate), act*up (4 x I);
  // plain keeps the activation's input and output (2 x I).
  auto mlp = [&](int64_t width) {
    return elem * width * (m.mlp == MlpKind::kGated ? 4 : 2);
  };
  if (m.IsMoeLayer(layer)) {
    // Each token's hidden state is gathered for each of its k experts; the
    // router's logits are kept in fp32.
    t.split += m.experts_per_token * (elem * h + mlp(m.moe_intermediate));
    t.split += mlp(m.moe_intermediate * m.shared_experts) + mlp(m.shared_expert_intermediate);
    t.replicated += 4 * m.experts;
  } else {
    t.split += mlp(m.intermediate);
  }
  return t;
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
    trained.trainable = total - frozen;
    trained.weight_bytes = total * pbytes;
    trained.weights_formula = absl::StrCat(Num(total), " params x ", pbytes, " bytes (",
                                      PrecisionName(o.precision), ")");
    if (frozen > 0) absl::StrAppend(&trained.weights_formula, "; ", Num(frozen), " frozen");
  } else {
    ASSIGN_OR_RETURN(trained.adapter, LoraParams(m, o.lora_targets, o.lora_rank));
    trained.trainable = trained.adapter;
    std::string base_fmt = o.method == TrainMethod::kQlora ? o.qlora_format
                           : (o.precision == Precision::kFp32 ? "fp32" : "bf16");
    ASSIGN_OR_RETURN(WeightFormat f, WeightFormat::Parse(base_fmt));
    const int64_t base = internal::WeightBytes(m, f).total;
    // Adapters follow the precision mode like any trainable parameter.
    trained.weight_bytes = base + trained.adapter * pbytes;
    trained.weights_formula = absl::StrCat("frozen base ", Num(total), " params in ", f.Describe(),
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

// Bytes per activation element: 16-bit unless training in fp32.
int ActivationElemBytes(const TrainingOptions& o) { return o.precision == Precision::kFp32 ? 4 : 2; }

// Activations of this pipeline stage's layers, per token: the largest layer
// and their sum, after tensor/sequence parallelism and dropped scores.
void StageActivationsPerToken(const ModelShape& m, const TrainingOptions& o, int64_t layers_local,
                              int64_t* per_layer_max, int64_t* stored) {
  const int elem = ActivationElemBytes(o);
  const bool drop_scores = o.flash_attention || o.recompute == Recompute::kSelective;
  for (int64_t i = 0; i < layers_local; ++i) {
    ActivationTerms t = LayerActivationBytesPerToken(m, i, o.seq_len, elem);
    int64_t rep = o.sp ? (t.replicated + o.tp - 1) / o.tp : t.replicated;
    int64_t per = rep + (t.split + (drop_scores ? 0 : t.scores) + o.tp - 1) / o.tp;
    if (o.flash_attention) per += 4 * ((m.heads + o.tp - 1) / o.tp);  // log-sum-exp, fp32
    *per_layer_max = std::max(*per_layer_max, per);
    *stored += per;
  }
}

// Activations (Korthikanti et al. 2022, section 4, generalized).
void SetActivationsLine(const ModelShape& m, const TrainingOptions& o, MemoryEstimate* e) {
  const int elem = ActivationElemBytes(o);
  const int64_t s = o.seq_len, b = o.micro_batch;
  const int64_t layers_local = (m.layers + o.pp - 1) / o.pp;
  // 1F1B: the first stage holds `pp` micro-batches in flight.
  const int64_t in_flight = std::min<int64_t>(o.pp, o.grad_accum);
  const bool drop_scores = o.flash_attention || o.recompute == Recompute::kSelective;
  int64_t per_layer_max = 0, stored = 0;
  StageActivationsPerToken(m, o, layers_local, &per_layer_max, &stored);
  std::string act_formula;
  int64_t layer_acts;
  ActivationTerms t0 = LayerActivationBytesPerToken(m, 0, s, elem);
  if (o.recompute == Recompute::kFull) {
    // Only each layer's input survives; one layer is rebuilt at a time.
    const int64_t input = elem * m.hidden / (o.sp ? o.tp : 1);
    layer_acts = b * s * (layers_local * input * in_flight + per_layer_max);
    act_formula = absl::StrCat("full recompute: ", b, " x ", s, " tokens x (", layers_local,
                               " layers x ", input, " bytes input", in_flight > 1 ? absl::StrCat(" x ", in_flight, " in flight") : "",
                               " + one layer ", per_layer_max, " bytes)");
  } else {
    layer_acts = b * s * stored * in_flight;
    act_formula = absl::StrCat(b, " x ", s, " tokens x ", layers_local, " layers x (",
                               t0.replicated, o.sp ? absl::StrCat("/", o.tp) : std::string(),
                               " + ", t0.split, o.tp > 1 ? absl::StrCat("/", o.tp) : std::string(),
                               drop_scores ? std::string(" [scores dropped: ") +
                                                 (o.flash_attention ? "flash attention]" : "selective recompute]")
                                           : absl::StrCat(" + scores ", t0.scores),
                               ") bytes per token per layer (first layer shown)");
    if (in_flight > 1) absl::StrAppend(&act_formula, " x ", in_flight, " micro-batches in flight (1F1B)");
  }
  // Output layer: 16-bit logits, then the fp32 upcast and its gradient for
  // the loss (chunked losses upcast one chunk at a time). Encoders here
  // carry a small task head instead of an LM head.
  int64_t loss_bytes = 0;
  if (!m.encoder) {
    const int64_t vocab_local = (m.vocab + o.tp - 1) / o.tp;
    const int64_t logit_elems = b * s * vocab_local;
    loss_bytes = logit_elems * elem + (logit_elems * 8 + o.loss_chunks - 1) / o.loss_chunks;
    absl::StrAppend(&act_formula, o.recompute == Recompute::kFull ? "; peak with " : " + ",
                    "logits ", b, " x ", s, " x vocab ", vocab_local, " x (", elem, " + 8/",
                    o.loss_chunks, " bytes fp32 loss and its gradient)");
  }
  if (o.recompute == Recompute::kFull) {
    // The loss is done before the first layer is rebuilt: the two working
    // sets do not coexist.
    const int64_t layer_work = b * s * per_layer_max;
    layer_acts -= layer_work;
    layer_acts += std::max(layer_work, loss_bytes);
    absl::StrAppend(&act_formula, " = inputs + max(one layer, loss)");
    loss_bytes = 0;
  }
  MemoryLine& al = internal::Line(*e, internal::kActivations);
  al.bytes = layer_acts + loss_bytes;
  al.formula = act_formula;
}

// Overheads: CUDA context, ZeRO-3's gathered layer, allocator slack (a share
// of the activations and gradients, so those lines come first).
void SetOverheadLine(const ModelShape& m, const TrainingOptions& o, const Parallelism& par, MemoryEstimate* e) {
  MemoryLine& ol = internal::Line(*e, internal::kOverhead);
  int64_t gathered = 0;
  if (o.zero_stage >= 3 && par.dp > 1) {
    const int64_t per_layer = (e->params.total - e->params.embedding - e->params.lm_head) / m.layers;
    gathered = 2 * per_layer * ActivationElemBytes(o) / par.mp;  // current layer + one prefetched
  }
  const int64_t dynamic = internal::Line(*e, internal::kActivations).bytes + internal::Line(*e, internal::kGradients).bytes;
  const int64_t frag = static_cast<int64_t>(std::llround(o.alloc_overhead * static_cast<double>(dynamic)));
  ol.bytes = o.cuda_context + gathered + frag;
  ol.formula = absl::StrCat("CUDA context ", Gib(o.cuda_context));
  if (gathered > 0) absl::StrAppend(&ol.formula, " + ZeRO-3 gathered layers (2 x one layer) ", Gib(gathered));
  if (frag > 0) {
    absl::StrAppend(&ol.formula, " + allocator ", absl::StrFormat("%.0f%%", o.alloc_overhead * 100),
                    " of activations and gradients ", Gib(frag));
  }
}

std::string TrainingSummary(const TrainingOptions& o, const Parallelism& par) {
  const char* method = o.method == TrainMethod::kFull ? "full" : (o.method == TrainMethod::kLora ? "LoRA" : "QLoRA");
  return absl::StrCat("training, ", method, ", ", OptimizerName(o.optimizer), ", ",
                      PrecisionName(o.precision), ", micro-batch ", o.micro_batch, " x seq ", o.seq_len,
                      ", grad-accum ", o.grad_accum, ", ", o.gpus, " GPU",
                      o.gpus > 1 ? "s" : "", " (dp ", par.dp, ", tp ", o.tp, ", pp ", o.pp,
                      o.sp ? ", sp" : "", "), ZeRO ", o.zero_stage);
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
  SetActivationsLine(m, o, &e);
  SetOverheadLine(m, o, par, &e);

  e.summary = TrainingSummary(o, par);
  if (o.method != TrainMethod::kFull) {
    e.notes.push_back(absl::StrCat("trainable params: ", Num(trained.trainable), " (",
                                   absl::StrFormat("%.3f%%", 100.0 * trained.trainable / total), ")"));
  }
  if (e.cpu_bytes > 0) e.notes.push_back(absl::StrCat("offloaded to CPU: ", Gib(e.cpu_bytes), " per GPU"));
  return e;
}

}  // namespace llmtk
