// Inference memory: weights, KV cache, transient activations, overhead, and
// the engine profiles (hf, vllm, llama.cpp).
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/vram/estimate.h"
#include "lib/vram/formats.h"
#include "lib/vram/internal.h"
#include "lib/vram/llmtk_scratch.h"
#include "lib/vram/train_internal.h"
#include "lib/base/status.h"
#include "lib/model/session.h"

namespace llmtk {

int64_t MemoryEstimate::TotalPerGpu() const {
  int64_t t = 0;
  for (const MemoryLine& l : lines) t += l.bytes;
  return t;
}

const MemoryLine* MemoryEstimate::Find(const std::string& name) const {
  for (const MemoryLine& l : lines) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

absl::StatusOr<Engine> ParseEngine(std::string_view s) {
  if (s == "hf" || s == "transformers") return Engine::kHf;
  if (s == "vllm") return Engine::kVllm;
  if (s == "llama.cpp" || s == "llamacpp") return Engine::kLlamaCpp;
  if (s == "llmtk") return Engine::kLlmtk;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown engine '", ToAbsl(s), "'; use hf, vllm, llama.cpp or llmtk"));
}

namespace internal {

std::string Gib(int64_t bytes) {
  return absl::StrFormat("%.2f GiB", static_cast<double>(bytes) / static_cast<double>(kGiB));
}

std::string Num(int64_t v) {
  const std::string digits = absl::StrCat(v < 0 ? -v : v);
  std::string out = v < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::vector<MemoryLine> EmptyLines() {
  return {{kWeights, 0, ""},    {kGradients, 0, ""}, {kOptimizer, 0, ""},
          {kActivations, 0, ""}, {kKvCache, 0, ""},   {kOverhead, 0, ""}};
}

MemoryLine& Line(MemoryEstimate& e, const char* name) {
  for (MemoryLine& l : e.lines) {
    if (l.name == name) return l;
  }
  e.lines.push_back({name, 0, ""});
  return e.lines.back();
}

absl::Status CheckPositive(const char* what, int64_t v) {
  if (v <= 0) return absl::InvalidArgumentError(absl::StrCat(what, " must be positive, got ", v));
  return absl::OkStatus();
}

absl::Status CheckTokens(const char* batch_flag, int64_t batch, const char* tokens_flag,
                         int64_t tokens) {
  RETURN_IF_ERROR(CheckPositive(batch_flag, batch));
  RETURN_IF_ERROR(CheckPositive(tokens_flag, tokens));
  constexpr int64_t kMaxTokens = int64_t{1} << 40;  // a trillion tokens
  if (batch > kMaxTokens / tokens) {
    return absl::ResourceExhaustedError(absl::StrCat(
        batch_flag, " ", batch, " x ", tokens_flag, " ", tokens,
        " exceeds the estimator's bound of 2^40 tokens"));
  }
  return absl::OkStatus();
}

absl::Status CheckDegree(const char* what, int64_t v) {
  RETURN_IF_ERROR(CheckPositive(what, v));
  if (v > (int64_t{1} << 20)) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, " ", v, " exceeds the estimator's bound of 2^20"));
  }
  return absl::OkStatus();
}

absl::Status CheckMagnitude(const ModelShape& m, int64_t tokens, int64_t seq) {
  using LD = long double;
  const LD h = m.hidden, L = m.layers, V = m.vocab, P = m.max_positions;
  const LD q = static_cast<LD>(m.heads) * m.head_dim;
  const LD kv = static_cast<LD>(m.kv_heads) * std::max<int64_t>(m.head_dim, m.v_head_dim);
  const LD width = static_cast<LD>(m.intermediate) +
                   static_cast<LD>(m.experts) * m.moe_intermediate +
                   static_cast<LD>(m.shared_experts + 1) * m.moe_intermediate +
                   m.shared_expert_intermediate;
  const LD latent = static_cast<LD>(m.kv_lora_rank) + m.q_lora_rank + m.qk_rope_head_dim;
  const LD per_layer = 8 * h + 4 * q + 4 * kv + 4 * width + latent + m.experts;
  const LD params = L * per_layer * (h + 8) + (2 * V + P + m.token_types + 2) * h;
  const LD bytes = 4 * params + static_cast<LD>(tokens) * 16 * (L * per_layer + V) +
                   static_cast<LD>(tokens) * seq * m.heads * L * 16;
  if (bytes > static_cast<LD>(int64_t{1} << 62)) {
    return absl::ResourceExhaustedError(
        "the estimate would exceed 2^62 bytes: model shape or token counts are implausibly "
        "large");
  }
  return absl::OkStatus();
}

// Weight bytes of the whole model in `f`, and the part that TP does not split.
WeightTotals WeightBytes(const ModelShape& m, const WeightFormat& f) {
  WeightTotals w;
  ForEachTensor(m, [&](TensorRole role, int64_t layer, int64_t rows, int64_t cols, int64_t n) {
    const int64_t b = f.Bytes(role, layer, m.layers, rows, cols, n, m.tied_embeddings);
    w.total += b;
    if (role == TensorRole::kSmall) w.replicated += b;
  });
  return w;
}

}  // namespace internal

