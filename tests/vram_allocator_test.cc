// PyTorch CUDA caching allocator rules (lib/vram/allocator.h) against values
// worked by hand from c10/cuda/CUDACachingAllocator.cpp, and how --measure
// turns them into the training estimate (docs/vram.md "What the measurement
// reports").
#include <string>

#include "gtest/gtest.h"
#include "lib/vram/allocator.h"
#include "lib/vram/estimate.h"
#include "lib/vram/formats.h"
#include "lib/vram/internal.h"
#include "lib/vram/model_shape.h"
#include "lib/vram/train_internal.h"

namespace llmtk {
namespace {

using cuda_alloc::BlockSize;
using cuda_alloc::KeepsRemainder;
using cuda_alloc::ReservedForSequence;
using cuda_alloc::SegmentSize;

TEST(CachingAllocator, BlockSizeRoundsTo512) {
  EXPECT_EQ(BlockSize(0), 512);
  EXPECT_EQ(BlockSize(1), 512);
  EXPECT_EQ(BlockSize(512), 512);
  EXPECT_EQ(BlockSize(513), 1024);
  EXPECT_EQ(BlockSize(1000000), 1000448);  // 1954 x 512
}

TEST(CachingAllocator, SegmentSizeByPool) {
  EXPECT_EQ(SegmentSize(512), 2 * kMiB);                  // small pool: 2 MiB segments
  EXPECT_EQ(SegmentSize(kMiB), 2 * kMiB);                 // 1 MiB is still small
  EXPECT_EQ(SegmentSize(kMiB + 512), 20 * kMiB);          // 1-10 MiB: a 20 MiB segment
  EXPECT_EQ(SegmentSize(10 * kMiB - 512), 20 * kMiB);
  EXPECT_EQ(SegmentSize(10 * kMiB), 10 * kMiB);           // from 10 MiB: rounded to 2 MiB
  EXPECT_EQ(SegmentSize(10 * kMiB + 512), 12 * kMiB);
  EXPECT_EQ(SegmentSize(33 * kMiB), 34 * kMiB);
}

TEST(CachingAllocator, SplitKeepsRemainderOnlyPastThePoolMinimum) {
  EXPECT_TRUE(KeepsRemainder(kMiB + 512, kMiB));             // small: >= 512 B left
  EXPECT_FALSE(KeepsRemainder(kMiB, kMiB));
  EXPECT_FALSE(KeepsRemainder(2 * kMiB, 2 * kMiB - 512));   // a large block: 512 B is too little
  EXPECT_FALSE(KeepsRemainder(20 * kMiB, 19 * kMiB));       // large: exactly 1 MiB left
  EXPECT_TRUE(KeepsRemainder(20 * kMiB, 19 * kMiB - 512));  // more than 1 MiB left
}

TEST(CachingAllocator, ReservedForSequence) {
  EXPECT_EQ(ReservedForSequence({}), 0);
  // Three 1024-byte blocks share one 2 MiB small segment.
  EXPECT_EQ(ReservedForSequence({1000, 1000, 1000}), 2 * kMiB);
  // Six 3 MiB blocks fit one 20 MiB segment (the sixth leaves 2 MiB free);
  // the seventh finds only that 2 MiB and takes a new segment.
  EXPECT_EQ(ReservedForSequence({3 * kMiB, 3 * kMiB, 3 * kMiB, 3 * kMiB, 3 * kMiB, 3 * kMiB}),
            20 * kMiB);
  EXPECT_EQ(ReservedForSequence(
                {3 * kMiB, 3 * kMiB, 3 * kMiB, 3 * kMiB, 3 * kMiB, 3 * kMiB, 3 * kMiB}),
            40 * kMiB);
  // 19 MiB rounds to a 20 MiB segment whose last 1 MiB is not split off; the
  // 1 MiB request then needs a small segment of its own.
  EXPECT_EQ(ReservedForSequence({19 * kMiB, kMiB}), 22 * kMiB);
  // A 1.5 MiB block leaves 18.5 MiB free in its 20 MiB segment: too small
  // for 19 MiB, which takes its own 20 MiB.
  EXPECT_EQ(ReservedForSequence({3 * kMiB / 2, 19 * kMiB}), 40 * kMiB);
  EXPECT_EQ(ReservedForSequence({33 * kMiB}), 34 * kMiB);
}

ModelShape Load(const std::string& name) {
  absl::StatusOr<ModelShape> m =
      LoadModelShape(std::string(LLMTK_TESTDATA) + "/configs/" + name + ".config.json");
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

TrainingOptions Qlora2Gpus() {
  TrainingOptions o;
  o.method = TrainMethod::kQlora;
  o.lora_rank = 64;
  o.precision = Precision::kBf16;
  o.recompute = Recompute::kFull;
  o.gpus = 2;
  o.zero_stage = 3;
  o.fsdp = true;
  o.micro_batch = 1;
  o.seq_len = 512;
  return o;
}

// allocated is the budget without its context and slack; reserved adds the
// allocator's reserve; nvidia-smi adds the CUDA context and NCCL's buffers.
TEST(Measure, EachMeasureAddsWhatItReports) {
  const ModelShape m = Load("meta-llama__Llama-2-7b-hf");
  TrainingOptions o = Qlora2Gpus();
  o.cuda_context = 0;
  o.alloc_overhead = 0;
  const MemoryEstimate budget = *EstimateTraining(m, o);
  o.cuda_context = 512 * kMiB;
  o.alloc_overhead = 0.05;
  o.measure = Measure::kAllocated;
  const MemoryEstimate allocated = *EstimateTraining(m, o);
  EXPECT_EQ(allocated.TotalPerGpu(), budget.TotalPerGpu());
  EXPECT_EQ(allocated.measure, "allocated");
  EXPECT_EQ(allocated.allocator_reserve, 0);
  EXPECT_TRUE(budget.measure.empty());

  o.measure = Measure::kReserved;
  const MemoryEstimate reserved = *EstimateTraining(m, o);
  EXPECT_GT(reserved.allocator_reserve, 0);
  EXPECT_EQ(reserved.TotalPerGpu(), allocated.TotalPerGpu() + reserved.allocator_reserve);

  o.measure = Measure::kNvidiaSmi;
  const MemoryEstimate smi = *EstimateTraining(m, o);
  EXPECT_EQ(smi.allocator_reserve, reserved.allocator_reserve + internal::kNcclBuffers);
  EXPECT_EQ(smi.TotalPerGpu(), reserved.TotalPerGpu() + internal::kNcclBuffers + 512 * kMiB);
}

// The reserve's parts, worked by hand for stories260K (260,032 params), a
// full fp32 fine-tune with AdamW on one GPU: every tensor is at most 1 MiB,
// so weights, gradients, exp_avg and exp_avg_sq are each packed into one
// 2 MiB small-pool segment (their blocks, 1,040,128 bytes + 11 norm vectors
// of 256 bytes rounded up to 512, fit): 4 x (2,097,152 - 1,040,128) bytes of
// slack. The activation share is kActivationFragmentation of the largest
// activation set; one GPU has no all-gather stream and no NCCL.
TEST(Measure, ReservePartsByHand) {
  const ModelShape m = Load("stories260K");
  TrainingOptions o;
  o.precision = Precision::kFp32;
  o.measure = Measure::kReserved;
  internal::ReserveInputs in;
  in.gradients_held = true;
  in.max_activations = 1000 * kMiB;
  const internal::ReservePlan r = internal::PlanReserve(m, o, in);
  EXPECT_EQ(r.rounding, 4 * (2097152 - 1040128));
  EXPECT_EQ(r.fragmentation, static_cast<int64_t>(internal::kActivationFragmentation * 1000 * kMiB));
  EXPECT_EQ(r.unshard_pool, 0);
  EXPECT_EQ(r.nccl, 0);
  // SGD keeps no state: weights and gradients only.
  o.optimizer = Optimizer::kSgd;
  EXPECT_EQ(internal::PlanReserve(m, o, in).rounding, 2 * (2097152 - 1040128));
  // Everything offloaded: nothing of the model stays on the GPU.
  o.optimizer = Optimizer::kAdamW;
  o.gpus = 2;
  o.zero_stage = 3;
  o.offload_params = o.offload_gradients = o.offload_optimizer = true;
  in.dp = 2;
  EXPECT_EQ(internal::PlanReserve(m, o, in).rounding, 0);
}

// Inference (--engine hf): allocated is the budget without context and
// slack; reserved adds the weights' segment slack and the activation share;
// other engines have no PyTorch allocator to measure.
TEST(Measure, Inference) {
  const ModelShape m = Load("meta-llama__Llama-2-7b-hf");
  InferenceOptions o;
  o.weights = "nf4";
  o.context = 256;
  o.cuda_context = 0;
  o.alloc_overhead = 0;
  const MemoryEstimate budget = *EstimateInference(m, o);
  o.cuda_context = 512 * kMiB;
  o.alloc_overhead = 0.05;
  o.measure = Measure::kAllocated;
  const MemoryEstimate allocated = *EstimateInference(m, o);
  EXPECT_EQ(allocated.TotalPerGpu(), budget.TotalPerGpu());
  o.measure = Measure::kReserved;
  const MemoryEstimate reserved = *EstimateInference(m, o);
  const int64_t act = reserved.Find("activations")->bytes;
  const absl::StatusOr<WeightFormat> nf4 = WeightFormat::Parse("nf4");
  EXPECT_EQ(reserved.allocator_reserve,
            internal::WeightSegmentSlack(m, *nf4, 1) +
                static_cast<int64_t>(internal::kActivationFragmentation * static_cast<double>(act)));
  EXPECT_EQ(reserved.TotalPerGpu(), allocated.TotalPerGpu() + reserved.allocator_reserve);
  o.engine = Engine::kLlamaCpp;
  EXPECT_EQ(EstimateInference(m, o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Measure, ParseMeasure) {
  EXPECT_EQ(*ParseMeasure("allocated"), Measure::kAllocated);
  EXPECT_EQ(*ParseMeasure("reserved"), Measure::kReserved);
  EXPECT_EQ(*ParseMeasure("nvidia-smi"), Measure::kNvidiaSmi);
  EXPECT_EQ(ParseMeasure("smi").status().message(),
            "unknown --measure 'smi'; use allocated, reserved or nvidia-smi");
}

}  // namespace
}  // namespace llmtk
