// The training step's phases (peak at the loss vs at the optimizer step),
// the loss implementations, autocast's fp32 outputs and weight copies,
// gradient offload and QLoRA's 4-bit gathered layers under FSDP
// (docs/vram.md).
#include <string>

#include "gtest/gtest.h"
#include "lib/vram/estimate.h"
#include "lib/vram/model_shape.h"

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

TrainingOptions Bare() {
  TrainingOptions o;
  o.cuda_context = 0;
  o.alloc_overhead = 0;
  return o;
}

TEST(TrainingPhases, GradientsAreNotHeldAtTheLossUnlessAccumulated) {
  ModelShape gpt2 = Load("openai-community__gpt2");
  const int64_t p = 124439808;
  TrainingOptions o = Bare();
  o.seq_len = 1024;
  o.micro_batch = 2;
  MemoryEstimate e = *EstimateTraining(gpt2, o);
  EXPECT_EQ(e.peak_phase, "forward, at the loss");
  ASSERT_EQ(e.phases.size(), 2u);
  EXPECT_EQ(e.phases[1].name, "backward end, optimizer step");
  EXPECT_EQ(Line(e, "gradients"), 0);
  EXPECT_EQ(e.TotalPerGpu(), e.phases[0].bytes);
  // The step: weights 2p + states 12p + gradients 2p (mixed precision is
  // DeepSpeed's fused Adam: no temporary).
  EXPECT_EQ(e.phases[1].bytes, (2 + 12 + 2) * p);
  o.grad_accum = 2;  // earlier micro-batches' gradients are held at the loss
  e = *EstimateTraining(gpt2, o);
  EXPECT_EQ(Line(e, "gradients"), 2 * p);
  o.grad_accum = 1;
  o.seq_len = 1;  // no activations to speak of: the step is the peak
  e = *EstimateTraining(gpt2, o);
  EXPECT_EQ(e.peak_phase, "backward end, optimizer step");
  EXPECT_EQ(Line(e, "activations"), 0);
  EXPECT_EQ(Line(e, "buffers/overhead"), 0);
  o.precision = Precision::kAmp;  // torch's foreach AdamW: sqrt(v) of the whole group
  e = *EstimateTraining(gpt2, o);
  EXPECT_EQ(Line(e, "buffers/overhead"), 4 * p);
  o.optimizer_foreach = false;
  e = *EstimateTraining(gpt2, o);
  EXPECT_EQ(Line(e, "buffers/overhead"), 0);
}

TEST(TrainingPhases, LossImplementations) {
  ModelShape gpt2 = Load("openai-community__gpt2");
  const int64_t logits = int64_t{2} * 1024 * 50257;
  TrainingOptions o = Bare();
  o.seq_len = 1024;
  o.micro_batch = 2;
  const int64_t hf = Line(*EstimateTraining(gpt2, o), "activations");
  o.loss = LossImpl::kChunked;  // 2 + 8/8 bytes per logit
  const int64_t chunked = Line(*EstimateTraining(gpt2, o), "activations");
  EXPECT_EQ(hf - chunked, logits * 14 - logits * 3);
  o.loss = LossImpl::kFused;  // (2 + 8)/8 bytes per logit
  const int64_t fused = Line(*EstimateTraining(gpt2, o), "activations");
  EXPECT_EQ(chunked - fused, logits * 3 - (logits * 1250 + 999) / 1000);
  o.loss = LossImpl::kHfFp32;
  o.precision = Precision::kFp32;  // the upcast is a no-op: 12 bytes per logit
  const int64_t stored32 = Line(*EstimateTraining(gpt2, o), "activations") - logits * 12;
  o.loss = LossImpl::kChunked;
  EXPECT_EQ(Line(*EstimateTraining(gpt2, o), "activations"), stored32 + logits * 5);
  o.loss_chunks = 0;
  EXPECT_EQ(EstimateTraining(gpt2, o).status().message(), "--loss-chunks must be positive, got 0");
  EXPECT_EQ(ParseLoss("fused").value(), LossImpl::kFused);
  EXPECT_EQ(ParseLoss("hf").status().message(), "unknown --loss 'hf'; use hf-fp32, chunked, fused, litgpt or litgpt-full");
}