using internal::Gib;
using internal::Num;

int64_t KvCacheBytes(const ModelShape& m, int64_t context, int64_t batch, int tp,
                     int64_t elem_num, int64_t elem_den, bool latent_compressed, int64_t swa_ubatch) {
  if (m.encoder) return 0;
  const int64_t swa_tokens = swa_ubatch > 0 ? SwaCacheCells(context, m.sliding_window, swa_ubatch)
                                            : std::min(context, m.sliding_window);
  int64_t elems = 0;  // per sequence, all layers
  for (int64_t i = 0; i < m.layers; ++i) {
    const int64_t tokens = m.IsSlidingLayer(i) ? swa_tokens : context;
    int64_t per_token;
    if (m.attention == AttentionKind::kLatent && latent_compressed) {
      per_token = m.kv_lora_rank + m.qk_rope_head_dim;  // one latent, shared by all heads
    } else if (m.attention == AttentionKind::kLatent) {
      const int64_t heads = (m.heads + tp - 1) / tp;
      per_token = heads * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim);
    } else {
      // TP splits KV heads; with more ranks than KV heads each keeps one.
      const int64_t heads = std::max<int64_t>(1, (m.kv_heads + tp - 1) / tp);
      per_token = 2 * heads * m.head_dim;
    }
    elems += tokens * per_token;
  }
  return (batch * elems * elem_num + elem_den - 1) / elem_den;
}

