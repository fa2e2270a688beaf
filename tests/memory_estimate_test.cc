// KV-cache formulas (GQA, MLA, sliding window), each training component,
// engine profiles, GPU fit, solvers and option errors.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/vram/estimate.h"
#include "lib/vram/fit.h"
#include "lib/vram/model_shape.h"
#include "tools/vram/vram_tool.h"

namespace llmtk {
namespace {

ModelShape Load(const std::string& name) {
  absl::StatusOr<ModelShape> m =
      LoadModelShape(std::string(LLMTK_TESTDATA) + "/configs/" + name + ".config.json");
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

int64_t Line(const MemoryEstimate& e, const char* name) {
  const MemoryLine* l = e.Find(name);
  EXPECT_NE(l, nullptr) << name;
  return l ? l->bytes : -1;
}

TEST(KvCache, GroupedQueryAttention) {
  ModelShape l3 = Load("meta-llama__Llama-3.1-8B");
  // 2 (k,v) x 8 kv heads x 128 x 2 bytes x 32 layers = 128 KiB per token.
  EXPECT_EQ(KvCacheBytes(l3, 8192, 1, 1, 2, 1, false), int64_t{131072} * 8192);
  EXPECT_EQ(KvCacheBytes(l3, 8192, 4, 1, 2, 1, false), int64_t{131072} * 8192 * 4);
  EXPECT_EQ(KvCacheBytes(l3, 8192, 1, 2, 2, 1, false), int64_t{65536} * 8192);
  // More TP ranks than KV heads: each rank keeps one head.
  EXPECT_EQ(KvCacheBytes(l3, 8192, 1, 16, 2, 1, false), int64_t{16384} * 8192);
  // fp8 and q8_0 caches.
  EXPECT_EQ(KvCacheBytes(l3, 1024, 1, 1, 1, 1, false), int64_t{65536} * 1024);
  EXPECT_EQ(KvCacheBytes(l3, 1024, 1, 1, 34, 32, false), int64_t{65536} * 1024 * 34 / 32);
  ModelShape l2 = Load("meta-llama__Llama-2-7b-hf");  // MHA: 32 kv heads
  EXPECT_EQ(KvCacheBytes(l2, 4096, 1, 1, 2, 1, false), int64_t{2} << 30);
}

TEST(KvCache, MultiHeadLatentAttention) {
  ModelShape v2 = Load("deepseek-ai__DeepSeek-V2-Lite");
  // Compressed: one (kv_lora_rank 512 + rope 64) latent per layer per token.
  EXPECT_EQ(KvCacheBytes(v2, 1000, 1, 1, 2, 1, true), int64_t{27} * 576 * 2 * 1000);
  // HF caches decompressed K (16 x 192) and V (16 x 128) per layer.
  EXPECT_EQ(KvCacheBytes(v2, 1000, 1, 1, 2, 1, false), int64_t{27} * 16 * 320 * 2 * 1000);
  // The latent is not split by tensor parallelism.
  EXPECT_EQ(KvCacheBytes(v2, 1000, 1, 4, 2, 1, true), int64_t{27} * 576 * 2 * 1000);
}

TEST(KvCache, SlidingWindow) {
  ModelShape m = Load("mistralai__Mistral-7B-v0.1");  // window 4096 on every layer
  EXPECT_EQ(KvCacheBytes(m, 8192, 1, 1, 2, 1, false), int64_t{131072} * 4096);
  EXPECT_EQ(KvCacheBytes(m, 2048, 1, 1, 2, 1, false), int64_t{131072} * 2048);
  ModelShape g2 = Load("google__gemma-2-9b.PARTIAL");  // 21 of 42 layers slide, window 4096
  const int64_t per_layer_token = 2 * 8 * 256 * 2;
  EXPECT_EQ(KvCacheBytes(g2, 8192, 1, 1, 2, 1, false),
            per_layer_token * (21 * 4096 + 21 * 8192));
  ModelShape g3 = Load("google__gemma-3-12b-it.PARTIAL");  // 40 sliding (1024), 8 global
  EXPECT_EQ(KvCacheBytes(g3, 32768, 1, 1, 2, 1, false),
            per_layer_token * (40 * 1024 + 8 * 32768));
  ModelShape bert = Load("google-bert__bert-large-uncased");
  EXPECT_EQ(KvCacheBytes(bert, 512, 1, 1, 2, 1, false), 0);
}

TEST(Inference, HfLinesAndTensorParallel) {
  ModelShape l3 = Load("meta-llama__Llama-3.1-8B");
  InferenceOptions o;
  o.context = 8192;
  MemoryEstimate e = *EstimateInference(l3, o);
  EXPECT_EQ(Line(e, "weights"), int64_t{8030261248} * 2);
  EXPECT_EQ(Line(e, "KV cache"), int64_t{1} << 30);
  EXPECT_EQ(Line(e, "gradients"), 0);
  // Activations: 8192 x (2x4096 + 3x14336) x 2 bytes + last-token logits.
  EXPECT_EQ(Line(e, "activations"), int64_t{8192} * (8192 + 43008) * 2 + 128256 * 4);
  EXPECT_EQ(Line(e, "buffers/overhead"),
            512 * kMiB + std::llround(0.05 * (Line(e, "activations") + (int64_t{1} << 30))));
  o.tp = 2;
  MemoryEstimate t = *EstimateInference(l3, o);
  // Matrices split, norms (65 x 4096 x 2 bytes) replicated.
  const int64_t norms = int64_t{65} * 4096 * 2;
  EXPECT_EQ(Line(t, "weights"), (int64_t{8030261248} * 2 - norms) / 2 + norms);
  EXPECT_EQ(Line(t, "KV cache"), int64_t{1} << 29);
  o.tp = 3;
  EXPECT_EQ(EstimateInference(l3, o).status().message(),
            "--tp 3 does not divide the 32 attention heads");
}

TEST(Inference, HfPrefillOfThePromptAndItsLogits) {
  ModelShape q = Load("Qwen__Qwen2.5-0.5B-Instruct");
  InferenceOptions o;
  o.context = 8192;
  // Per prefilled token: (2 x 896 + 3 x 4864) x 2 bytes = 32768.
  EXPECT_EQ(Line(*EstimateInference(q, o), "activations"), int64_t{8192} * 32768 + 151936 * 4);
  o.prompt = 6144;
  EXPECT_EQ(Line(*EstimateInference(q, o), "activations"), int64_t{6144} * 32768 + 151936 * 4);
  // transformers before 4.45: 16-bit logits of every prompt position and
  // their fp32 copy (2 + 4 bytes each); the KV cache still holds the context.
  o.prefill_all_logits = true;
  MemoryEstimate e = *EstimateInference(q, o);
  EXPECT_EQ(Line(e, "activations"), int64_t{6144} * 32768 + int64_t{6144} * 151936 * 6);
  EXPECT_EQ(Line(e, "KV cache"), int64_t{8192} * 24 * 2 * 2 * 64 * 2);
  o.prompt = 8193;
  EXPECT_EQ(EstimateInference(q, o).status().message(), "--prompt must be 1..--context (8192), got 8193");
  o.prompt = 6144;
  o.engine = Engine::kLlamaCpp;
  EXPECT_EQ(EstimateInference(q, o).status().message(),
            "--prompt and --prefill-logits describe --engine hf's prefill");
}

TEST(Inference, VllmTokensThatFit) {
  ModelShape l3 = Load("meta-llama__Llama-3.1-8B");
  InferenceOptions o;
  o.engine = Engine::kVllm;
  o.context = 8192;
  o.kv_cache_memory = 10 * kGiB;  // as logged: "Available KV cache memory: 10.00 GiB"
  MemoryEstimate e = *EstimateInference(l3, o);
  // 10 GiB / (16 tokens x 131072 bytes) = 5120 blocks = 81,920 tokens.
  EXPECT_EQ(e.kv_tokens, 81920);
  EXPECT_DOUBLE_EQ(e.max_concurrency, 10.0);
  // From the GPU: pool = 0.9 x 80 GiB - weights - activations - overhead.
  o.kv_cache_memory = -1;
  o.gpu_bytes = 80 * kGiB;
  e = *EstimateInference(l3, o);
  const int64_t pool = static_cast<int64_t>(0.9 * 80 * kGiB) - Line(e, "weights") -
                       Line(e, "activations") - Line(e, "buffers/overhead");
  EXPECT_EQ(e.kv_tokens, pool / (16 * 131072) * 16);
  EXPECT_EQ(Line(e, "KV cache"), e.kv_tokens * 131072);
  o.gpu_bytes = 0;
  EXPECT_EQ(EstimateInference(l3, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.gpu_bytes = 16 * kGiB;  // 0.9 x 16 GiB < 15 GiB of weights
  EXPECT_EQ(EstimateInference(l3, o).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(Inference, QuantizedAndGgufWeights) {
  ModelShape l3 = Load("meta-llama__Llama-3.1-8B");
  InferenceOptions o;
  o.weights = "nf4";
  MemoryEstimate e = *EstimateInference(l3, o);
  // Linear weights at 4.5 bits, embeddings and lm_head (2 x 525,336,576) and
  // norms (266,240) in bf16.
  const int64_t linear = int64_t{8030261248} - 2 * 525336576 - 266240;
  EXPECT_EQ(Line(e, "weights"), linear / 2 + linear / 64 * 4 + (2 * 525336576 + 266240) * 2);
  ModelShape g = *LoadModelShape(std::string(LLMTK_TESTDATA) + "/quant/stories260K-hf-q8_0.gguf");
  o.weights.clear();
  EXPECT_EQ(Line(*EstimateInference(g, o), "weights"), 329952);
}

TEST(Training, ModelStatesPerOptimizerAndPrecision) {
  ModelShape gpt2 = Load("openai-community__gpt2");
  const int64_t p = 124439808;
  TrainingOptions o;
  o.cuda_context = 0;
  o.alloc_overhead = 0;
  o.seq_len = 1;  // activations negligible: the peak is the optimizer step, all states held
  auto states = [&](Optimizer opt, Precision prec) {
    o.optimizer = opt;
    o.precision = prec;
    MemoryEstimate e = *EstimateTraining(gpt2, o);
    return std::array<int64_t, 3>{Line(e, "weights"), Line(e, "gradients"),
                                  Line(e, "optimizer states")};
  };
  using A = std::array<int64_t, 3>;
  EXPECT_EQ(states(Optimizer::kAdamW, Precision::kMixed), (A{2 * p, 2 * p, 12 * p}));
  EXPECT_EQ(states(Optimizer::kAdamW, Precision::kAmp), (A{4 * p, 4 * p, 8 * p}));
  EXPECT_EQ(states(Optimizer::kAdamW, Precision::kFp32), (A{4 * p, 4 * p, 8 * p}));
  EXPECT_EQ(states(Optimizer::kAdamW, Precision::kBf16), (A{2 * p, 2 * p, 4 * p}));
  EXPECT_EQ(states(Optimizer::kSgd, Precision::kFp32), (A{4 * p, 4 * p, 0}));
  EXPECT_EQ(states(Optimizer::kSgdMomentum, Precision::kFp32), (A{4 * p, 4 * p, 4 * p}));
  EXPECT_EQ(states(Optimizer::kLion, Precision::kMixed), (A{2 * p, 2 * p, 8 * p}));
  // 8-bit AdamW: 2 bytes + an fp32 absmax per 256 for each of the 2 states.
  EXPECT_EQ(states(Optimizer::kAdamW8bit, Precision::kAmp)[2], (p * 2031 + 999) / 1000);
  // Adafactor: a row and a column vector per matrix, full vectors for 1-D.
  int64_t factored = 0;
  ForEachTensor(gpt2, [&](TensorRole, int64_t, int64_t r, int64_t c, int64_t n) {
    factored += n * (r == 1 ? c : r + c);
  });
  EXPECT_EQ(states(Optimizer::kAdafactor, Precision::kFp32)[2], factored * 4);
}

TEST(Training, ZeroShardingOffloadAndFreezing) {
  EXPECT_EQ(ZeroModelStates(7500000000, 12, 64, 0).Total(), 120000000000);
  EXPECT_EQ(ZeroModelStates(7500000000, 12, 64, 1).Total(), 31406250000);
  EXPECT_EQ(ZeroModelStates(7500000000, 12, 64, 2).Total(), 16640625000);
  EXPECT_EQ(ZeroModelStates(7500000000, 12, 64, 3).Total(), 1875000000);
  ModelShape l2 = Load("meta-llama__Llama-2-7b-hf");
  const int64_t p = 6738415616;
  TrainingOptions o;
  o.cuda_context = 0;
  o.seq_len = 1;  // the peak is the optimizer step: all gradients held
  o.gpus = 8;
  o.zero_stage = 2;
  MemoryEstimate e = *EstimateTraining(l2, o);
  EXPECT_EQ(Line(e, "weights"), 2 * p);
  EXPECT_EQ(Line(e, "gradients"), 2 * p / 8);
  EXPECT_EQ(Line(e, "optimizer states"), 12 * p / 8);
  o.offload_optimizer = true;
  e = *EstimateTraining(l2, o);
  EXPECT_EQ(Line(e, "optimizer states"), 0);
  EXPECT_EQ(e.cpu_bytes, 12 * p / 8);
  o.offload_optimizer = false;
  o.gpus = 1;
  o.zero_stage = 0;
  o.frozen_layers = 16;
  o.freeze_embeddings = true;
  e = *EstimateTraining(l2, o);
  const int64_t layer = 202383360, emb = 131072000;
  EXPECT_EQ(Line(e, "gradients"), 2 * (p - 16 * layer - emb));
  o.frozen_layers = 0;
  o.freeze_embeddings = false;
  o.tp = 2;
  o.pp = 2;
  o.gpus = 8;
  o.zero_stage = 1;
  e = *EstimateTraining(l2, o);
  EXPECT_EQ(Line(e, "weights"), 2 * p / 4);
  EXPECT_EQ(Line(e, "optimizer states"), (12 * p / 4 + 1) / 2);
}

TEST(Training, LoraAndQlora) {
  ModelShape l3 = Load("meta-llama__Llama-3.1-8B");
  TrainingOptions o;
  o.method = TrainMethod::kLora;
  o.lora_rank = 16;
  o.precision = Precision::kBf16;
  o.cuda_context = 0;
  o.seq_len = 1;
  MemoryEstimate e = *EstimateTraining(l3, o);
  const int64_t a = 41943040;
  EXPECT_EQ(Line(e, "weights"), int64_t{8030261248} * 2 + a * 2);
  EXPECT_EQ(Line(e, "gradients"), a * 2);
  EXPECT_EQ(Line(e, "optimizer states"), a * 4);
  o.method = TrainMethod::kQlora;
  o.qlora_format = "nf4";
  e = *EstimateTraining(l3, o);
  const int64_t linear = int64_t{8030261248} - 2 * 525336576 - 266240;
  EXPECT_EQ(Line(e, "weights"),
            linear / 2 + linear / 64 * 4 + (2 * 525336576 + 266240) * 2 + a * 2);
}

TEST(Training, ActivationsKorthikantiAndRecompute) {
  ModelShape gpt2 = Load("openai-community__gpt2");
  const int64_t s = 1024, b = 2, h = 768, a = 12, L = 12, V = 50257;
  TrainingOptions o;
  o.seq_len = s;
  o.micro_batch = b;
  o.flash_attention = false;
  o.precision = Precision::kMixed;
  o.cuda_context = 0;
  o.alloc_overhead = 0;
  MemoryEstimate e = *EstimateTraining(gpt2, o);
  // hf-fp32 loss: 16-bit logits + fp32 upcast + fp32 log-softmax + its gradient.
  const int64_t logits = b * s * V * (2 + 4 + 4 + 4);
  EXPECT_EQ(Line(e, "activations"), s * b * h * (34 + 5 * a * s / h) * L + logits);
  o.flash_attention = true;  // scores replaced by the fp32 log-sum-exp
  e = *EstimateTraining(gpt2, o);
  EXPECT_EQ(Line(e, "activations"), s * b * (h * 34 + 4 * a) * L + logits);
  o.recompute = Recompute::kFull;  // inputs + max(one layer, loss)
  e = *EstimateTraining(gpt2, o);
  EXPECT_EQ(Line(e, "activations"), 2 * s * b * h * L + std::max(s * b * (h * 34 + 4 * a), logits));
  // Pipeline parallel: the first stage holds L/p layers for p micro-batches.
  o.recompute = Recompute::kNone;
  o.pp = 4;
  o.gpus = 4;
  o.grad_accum = 8;
  e = *EstimateTraining(gpt2, o);
  EXPECT_EQ(Line(e, "activations"), s * b * (h * 34 + 4 * a) * (L / 4) * 4 + logits);
}

TEST(Training, OptionErrors) {
  ModelShape l3 = Load("meta-llama__Llama-3.1-8B");
  TrainingOptions o;
  o.micro_batch = 0;
  EXPECT_EQ(EstimateTraining(l3, o).status().message(), "--micro-batch must be positive, got 0");
  o.micro_batch = 1;
  o.zero_stage = 4;
  EXPECT_EQ(EstimateTraining(l3, o).status().message(), "--zero must be 0, 1, 2 or 3, got 4");
  o.zero_stage = 0;
  o.gpus = 6;
  o.tp = 4;
  EXPECT_EQ(EstimateTraining(l3, o).status().message(),
            "--gpus 6 is not a multiple of tp 4 x pp 1");
  o.gpus = 1;
  o.tp = 1;
  o.offload_params = true;
  EXPECT_EQ(EstimateTraining(l3, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.offload_params = false;
  o.micro_batch = int64_t{1} << 21;
  o.seq_len = int64_t{1} << 20;
  EXPECT_EQ(EstimateTraining(l3, o).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(EstimateTraining(l3, o).status().message(),
            "--micro-batch 2097152 x --seq-len 1048576 exceeds the estimator's bound of 2^40 tokens");
  InferenceOptions inf;
  inf.context = 99999999999;
  inf.batch = 100000;
  EXPECT_EQ(EstimateInference(l3, inf).status().code(), absl::StatusCode::kResourceExhausted);
  absl::StatusOr<ModelShape> huge = ParseHfConfig(
      R"({"model_type": "llama", "hidden_size": 1073741824, "num_hidden_layers": 1073741824,
          "num_attention_heads": 1, "vocab_size": 1073741824, "intermediate_size": 1073741824})",
      "huge.json");
  ASSERT_TRUE(huge.ok()) << huge.status();
  EXPECT_EQ(EstimateInference(*huge, InferenceOptions()).status().message(),
            "the estimate would exceed 2^62 bytes: model shape or token counts are implausibly "
            "large");
  EXPECT_EQ(EstimateTraining(*huge, TrainingOptions()).status().code(),
            absl::StatusCode::kResourceExhausted);
  inf.batch = -3;
  EXPECT_EQ(EstimateInference(l3, inf).status().message(), "--batch must be positive, got -3");
  EXPECT_EQ(ParseOptimizer("adam9").status().message(),
            "unknown optimizer 'adam9'; use adamw, adamw8bit, sgd, sgd-momentum, adafactor or lion");
  EXPECT_EQ(ParseEngine("tgi").status().message(), "unknown engine 'tgi'; use hf, vllm, llama.cpp or llmtk");
}

TEST(Fit, GpuTableAndSizes) {
  EXPECT_EQ(FindGpu("h100-80gb")->bytes, 80 * kGiB);
  EXPECT_EQ(FindGpu("RTX4090")->name, "RTX4090");
  EXPECT_THAT(std::string(FindGpu("GTX480").status().message()),
              testing::StartsWith("unknown GPU 'GTX480'; known: H200-141GB, "));
  EXPECT_EQ(*ParseByteSize("24GiB"), 24 * kGiB);
  EXPECT_EQ(*ParseByteSize("80GB"), 80000000000);
  EXPECT_EQ(*ParseByteSize("81559MiB"), int64_t{81559} * kMiB);
  EXPECT_EQ(*ParseByteSize("1.5 GiB"), 3 * kGiB / 2);
  EXPECT_EQ(ParseByteSize("lots").status().message(), "bad size 'lots'; use e.g. 24GiB, 80GB, 81559MiB");
  EXPECT_EQ(ParseByteSize("3 parsecs").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseByteSize("24").status().message(), "size '24' has no unit; write e.g. 24GiB or 24GB (24B for bytes)");
  EXPECT_EQ(*ParseByteSize("512B"), 512);
  EXPECT_EQ(*ParseByteSize("0"), 0);
}

TEST(Solve, MaxBatchMaxSeqMinGpus) {
  ModelShape l3 = Load("meta-llama__Llama-3.1-8B");
  Scenario s;
  s.inference.context = 8192;
  s.gpu_bytes = 80 * kGiB;
  Solution sol = *Solve(l3, s, SolveFor::kMaxBatch);
  // The answer fits; one more does not.
  EXPECT_LE(sol.estimate.TotalPerGpu(), s.gpu_bytes);
  Scenario more = s;
  more.inference.batch = sol.value + 1;
  EXPECT_GT(EstimateScenario(l3, more)->TotalPerGpu(), s.gpu_bytes);
  EXPECT_GT(sol.value, 30);

  Scenario t;
  t.training = true;
  t.train.method = TrainMethod::kQlora;
  t.train.recompute = Recompute::kFull;
  t.gpu_bytes = 24 * kGiB;
  sol = *Solve(l3, t, SolveFor::kMaxSeq);
  EXPECT_LE(sol.estimate.TotalPerGpu(), t.gpu_bytes);
  Scenario longer = t;
  longer.train.seq_len = sol.value + 1;
  EXPECT_GT(EstimateScenario(l3, longer)->TotalPerGpu(), t.gpu_bytes);

  // Full fine-tune of Llama-2-70B with ZeRO-3 on 80 GiB cards.
  ModelShape l70 = Load("meta-llama__Llama-2-70b-hf");
  Scenario z;
  z.training = true;
  z.train.zero_stage = 3;
  z.train.recompute = Recompute::kFull;
  z.gpu_bytes = 80 * kGiB;
  sol = *Solve(l70, z, SolveFor::kMinGpus);
  EXPECT_LE(sol.estimate.TotalPerGpu(), z.gpu_bytes);
  Scenario fewer = z;
  fewer.train.gpus = sol.value - 1;
  EXPECT_GT(EstimateScenario(l70, fewer)->TotalPerGpu(), z.gpu_bytes);
  // Without ZeRO, more replicas never help.
  z.train.zero_stage = 0;
  EXPECT_EQ(Solve(l70, z, SolveFor::kMinGpus).status().code(),
            absl::StatusCode::kResourceExhausted);
  // Inference: the smallest tensor-parallel degree.
  Scenario inf;
  inf.gpu_bytes = 24 * kGiB;
  inf.inference.context = 4096;
  sol = *Solve(l70, inf, SolveFor::kMinGpus);
  EXPECT_EQ(sol.value, 8);  // 138 GB of bf16 weights: tp 4 leaves 32 GiB per card
  Scenario tiny = inf;
  tiny.gpu_bytes = 1 * kGiB;
  EXPECT_EQ(Solve(l3, tiny, SolveFor::kMaxBatch).status().code(),
            absl::StatusCode::kResourceExhausted);
  Scenario none;
  EXPECT_EQ(Solve(l3, none, SolveFor::kMaxBatch).status().message(),
            "--solve needs a GPU: give --gpu NAME or --gpu-mem SIZE");
}

TEST(Report, JsonAndTable) {
  VramRequest r;
  r.params = 7500000000;
  r.scenario.training = true;
  r.scenario.train.gpus = 64;
  r.scenario.train.zero_stage = 3;
  r.json = true;
  std::string json = *RunVramRequest(r);
  EXPECT_THAT(json, testing::HasSubstr("\"total_per_gpu_bytes\":1875000000,"));
  r.json = false;
  r.explain = true;
  std::string table = *RunVramRequest(r);
  EXPECT_THAT(table, testing::HasSubstr("    = K=12 bytes (fp32 master, momentum, variance) x "
                                        "7,500,000,000 / N_d 64\n"));
  r.model = "x";
  EXPECT_EQ(RunVramRequest(r).status().message(), "give exactly one of --model PATH or --params N");
}

}  // namespace
}  // namespace llmtk