// RMSNorm in fp32 with a trained weight: hf saves the fp32 input (2 bytes over
// the counted 16-bit input) and a 16-bit normalized copy, litgpt an fp32 one;
// LoRA (frozen weight) and LayerNorm models are unchanged.
TEST(TrainingPhases, RmsNormSavesFp32InputAndNormalizedCopy) {
  ModelShape llama = Load("TinyLlama__TinyLlama-1.1B-Chat-v1.0");
  TrainingOptions o = Bare();
  o.precision = Precision::kBf16;
  o.seq_len = 512;
  o.micro_batch = 8;  // the activations at the loss are the peak
  o.loss = LossImpl::kChunked;
  const int64_t tokens = 8 * 512, per_layer = 2 * 2048;  // two norms x hidden
  o.norm = NormImpl::kHf;
  const int64_t hf = Line(*EstimateTraining(llama, o), "activations");
  o.norm = NormImpl::kLitgpt;
  const int64_t lit = Line(*EstimateTraining(llama, o), "activations");
  EXPECT_EQ(lit - hf, tokens * 22 * per_layer * 2);
  o.method = TrainMethod::kLora;
  const int64_t lora_lit = Line(*EstimateTraining(llama, o), "activations");
  o.norm = NormImpl::kHf;
  EXPECT_EQ(Line(*EstimateTraining(llama, o), "activations"), lora_lit);
  ModelShape bert = Load("google-bert__bert-large-uncased");
  o.method = TrainMethod::kFull;
  const int64_t bert_hf = Line(*EstimateTraining(bert, o), "activations");
  o.norm = NormImpl::kLitgpt;
  EXPECT_EQ(Line(*EstimateTraining(bert, o), "activations"), bert_hf);
  EXPECT_EQ(ParseNormImpl("litgpt").value(), NormImpl::kLitgpt);
  EXPECT_EQ(ParseNormImpl("tt").status().message(), "unknown --norm-impl 'tt'; use hf or litgpt");
}

// --qlora-quantized-head: the untied LM head is stored in nf4 (packed nibbles +
// fp32 absmax per 64) and, at the loss, dequantized to fp16 and cast to bf16.
TEST(TrainingPhases, QuantizedHeadIsFourBitAndDequantizedTwice) {
  ModelShape llama = Load("TinyLlama__TinyLlama-1.1B-Chat-v1.0");
  TrainingOptions o = Bare();
  o.method = TrainMethod::kQlora;
  o.qlora_format = "nf4";
  o.precision = Precision::kBf16;
  o.seq_len = 512;
  o.micro_batch = 8;
  o.loss = LossImpl::kChunked;
  const MemoryEstimate plain = *EstimateTraining(llama, o);
  o.qlora_quantized_head = true;
  const MemoryEstimate quant = *EstimateTraining(llama, o);
  const int64_t head = 32000 * 2048;
  EXPECT_EQ(Line(plain, "weights") - Line(quant, "weights"), head * 2 - (head / 2 + 4 * head / 64));
  EXPECT_EQ(Line(quant, "activations") - Line(plain, "activations"), head * 4);
  ModelShape gpt2 = Load("openai-community__gpt2");  // tied: the head is the embedding
  o.lora_targets = {"q", "v"};
  o.qlora_quantized_head = false;
  const MemoryEstimate tied_plain = *EstimateTraining(gpt2, o);
  o.qlora_quantized_head = true;
  EXPECT_EQ(EstimateTraining(gpt2, o)->TotalPerGpu(), tied_plain.TotalPerGpu());
}

TEST(TrainingPhases, AutocastKeepsFp32OutputsAndWeightCopies) {
  ModelShape bert = Load("google-bert__bert-large-uncased");
  TrainingOptions o = Bare();
  o.seq_len = 512;
  o.micro_batch = 4;
  o.flash_attention = false;
  o.precision = Precision::kMixed;
  const int64_t mixed = Line(*EstimateTraining(bert, o), "activations");
  o.precision = Precision::kAmp;
  const int64_t amp = Line(*EstimateTraining(bert, o), "activations");
  int64_t linear = 0;
  ForEachTensor(bert, [&](TensorRole role, int64_t, int64_t r, int64_t c, int64_t n) {
    if (role != TensorRole::kSmall && role != TensorRole::kEmbedding && r > 1) linear += r * c * n;
  });
  // Per token per layer: two fp32 norm inputs (+2 bytes x 1024 each) and the
  // fp32 softmax output (+2 bytes x 16 heads x 512).
  const int64_t per_token_layer = 2 * 1024 * 2 + 2 * 16 * 512;
  EXPECT_EQ(amp - mixed, int64_t{4} * 512 * 24 * per_token_layer + 2 * linear);
}

TEST(TrainingPhases, GradientOffload) {
  ModelShape l2 = Load("meta-llama__Llama-2-7b-hf");
  const int64_t p = 6738415616;
  TrainingOptions o = Bare();
  o.seq_len = 1;
  o.gpus = 8;
  o.zero_stage = 2;
  o.offload_gradients = true;
  o.offload_optimizer = true;
  MemoryEstimate e = *EstimateTraining(l2, o);
  EXPECT_EQ(Line(e, "gradients"), 0);
  EXPECT_EQ(Line(e, "optimizer states"), 0);
  EXPECT_EQ(e.cpu_bytes, 2 * p / 8 + 12 * p / 8);
  o.zero_stage = 0;
  o.gpus = 1;
  o.offload_optimizer = false;
  EXPECT_EQ(EstimateTraining(l2, o).status().message(),
            "--offload-gradients needs sharded training: --zero 1-3 or --fsdp");
}

