// Training activations: what the forward saves for backward (Korthikanti et
// al. 2022, generalized), autocast's fp32 outputs and 16-bit weight copies,
// and the logits' working set at the loss for each loss implementation
// (docs/vram.md).
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/vram/estimate.h"
#include "lib/vram/train_internal.h"
#include "lib/base/status.h"

namespace llmtk {

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

absl::StatusOr<LossImpl> ParseLoss(std::string_view s) {
  if (s == "hf-fp32") return LossImpl::kHfFp32;
  if (s == "chunked") return LossImpl::kChunked;
  if (s == "fused") return LossImpl::kFused;
  if (s == "litgpt") return LossImpl::kLitgpt;
  if (s == "litgpt-full") return LossImpl::kLitgptFull;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown --loss '", ToAbsl(s), "'; use hf-fp32, chunked, fused, litgpt or litgpt-full"));
}

absl::StatusOr<NormImpl> ParseNormImpl(std::string_view s) {
  if (s == "hf") return NormImpl::kHf;
  if (s == "litgpt") return NormImpl::kLitgpt;
  return absl::InvalidArgumentError(absl::StrCat("unknown --norm-impl '", ToAbsl(s), "'; use hf or litgpt"));
}

namespace internal {

int ActivationElemBytes(const TrainingOptions& o) { return o.precision == Precision::kFp32 ? 4 : 2; }

namespace {

// LoRA dropout (PEFT's and litgpt's lora_dropout): nn.Dropout saves its
// 1-byte mask and lora_A saves the dropped input, per adapted matrix, bytes
// per token for one layer (a routed token meets experts_per_token experts).
int64_t LoraDropoutBytesPerToken(const ModelShape& m, const TrainingOptions& o, int64_t layer) {
  if (o.method == TrainMethod::kFull || o.lora_dropout <= 0) return 0;
  const int64_t per_elem = ActivationElemBytes(o) + 1;
  const int64_t h = m.hidden;
  int64_t width_down = m.intermediate, routed = 1;
  if (m.IsMoeLayer(layer)) {
    width_down = m.experts_per_token * m.moe_intermediate + m.moe_intermediate * m.shared_experts +
                 m.shared_expert_intermediate;
    routed = m.experts_per_token + (m.shared_experts > 0 ? 1 : 0) +
             (m.shared_expert_intermediate > 0 ? 1 : 0);
  }
  int64_t elems = 0;
  for (const std::string& t : o.lora_targets) {
    if (t == "q" || t == "k" || t == "v") elems += h;
    if (t == "o") elems += m.QueryDim();
    if (t == "gate" || t == "up") elems += routed * h;
    if (t == "down") elems += width_down;
  }
  return elems * per_elem;
}

// QLoRA through bitsandbytes: Linear4bit calls matmul_4bit, whose autograd
// function MatMul4Bit keeps its input for backward (`ctx.tensors = (A, B)`
// whenever an input needs a gradient, bitsandbytes/autograd/_functions.py),
// although backward never uses it for a frozen weight. A frozen nn.Linear
// keeps no input (autograd saves mm's `self` only when the weight needs a
// gradient), so against LoRA each distinct 4-bit linear input stays alive:
// the QKV input, the attention output before the output projection, the MLP
// input (gate and up share it) and the down projection's input, in the
// activation dtype, per token per layer (docs/vram.md "QLoRA through
// bitsandbytes").
int64_t Qlora4bitInputBytesPerToken(const ModelShape& m, const TrainingOptions& o,
                                    int64_t layer) {
  if (o.method != TrainMethod::kQlora) return 0;
  int64_t width_down = m.intermediate;
  if (m.IsMoeLayer(layer)) {
    width_down = m.experts_per_token * m.moe_intermediate + m.moe_intermediate * m.shared_experts +
                 m.shared_expert_intermediate;
  }
  return ActivationElemBytes(o) * (2 * m.hidden + m.QueryDim() + width_down);
}

// RMSNorm computed in fp32 by autograd ops, not a fused kernel (docs/vram.md
// "RMSNorm in fp32"): transformers' LlamaRMSNorm and torchtune's RMSNorm
// upcast the input, so `pow`/`mul` save it in fp32 (where Korthikanti counts a
// 16-bit norm input), and multiply the weight by the normalized input cast back
// to 16 bits, which a trained weight's `mul` saves; litgpt's RMSNorm multiplies
// in fp32 and casts after, so it saves the fp32 normalized input. Full
// fine-tuning only: with the weight frozen the product saves nothing, and the
// LoRA accounting's linear-input slots already stand for the fp32 input.
int64_t RmsNormExtraBytesPerToken(const ModelShape& m, const TrainingOptions& o) {
  if (o.method != TrainMethod::kFull || m.layernorm_bias) return 0;
  const int elem = ActivationElemBytes(o);
  // Counted so far: the norm's input at elem bytes (fp32 under autocast).
  const int64_t input_extra = (o.precision == Precision::kAmp || elem == 4) ? 0 : 4 - elem;
  const int64_t normalized =
      (o.norm == NormImpl::kLitgpt || o.precision == Precision::kAmp) ? 4 : elem;
  return m.norms_per_layer * m.hidden * (input_extra + normalized);
}

// Attention written out as matmuls (no fused kernel) repeats the shared
// key/value heads of grouped-query attention for every query head before
// `q @ k^T` and `p @ v`, which save the repeated copies: transformers'
// eager_attention_forward (`repeat_kv`) and litgpt's CausalSelfAttention
// (`k.repeat_interleave(q_per_kv, dim=1)`, litgpt/model.py) alike. Bytes per
// token beyond the kv_heads-wide k and v counted so far.
int64_t EagerKvRepeatBytesPerToken(const ModelShape& m, int elem) {
  if (m.attention != AttentionKind::kMultiHead || m.kv_heads >= m.heads) return 0;
  return int64_t{elem} * 2 * (m.heads - m.kv_heads) * m.head_dim;
}

// Gemma 2's soft-capped attention without a fused kernel, per score element
// (docs/vram.md "Soft-capping"): litgpt's
// CausalSelfAttention.scaled_dot_product_attention (litgpt/model.py: `scores =
// do_softcapping(q @ k.mT * scale, cap)`, `F.softmax(scores, dim=-1,
// dtype=torch.float).to(dtype=q.dtype)`, `y = scores @ v`) and transformers'
// Gemma 2 eager attention (`tanh(attn / cap) * cap`, `softmax(..., dtype=
// torch.float32).to(query.dtype)`, `matmul(attn, v)`) save the tanh output
// (TanhBackward keeps its result), the fp32 softmax output and its 16-bit
// cast (saved by `p @ v`; no cast in fp32 training). The scalar divide and
// multiply save nothing. Korthikanti counts one `elem` softmax output.
int64_t SoftcappedScoreBytes(int elem) { return elem + 4 + (elem == 4 ? 0 : elem); }

// One layer's saved bytes per token. Under autocast the residual stream
// stays fp32 (fp32 weights; adding a 16-bit branch to it promotes), so every
// norm saves an fp32 input, and softmax is on autocast's fp32 list, so the
// score matrix it saves is fp32 (docs/vram.md "Autocast").
ActivationTerms LayerTerms(const ModelShape& m, const TrainingOptions& o, int64_t layer) {
  const int elem = ActivationElemBytes(o);
  ActivationTerms t = LayerActivationBytesPerToken(m, layer, o.seq_len, elem);
  if (o.precision == Precision::kAmp) {
    t.replicated += 2 * m.hidden * m.norms_per_layer;
    t.scores += 2 * m.heads * o.seq_len;
  }
  if (!o.flash_attention) {
    // Selective recompute rebuilds the whole attention core, repeats included.
    if (o.recompute != Recompute::kSelective) t.split += EagerKvRepeatBytesPerToken(m, elem);
    if (m.attn_logit_softcapping > 0 && m.attention == AttentionKind::kMultiHead) {
      t.scores = SoftcappedScoreBytes(elem) * m.heads * o.seq_len;
    }
  }
  t.replicated += RmsNormExtraBytesPerToken(m, o);
  return t;
}

// Activations of this pipeline stage's layers, per token: the largest layer
// and their sum, after tensor/sequence parallelism and dropped scores.
void StageActivationsPerToken(const ModelShape& m, const TrainingOptions& o, int64_t layers_local,
                              int64_t* per_layer_max, int64_t* stored) {
  const bool drop_scores = o.flash_attention || o.recompute == Recompute::kSelective;
  for (int64_t i = 0; i < layers_local; ++i) {
    ActivationTerms t = LayerTerms(m, o, i);
    int64_t rep = o.sp ? (t.replicated + o.tp - 1) / o.tp : t.replicated;
    int64_t per = rep + (t.split + (drop_scores ? 0 : t.scores) + o.tp - 1) / o.tp;
    per += (LoraDropoutBytesPerToken(m, o, i) + o.tp - 1) / o.tp;
    per += (Qlora4bitInputBytesPerToken(m, o, i) + o.tp - 1) / o.tp;
    if (o.flash_attention) per += 4 * ((m.heads + o.tp - 1) / o.tp);  // log-sum-exp, fp32
    *per_layer_max = std::max(*per_layer_max, per);
    *stored += per;
  }
}

// The logits at the loss, bytes per logit element, x1000 to keep the
// per-chunk shares exact enough; see docs/vram.md "The logits at the loss".
int64_t LossMilliBytesPerLogit(const TrainingOptions& o, int elem, std::string* what) {
  const int64_t n = std::max<int64_t>(1, o.loss_chunks);
  switch (o.loss) {
    case LossImpl::kHfFp32:
      // The 16-bit logits the model returns, their fp32 upcast (a no-op in
      // fp32 training), the fp32 log-softmax cross_entropy saves, and in
      // backward the fp32 gradient of its input.
      *what = absl::StrCat(elem == 4 ? "" : absl::StrCat(elem, " + "),
                           "4 + 4 + 4 bytes: hf-fp32 loss (", elem == 4 ? "" : "16-bit logits, ",
                           "fp32 upcast, fp32 log-softmax, its fp32 gradient)");
      return (elem == 4 ? 12 : elem + 12) * 1000;
    case LossImpl::kChunked:
      // All 16-bit logits, one chunk upcast to fp32 with its gradient.
      *what = absl::StrCat(elem, " + 8/", n, " bytes: chunked loss (16-bit logits, one chunk's fp32 upcast and gradient)");
      return elem * 1000 + 8000 / n;
    case LossImpl::kFused:
      // Only one chunk of logits ever exists, with its fp32 upcast and gradient.
      *what = absl::StrCat("(", elem, " + 8)/", n, " bytes: fused linear + cross-entropy (one chunk of logits)");
      return (elem + 8) * 1000 / n;
    case LossImpl::kLitgpt:
      // litgpt/utils.py chunked_cross_entropy on the list of 16-bit logit
      // chunks the model returns: cross_entropy without an upcast, so each
      // chunk's log_softmax saves a 16-bit output; the list itself stays
      // referenced through backward. Backward forms one chunk's gradients.
      *what = absl::StrCat(elem, " + ", elem, " + ", 2 * elem, "/", n,
                           " bytes: litgpt loss (16-bit logits, 16-bit log-softmax per chunk, one chunk's gradients)");
      return 2 * elem * 1000 + 2 * elem * 1000 / n;
    case LossImpl::kLitgptFull:
      // finetune/full.py calls the head unchunked and passes logits[..., :-1, :]:
      // reshape copies that non-contiguous slice before the same chunked loss.
      *what = absl::StrCat(elem, " + ", elem, " + ", elem, " + ", 2 * elem, "/", n,
                           " bytes: litgpt full.py loss (16-bit logits, their shifted copy, 16-bit log-softmax per chunk, one chunk's gradients)");
      return 3 * elem * 1000 + 2 * elem * 1000 / n;
  }
  return 0;
}

// A tagger's per-token heads (fast-gector's src/model.py, GECToRModel.forward:
// `correct_logits = self.correct_proj_layer(...)`, `F.softmax(correct_logits)`
// kept in the output dict, and `CrossEntropyLoss` on the logits), per logit:
// the linear's output (returned in the output dict), softmax's saved output,
// cross-entropy's log-softmax saved output, and at backward's start the
// gradient of its input. Under autocast the linear's output is 16-bit and the
// softmax-family ops run in fp32.
int64_t TokenHeadBytesPerLogit(const TrainingOptions& o) {
  const int elem = ActivationElemBytes(o);
  const int fp = o.precision == Precision::kAmp ? 4 : elem;
  return elem + 3 * fp;
}

// Autocast's 16-bit copies of the fp32 matrices the linears use: every
// trainable one is cached until the autocast region ends; a frozen one is held
// by the autograd graph until its backward, unless recomputation drops it
// (inside the checkpointed blocks; the LM head is outside them). bitsandbytes'
// 4-bit linears dequantize inside their own op: no autocast copy.
int64_t CastBytes(const ModelShape& m, const TrainingOptions& o, int64_t* params) {
  *params = 0;
  if (o.precision != Precision::kAmp) return 0;
  const bool frozen = o.method != TrainMethod::kFull;
  ForEachTensor(m, [&](TensorRole role, int64_t layer, int64_t r, int64_t c, int64_t n) {
    if (role == TensorRole::kSmall || r == 1) return;
    if (role == TensorRole::kEmbedding && (!m.tied_embeddings || m.encoder)) return;
    if (layer >= 0 && frozen &&
        (o.method == TrainMethod::kQlora || o.recompute == Recompute::kFull)) {
      return;
    }
    *params += r * c * n;
  });
  return 2 * *params / (int64_t{o.tp} * o.pp);
}

}  // namespace

// Activations (Korthikanti et al. 2022, section 4, generalized).
ActivationPlan PlanActivations(const ModelShape& m, const TrainingOptions& o) {
  ActivationPlan p;
  const int elem = ActivationElemBytes(o);
  const int64_t s = o.seq_len, b = o.micro_batch;
  const int64_t layers_local = (m.layers + o.pp - 1) / o.pp;
  // 1F1B: the first stage holds `pp` micro-batches in flight.
  const int64_t in_flight = std::min<int64_t>(o.pp, o.grad_accum);
  const bool drop_scores = o.flash_attention || o.recompute == Recompute::kSelective;
  int64_t per_layer_max = 0, stored = 0;
  StageActivationsPerToken(m, o, layers_local, &per_layer_max, &stored);
  const ActivationTerms t0 = LayerTerms(m, o, 0);
  const std::string flight =
      in_flight > 1 ? absl::StrCat(" x ", in_flight, " micro-batches in flight (1F1B)") : "";
  if (o.recompute == Recompute::kFull) {
    // Only each layer's input survives; one layer is rebuilt at a time in
    // backward, after the loss's working set is gone.
    // Under autocast the residual stream each block receives is fp32.
    const int in_elem = o.precision == Precision::kAmp ? 4 : elem;
    const int64_t input = in_elem * m.hidden / (o.sp ? o.tp : 1);
    p.stored = b * s * layers_local * input * in_flight;
    p.rebuilt = b * s * per_layer_max;
    p.stored_formula = absl::StrCat("full recompute: ", b, " x ", s, " tokens x ", layers_local,
                                    " layers x ", input, " bytes input", flight,
                                    "; in backward one layer is rebuilt: ", b, " x ", s, " x ",
                                    per_layer_max, " bytes");
  } else {
    p.stored = b * s * stored * in_flight;
    p.stored_formula = absl::StrCat(
        b, " x ", s, " tokens x ", layers_local, " layers x (", t0.replicated,
        o.sp ? absl::StrCat("/", o.tp) : std::string(), " + ", t0.split,
        o.tp > 1 ? absl::StrCat("/", o.tp) : std::string(),
        drop_scores ? std::string(" [scores dropped: ") +
                          (o.flash_attention ? "flash attention]" : "selective recompute]")
                    : absl::StrCat(" + scores ", t0.scores),
        ") bytes per token per layer (first layer shown)", flight);
  }
  if (o.precision == Precision::kAmp) {
    absl::StrAppend(&p.stored_formula, "; autocast: fp32 norm inputs and softmax output");
  }
  if (!o.flash_attention && m.attn_logit_softcapping > 0 && m.attention == AttentionKind::kMultiHead) {
    absl::StrAppend(&p.stored_formula, "; soft-capped scores: ", SoftcappedScoreBytes(elem),
                    " bytes each (tanh output, fp32 softmax", elem == 4 ? "" : ", its 16-bit cast", ")");
  }
  if (const int64_t r = o.flash_attention || o.recompute == Recompute::kSelective
                            ? 0
                            : EagerKvRepeatBytesPerToken(m, elem);
      r > 0) {
    absl::StrAppend(&p.stored_formula, "; includes ", r,
                    " bytes per token per layer of key/value heads repeated for every query head");
  }
  if (const int64_t rms = RmsNormExtraBytesPerToken(m, o); rms > 0) {
    absl::StrAppend(&p.stored_formula, "; includes ", rms, " bytes per token per layer of RMSNorm's fp32 input and ",
                    o.norm == NormImpl::kLitgpt ? "litgpt's " : "", "normalized copy");
  }
  if (const int64_t d = LoraDropoutBytesPerToken(m, o, 0); d > 0) {
    absl::StrAppend(&p.stored_formula, "; includes LoRA dropout ", d,
                    " bytes per token per layer (mask + dropped input per adapted matrix)");
  }
  if (const int64_t q = Qlora4bitInputBytesPerToken(m, o, 0); q > 0) {
    absl::StrAppend(&p.stored_formula, "; includes ", q,
                    " bytes per token per layer of 4-bit linear inputs bitsandbytes keeps");
  }
  // Encoders here carry a small task head instead of an LM head, or a
  // tagger's per-token heads (--token-heads): see TokenHeadBytesPerLogit.
  if (m.encoder && !o.token_heads.empty()) {
    int64_t classes = 0;
    for (const int64_t n : o.token_heads) classes += n;
    const int64_t per = TokenHeadBytesPerLogit(o);
    p.loss = b * s * classes * per;
    p.loss_formula = absl::StrCat("token heads ", b, " x ", s, " x ", classes, " classes x ", per,
                                  " bytes (logits, softmax output, log-softmax output, its gradient)");
  }
  if (!m.encoder) {
    const int64_t vocab_local = (m.vocab + o.tp - 1) / o.tp;
    const int64_t logit_elems = b * s * vocab_local;
    std::string what;
    int64_t milli = LossMilliBytesPerLogit(o, elem, &what);
    if (m.final_logit_softcapping > 0) {
      // Gemma 2's final soft-capping (transformers' Gemma2ForCausalLM and
      // litgpt's GPT.forward: tanh(logits / cap) * cap, per head chunk in
      // litgpt) keeps the tanh output for backward beside the capped logits.
      const int64_t cap = o.loss == LossImpl::kFused
                              ? int64_t{elem} * 1000 / std::max<int64_t>(1, o.loss_chunks)
                              : int64_t{elem} * 1000;
      milli += cap;
      absl::StrAppend(&what, " + ", elem, o.loss == LossImpl::kFused ? "/chunks" : "",
                      " bytes: the final soft-capping's saved tanh output");
    }
    p.loss = (logit_elems * milli + 999) / 1000;
    p.loss_formula = absl::StrCat("logits ", b, " x ", s, " x vocab ", vocab_local, " x ", what);
    std::string head;
    if (const int64_t d = QuantizedHeadDequantBytes(m, o, &head); d > 0) {
      p.loss += d;
      absl::StrAppend(&p.loss_formula, " + ", head);
    }
  }
  int64_t cast_params = 0;
  p.casts = CastBytes(m, o, &cast_params);
  if (p.casts > 0) {
    p.casts_formula = absl::StrCat("autocast 16-bit weight copies ", cast_params, " x 2 bytes");
  }
  return p;
}

}  // namespace internal
}  // namespace llmtk