namespace {

std::string KvFormula(const ModelShape& m, int64_t context, int64_t batch, int tp,
                      const std::string& dtype, bool compressed, int64_t swa_ubatch) {
  std::string per;
  if (m.attention == AttentionKind::kLatent && compressed) {
    per = absl::StrCat("(kv_lora_rank ", m.kv_lora_rank, " + rope ", m.qk_rope_head_dim,
                       ") latent per layer [MLA]");
  } else if (m.attention == AttentionKind::kLatent) {
    per = absl::StrCat(m.heads, " heads x (", m.qk_nope_head_dim + m.qk_rope_head_dim, " k + ",
                       m.v_head_dim, " v) per layer [MLA decompressed]");
  } else {
    const int64_t heads = std::max<int64_t>(1, (m.kv_heads + tp - 1) / tp);
    per = absl::StrCat("2 (k,v) x ", heads, " kv heads", tp > 1 ? " per GPU" : "", " x head_dim ",
                       m.head_dim);
  }
  int64_t sliding = 0;
  for (int64_t i = 0; i < m.layers; ++i) sliding += m.IsSlidingLayer(i) ? 1 : 0;
  std::string layers = absl::StrCat(m.layers, " layers");
  if (sliding > 0) {
    const std::string cells =
        swa_ubatch > 0
            ? absl::StrCat("min(", context, ", pad256(window ", m.sliding_window, " + ubatch ", swa_ubatch, "))")
            : absl::StrCat("min(", context, ", window ", m.sliding_window, ")");
    layers = absl::StrCat(m.layers - sliding, " layers x ", context, " tokens + ", sliding, " sliding layers x ",
                          cells);
  } else {
    layers = absl::StrCat(m.layers, " layers x ", context, " tokens");
  }
  return absl::StrCat("batch ", batch, " x ", layers, " x ", per, " x ", dtype, " bytes");
}

// Peak transient activations while one layer runs over `tokens` tokens: the
// residual stream, its normed copy and the MLP's widest intermediates, in
// the compute dtype; plus attention scores without flash attention.
int64_t TransientActivations(const ModelShape& m, int64_t tokens, int64_t context, int tp,
                             bool flash, int elem, std::string* formula) {
  int64_t width = m.intermediate;
  if (m.IsMoe()) {
    width = m.experts_per_token * m.moe_intermediate +
            m.shared_experts * m.moe_intermediate + m.shared_expert_intermediate;
    width = std::max(width, m.first_dense_layers > 0 ? m.intermediate : 0);
  }
  width = (width + tp - 1) / tp;
  const int64_t per_token = 2 * m.hidden + 3 * width;
  int64_t bytes = tokens * per_token * elem;
  *formula = absl::StrCat(Num(tokens), " tokens x (2 x hidden ", m.hidden, " + 3 x mlp width ",
                          width, ") x ", elem, " bytes");
  if (!flash) {
    const int64_t heads = (m.heads + tp - 1) / tp;
    // Scores for the whole batch at once: tokens x context per head, fp32.
    bytes += tokens * std::min(context, tokens) * heads * 4;
    absl::StrAppend(formula, " + scores ", Num(tokens), " x ", std::min(context, tokens), " x ",
                    heads, " heads x 4 bytes (no flash attention)");
  }
  return bytes;
}

// Every option's range, and the options' fit with the model and the engine.
absl::Status CheckInferenceOptions(const ModelShape& m, const InferenceOptions& o) {
  RETURN_IF_ERROR(internal::CheckTokens("--batch", o.batch, "--context", o.context));
  RETURN_IF_ERROR(internal::CheckDegree("--tp", o.tp));
  RETURN_IF_ERROR(internal::CheckTokens("--ubatch", o.ubatch, "--max-num-batched-tokens",
                                        o.max_num_batched_tokens));
  RETURN_IF_ERROR(internal::CheckDegree("--max-num-seqs", o.max_num_seqs));
  RETURN_IF_ERROR(internal::CheckMagnitude(
      m, std::max(o.batch * o.context, o.max_num_batched_tokens), o.context));
  if (o.tp > 1 && m.heads % o.tp != 0) {
    return absl::InvalidArgumentError(absl::StrCat("--tp ", o.tp, " does not divide the ",
                                                   m.heads, " attention heads"));
  }
  if ((o.prompt >= 0 || o.prefill_all_logits) && o.engine != Engine::kHf) {
    return absl::InvalidArgumentError("--prompt and --prefill-logits describe --engine hf's prefill");
  }
  if (o.prompt == 0 || o.prompt > o.context) {
    return absl::InvalidArgumentError(absl::StrCat("--prompt must be 1..--context (", o.context,
                                                   "), got ", o.prompt));
  }
  if (o.measure != Measure::kBudget && o.engine != Engine::kHf) {
    return absl::InvalidArgumentError(
        "--measure needs --engine hf (PyTorch's allocator): vllm preallocates its pool and "
        "llama.cpp allocates its own buffers");
  }
  if (o.engine == Engine::kVllm) {
    RETURN_IF_ERROR(internal::CheckPositive("--block-size", o.block_size));
    if (!(o.gpu_memory_utilization > 0 && o.gpu_memory_utilization <= 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--gpu-memory-utilization must be in (0, 1], got ", o.gpu_memory_utilization));
    }
    if (o.gpu_bytes <= 0 && o.kv_cache_memory < 0) {
      return absl::InvalidArgumentError(
          "engine vllm sizes its KV pool from the GPU: give --gpu or --gpu-mem (or "
          "--kv-cache-memory)");
    }
  }
  return absl::OkStatus();
}

// The weights line: the GGUF file's own tensor bytes, or the model in the
// --weights format (bf16 by default). Returns the format's name ("file" for
// the file's own).
absl::StatusOr<std::string> SetWeightsLine(const ModelShape& m, const InferenceOptions& o, MemoryEstimate* e) {
  const bool from_file = o.weights.empty() && m.file_weight_bytes > 0;
  std::string fmt_name = o.weights.empty() ? "bf16" : o.weights;
  int64_t weights;
  if (from_file) {
    weights = (m.file_weight_bytes + o.tp - 1) / o.tp;
    internal::Line(*e, internal::kWeights).formula =
        absl::StrCat("tensor bytes in the GGUF file ", Num(m.file_weight_bytes),
                     o.tp > 1 ? absl::StrCat(" / tp ", o.tp) : "");
    fmt_name = "file";
  } else {
    ASSIGN_OR_RETURN(WeightFormat f, WeightFormat::Parse(fmt_name));
    internal::WeightTotals w = internal::WeightBytes(m, f);
    weights = (w.total - w.replicated + o.tp - 1) / o.tp + w.replicated;
    internal::Line(*e, internal::kWeights).formula =
        absl::StrCat(Num(e->params.total), " params; ", f.Describe(), " = ", Num(w.total),
                     " bytes", o.tp > 1 ? absl::StrCat("; matrices / tp ", o.tp, ", norms replicated") : "");
  }
  internal::Line(*e, internal::kWeights).bytes = weights;
  return fmt_name;
}

void SetKvCacheLine(const ModelShape& shape, const InferenceOptions& o, const ElemBytes& kv, MemoryEstimate* e) {
  // vLLM and llama.cpp cache the MLA latent; llmtk-run, like llama.cpp
  // c392e50, caches each head's full K (nope + rope) and V.
  const bool compressed = o.engine != Engine::kHf && o.engine != Engine::kLlmtk;
  // llama.cpp (since its iswa cache) and llmtk-run keep a window plus one
  // ubatch on Gemma's sliding layers and the whole context for models whose
  // GGUF architecture has no window (Mistral, Qwen2 load as llama/qwen2);
  // llmtk-run also rings phi3's window, which llama.cpp only masks (c392e50)
  // or ignores (newer).
  const bool ggml_engine = o.engine == Engine::kLlamaCpp || o.engine == Engine::kLlmtk;
  const int64_t swa_ubatch = ggml_engine ? o.ubatch : 0;
  ModelShape m = shape;
  if (ggml_engine && m.model_type != "gemma2" && m.model_type != "gemma3_text") m.sliding_window = 0;
  if (o.engine == Engine::kLlmtk && m.masked_window > 0) m.sliding_window = m.masked_window;
  MemoryLine& kvl = internal::Line(*e, internal::kKvCache);
  kvl.bytes = KvCacheBytes(m, o.context, o.batch, o.tp, kv.num, kv.den, compressed, swa_ubatch);
  kvl.formula = KvFormula(m, o.context, o.batch, o.tp, o.kv_dtype, compressed, swa_ubatch) +
                absl::StrCat(" (", kv.num, "/", kv.den, " bytes per element)");
  if (m.encoder) kvl.formula = "encoder model: no KV cache";
}

// Transient activations, as each engine's peak: HF prefills the whole prompt,
// vLLM profiles one max_num_batched_tokens step, llama.cpp reserves a
// compute buffer for one ubatch.
void SetActivationsLine(const ModelShape& m, const InferenceOptions& o, int elem, MemoryEstimate* e) {
  std::string act_formula;
  int64_t act = 0;
  if (o.engine == Engine::kHf) {
    const int64_t prefill = o.prompt > 0 ? o.prompt : o.context;
    act = TransientActivations(m, o.batch * prefill, prefill, o.tp, o.flash_attention, elem,
                               &act_formula);
    if (o.prefill_all_logits) {
      // transformers before 4.45 (e.g. LlamaForCausalLM/Qwen2ForCausalLM.forward:
      // `logits = self.lm_head(hidden_states)`, `logits = logits.float()`):
      // the 16-bit logits of every prompt position and their fp32 copy exist
      // together at the cast.
      act += o.batch * prefill * m.vocab * (elem + 4);
      absl::StrAppend(&act_formula, " + prefill logits ", o.batch, " x ", prefill, " x vocab ",
                      m.vocab, " x (", elem, " + 4) bytes (every prompt position, 16-bit and "
                      "their fp32 upcast: transformers before 4.45)");
    } else {
      act += o.batch * m.vocab * 4;
      absl::StrAppend(&act_formula, " + last-token logits ", o.batch, " x vocab ", m.vocab,
                      " x 4 bytes (prefill of the whole prompt)");
    }
  } else if (o.engine == Engine::kVllm) {
    act = TransientActivations(m, o.max_num_batched_tokens, o.context, o.tp, true, elem,
                               &act_formula);
    const int64_t logits = std::min(o.max_num_seqs, o.max_num_batched_tokens) * m.vocab * 4;
    act += logits;
    absl::StrAppend(&act_formula, " (profile run of max_num_batched_tokens) + logits ",
                    std::min(o.max_num_seqs, o.max_num_batched_tokens), " seqs x vocab ",
                    m.vocab, " x 4 bytes");
  } else if (o.engine == Engine::kLlmtk && m.IsMoe()) {
    act = LlmtkMoeScratchBytes(m, o.context, o.ubatch, &act_formula);
  } else {
    // llama.cpp reserves a compute buffer for the worst n_ubatch graph:
    // f32 intermediates, KQ scores without flash attention, and the output
    // logits of every token in the ubatch.
    const int64_t ub = std::min(o.ubatch, o.batch * o.context);
    act = TransientActivations(m, ub, o.context, o.tp, o.flash_attention, 4, &act_formula);
    act += ub * m.vocab * 4;
    absl::StrAppend(&act_formula, " + logits ", ub, " x vocab ", m.vocab,
                    " x 4 bytes (compute buffer for n_ubatch ", o.ubatch, ")");
  }
  MemoryLine& al = internal::Line(*e, internal::kActivations);
  al.bytes = act;
  al.formula = act_formula;
}

// CUDA context and allocator slack over activations and (except for vLLM's
// preallocated pool) the KV cache; needs those lines set. A --measure
// replaces the budget's flat slack with what it reports (docs/vram.md "What
// the measurement reports"): reserved adds the caching allocator's segment
// slack over the weights and the share of the activations it keeps cached.
void SetOverheadLine(const ModelShape& m, const InferenceOptions& o, MemoryEstimate* e) {
  const int64_t act = internal::Line(*e, internal::kActivations).bytes;
  const int64_t kv_bytes = internal::Line(*e, internal::kKvCache).bytes;
  const bool budget = o.measure == Measure::kBudget;
  const int64_t context = budget || o.measure == Measure::kNvidiaSmi ? o.cuda_context : 0;
  const double frag = !budget ? 0
                      : o.alloc_overhead >= 0 ? o.alloc_overhead
                                              : (o.engine == Engine::kHf ? 0.05 : 0.0);
  const int64_t dynamic = act + (o.engine == Engine::kVllm ? 0 : kv_bytes);
  const int64_t frag_bytes = static_cast<int64_t>(std::llround(frag * static_cast<double>(dynamic)));
  MemoryLine& ol = internal::Line(*e, internal::kOverhead);
  ol.bytes = context + frag_bytes;
  ol.formula = absl::StrCat("CUDA context ", Gib(context));
  if (frag_bytes > 0) {
    absl::StrAppend(&ol.formula, " + allocator ", absl::StrFormat("%.0f%%", frag * 100),
                    " of activations and KV cache ", Gib(frag_bytes));
  }
  if (o.measure == Measure::kReserved || o.measure == Measure::kNvidiaSmi) {
    int64_t slack = 0;
    absl::StatusOr<WeightFormat> f = WeightFormat::Parse(o.weights.empty() ? "bf16" : o.weights);
    if (f.ok() && !(o.weights.empty() && m.file_weight_bytes > 0)) {
      slack = internal::WeightSegmentSlack(m, *f, o.tp);
    }
    const int64_t kept = static_cast<int64_t>(internal::kActivationFragmentation *
                                              static_cast<double>(act));
    const int64_t nccl =
        o.measure == Measure::kNvidiaSmi && o.tp > 1 ? internal::kNcclBuffers : 0;
    e->allocator_reserve = slack + kept + nccl;
    ol.bytes += e->allocator_reserve;
    absl::StrAppend(&ol.formula, " + caching allocator reserve ", Gib(e->allocator_reserve),
                    " = segment slack ", Gib(slack), " + ",
                    absl::StrFormat("%.0f%%", internal::kActivationFragmentation * 100),
                    " of the activations ", Gib(act), " (freed blocks kept cached)");
    if (nccl > 0) absl::StrAppend(&ol.formula, " + NCCL buffers ", Gib(nccl));
  }
}

std::string InferenceSummary(const InferenceOptions& o, const std::string& fmt_name) {
  const char* engine_name = o.engine == Engine::kHf     ? "hf"
                            : o.engine == Engine::kVllm ? "vllm"
                            : o.engine == Engine::kLlmtk ? "llmtk"
                                                         : "llama.cpp";
  return absl::StrCat("inference, ", engine_name, ", weights ", fmt_name, ", batch ",
                      o.batch, " x context ", o.context, ", kv ", o.kv_dtype,
                      o.tp > 1 ? absl::StrCat(", tp ", o.tp) : "");
}

// vLLM hands everything left under gpu_memory_utilization to the KV pool:
// the KV line becomes that pool (whole blocks), and the estimate gets the
// tokens it holds and the concurrency at --context. Needs every other line.
absl::Status SizeVllmKvPool(const ModelShape& m, const InferenceOptions& o, const ElemBytes& kv,
                            MemoryEstimate* e) {
  const int64_t weights = internal::Line(*e, internal::kWeights).bytes;
  const int64_t act = internal::Line(*e, internal::kActivations).bytes;
  const int64_t overhead = internal::Line(*e, internal::kOverhead).bytes;
  MemoryLine& kvl = internal::Line(*e, internal::kKvCache);
  // Sliding windows do not shrink a paged pool's per-token cost.
  ModelShape full = m;
  full.sliding_window = 0;
  const int64_t token_bytes = KvCacheBytes(full, 1, 1, o.tp, kv.num, kv.den, true);
  int64_t pool;
  if (o.kv_cache_memory >= 0) {
    pool = o.kv_cache_memory;
    kvl.formula = absl::StrCat("given KV pool ", Gib(pool));
  } else {
    const int64_t budget =
        static_cast<int64_t>(std::floor(o.gpu_memory_utilization * static_cast<double>(o.gpu_bytes)));
    pool = budget - weights - act - overhead;
    kvl.formula = absl::StrCat("gpu ", Gib(o.gpu_bytes), " x utilization ",
                               absl::StrFormat("%.2f", o.gpu_memory_utilization), " - weights - activations - overhead = ",
                               Gib(pool));
  }
  if (pool <= 0 || token_bytes <= 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "vllm: no memory left for the KV cache (", Gib(pool),
        "); raise --gpu-memory-utilization, use more --tp or a smaller weight format"));
  }
  const int64_t block_bytes = o.block_size * token_bytes;
  const int64_t blocks = pool / block_bytes;
  e->kv_tokens = blocks * o.block_size;
  e->max_concurrency = static_cast<double>(e->kv_tokens) / static_cast<double>(o.context);
  kvl.bytes = blocks * block_bytes;
  absl::StrAppend(&kvl.formula, "; block = ", o.block_size, " tokens x ", Num(token_bytes),
                  " bytes/token; ", Num(blocks), " blocks = ", Num(e->kv_tokens), " tokens");
  e->notes.push_back(absl::StrFormat(
      "vllm KV cache: %s tokens; max concurrency at %d tokens per request: %.2fx",
      Num(e->kv_tokens), o.context, e->max_concurrency));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MemoryEstimate> EstimateInference(const ModelShape& m, const InferenceOptions& o) {
  RETURN_IF_ERROR(CheckInferenceOptions(m, o));
  ASSIGN_OR_RETURN(ElemBytes kv, ParseCacheDtype(o.kv_dtype));

  MemoryEstimate e;
  e.mode = "inference";
  e.params = CountParams(m);
  e.gpus = o.tp;
  e.lines = internal::EmptyLines();

  ASSIGN_OR_RETURN(const std::string fmt_name, SetWeightsLine(m, o, &e));
  SetKvCacheLine(m, o, kv, &e);
  const int elem = fmt_name == "fp32" ? 4 : 2;
  SetActivationsLine(m, o, elem, &e);
  SetOverheadLine(m, o, &e);
  e.summary = InferenceSummary(o, fmt_name);
  if (o.measure != Measure::kBudget) e.measure = MeasureName(o.measure);
  if (o.engine == Engine::kVllm) RETURN_IF_ERROR(SizeVllmKvPool(m, o, kv, &e));
  if (m.IsMoe()) {
    e.notes.push_back(absl::StrCat("MoE: ", Num(e.params.total), " total params, ",
                                   Num(e.params.active), " active per token; all experts are "
                                   "resident"));
  }
  if (o.context > m.max_positions && m.max_positions > 0) {
    e.notes.push_back(absl::StrCat("context ", o.context, " exceeds max_position_embeddings ",
                                   m.max_positions));
  }
  return e;
}

}  // namespace llmtk