// DeepSpeed ZeRO-2 allocates reduce_bucket_size elements (two buffers with
// overlap_comm) in the parameters' dtype at the start of each backward and
// releases them at its end (stage_1_and_2.py); FSDP's SHARD_GRAD_OP, sharded
// the same way, has none, and stage 1 turns them off.
TEST(TrainingPhases, ZeroTwoHoldsGradientBucketsThroughBackward) {
  ModelShape gpt2 = Load("openai-community__gpt2");
  TrainingOptions o = Bare();
  o.seq_len = 1024;
  o.micro_batch = 2;
  o.gpus = 2;
  o.zero_stage = 2;
  o.reduce_bucket = 200000000;
  o.overlap_comm = true;
  const MemoryEstimate ds = *EstimateTraining(gpt2, o);
  TrainingOptions f = o;
  f.fsdp = true;
  const MemoryEstimate fsdp = *EstimateTraining(gpt2, f);
  ASSERT_EQ(ds.phases.size(), fsdp.phases.size());
  const int64_t two_buckets = int64_t{2} * 200000000 * 2;
  for (size_t i = 0; i < ds.phases.size(); ++i) {
    EXPECT_EQ(ds.phases[i].bytes - fsdp.phases[i].bytes, two_buckets) << ds.phases[i].name;
  }
  o.overlap_comm = false;
  EXPECT_EQ(EstimateTraining(gpt2, o)->phases[0].bytes - fsdp.phases[0].bytes, two_buckets / 2);
  o.precision = Precision::kFp32;  // buckets in the parameters' dtype
  f.precision = Precision::kFp32;
  EXPECT_EQ(EstimateTraining(gpt2, o)->phases[0].bytes - EstimateTraining(gpt2, f)->phases[0].bytes,
            int64_t{200000000} * 4);
  o.precision = Precision::kMixed;
  o.seq_len = 1;
  o.zero_stage = 1;
  EXPECT_EQ(Line(*EstimateTraining(gpt2, o), "buffers/overhead"), 0);
}

TEST(TrainingPhases, QloraFsdpGathersFourBitLayers) {
  ModelShape l70 = Load("meta-llama__Llama-3.1-70B");
  TrainingOptions o = Bare();
  o.method = TrainMethod::kQlora;
  o.qlora_format = "nf4";
  o.precision = Precision::kBf16;
  o.recompute = Recompute::kFull;
  o.gpus = 8;
  o.zero_stage = 3;
  MemoryEstimate e = *EstimateTraining(l70, o);
  // One layer: NF4 = 4 bits + an fp32 absmax per 64 (9/16 bytes per weight),
  // its two RMSNorm vectors in bf16; the current layer and one prefetched.
  // DeepSpeed ZeRO-3 gathers the (unquantized, bf16) LM head for the loss.
  const int64_t linear = int64_t{8192} * 8192 * 2 + int64_t{1024} * 8192 * 2 + int64_t{28672} * 8192 * 3;
  const int64_t head = int64_t{128256} * 8192 * 2;
  EXPECT_EQ(Line(e, "buffers/overhead"), 2 * (linear * 9 / 16 + 2 * 8192 * 2) + head);
  o.fsdp = true;  // FSDP's root unit: embeddings, final norm and LM head together
  e = *EstimateTraining(l70, o);
  EXPECT_EQ(Line(e, "buffers/overhead"), 2 * (linear * 9 / 16 + 2 * 8192 * 2) + 2 * head + 8192 * 2);
  o.fsdp = false;
  o.method = TrainMethod::kLora;  // bf16 base: 2 bytes per weight, final norm spread over layers
  e = *EstimateTraining(l70, o);
  EXPECT_EQ(Line(e, "buffers/overhead"), 2 * ((80 * (linear + 2 * 8192) + 8192) / 80) * 2 + head);
}

TEST(TrainingPhases, LoraDropoutSavesMaskAndInputPerAdapter) {
  ModelShape l2 = Load("meta-llama__Llama-2-7b-hf");
  TrainingOptions o = Bare();
  o.method = TrainMethod::kLora;
  o.lora_targets = {"q", "v", "down"};
  o.precision = Precision::kBf16;
  o.seq_len = 512;
  const int64_t plain = Line(*EstimateTraining(l2, o), "activations");
  o.lora_dropout = 0.05;
  const int64_t dropped = Line(*EstimateTraining(l2, o), "activations");
  // q and v each drop their 4096-wide input, down its 11008-wide one: bf16
  // copy + 1-byte mask, 32 layers x 512 tokens.
  EXPECT_EQ(dropped - plain, int64_t{512} * 32 * (4096 + 4096 + 11008) * 3);
  o.lora_dropout = 1;
  EXPECT_EQ(EstimateTraining(l2, o).status().message(), "--lora-dropout must be in [0, 1), got 1");
}

}  // namespace
}  // namespace llmtk
