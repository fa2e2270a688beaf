// kernels/internal: block layouts and per-ISA function tables shared by the
// kernels_*.cc files. Not part of the library's API.
//
// The block layouts are ggml's, from lib/ggml/types.h.
// Thread-safety: constant data and pure functions only.
#ifndef LLMTK_LIB_KERNELS_INTERNAL_H_
#define LLMTK_LIB_KERNELS_INTERNAL_H_

#include <cmath>
#include <cstdint>
#include <utility>

#include "lib/ggml/types.h"

namespace llmtk::kernels_internal {

constexpr int QK = 32;    // legacy block size
constexpr int QKK = 256;  // K-quant super-block size

using BlockQ4_0 = ::llmtk::BlockQ4_0;
using BlockQ4_1 = ::llmtk::BlockQ4_1;
using BlockQ5_0 = ::llmtk::BlockQ5_0;
using BlockQ5_1 = ::llmtk::BlockQ5_1;
using BlockQ8_0 = ::llmtk::BlockQ8_0;
using BlockQ8_1 = ::llmtk::BlockQ8_1;
using BlockIQ4NL = ::llmtk::BlockIQ4_NL;
using BlockQ2K = ::llmtk::BlockQ2_K;
using BlockQ3K = ::llmtk::BlockQ3_K;
using BlockQ4K = ::llmtk::BlockQ4_K;
using BlockQ5K = ::llmtk::BlockQ5_K;
using BlockQ6K = ::llmtk::BlockQ6_K;
using BlockQ8K = ::llmtk::BlockQ8_K;

inline constexpr int8_t kIQ4NLValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// Unpacks Q4_K/Q5_K 6-bit scale `j` and min `j` from the 12 packed bytes.
inline void ScaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Unpacks the 16 signed 6-bit Q3_K scales (already minus 32).
inline void UnpackQ3KScales(const uint8_t* packed, int8_t out[16]) {
  uint32_t aux[4];
  __builtin_memcpy(aux, packed, 12);
  const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
  const uint32_t tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
  aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
  aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
  aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
  const int8_t* s = reinterpret_cast<const int8_t*>(aux);
  for (int i = 0; i < 16; ++i) out[i] = static_cast<int8_t>(s[i] - 32);
}

using VecDotFn = float (*)(int64_t n, const void* w, const void* a);
// Eight weight rows (`stride` bytes apart) against one activation row; each
// out[r] equals VecDot of row r bit for bit. A non-null `prefetch` names the
// next eight rows (8 * stride bytes) to pull into cache meanwhile: eight
// interleaved row streams defeat the hardware prefetcher (a matrix-vector
// product then reads memory at a third of its bandwidth).
using VecDot8Fn = void (*)(int64_t n, const void* w, size_t stride, const void* a, float out[8],
                           const void* prefetch);

// Eight weight rows against four activation rows (`astride` bytes apart):
// out[4 * 8], token-major; each value equals VecDot bit for bit. Prompt
// processing uses it to decode each weight block once for four tokens.
using VecDot8x4Fn = void (*)(int64_t n, const void* w, size_t stride, const void* a, size_t astride,
                             float out[32]);

// Sixteen rows against one activation row, and against four (out[4 * 16],
// token-major); same contract as the eight-row kernels.
//
// Per Q8_0 activation block, what the sixteen-row Q4_0 kernels need besides
// its values, computed once per product by MatMul: -8 times the sum of its
// values (the nibbles are used unsigned) and its scale as a float, so that
// both reach the kernels as memory broadcasts.
struct Q8Aux {
  int32_t bias;
  float d;
};
// `aux` is the activation row's Q8Aux per block; `chunks`, when not null,
// the row laid out for the chunked kernel (Q4_0Chunk below, one per eight
// blocks).
using VecDot16Fn = void (*)(int64_t n, const void* w, size_t stride, const void* a, const Q8Aux* aux,
                            const void* chunks, float out[16], const void* prefetch);
// The same against four activation rows (`astride` bytes apart, their Q8Aux
// `aux_stride` entries apart): out[4 * 16], token-major.
using VecDot16x4Fn = void (*)(int64_t n, const void* w, size_t stride, const void* a, size_t astride,
                              const Q8Aux* aux, size_t aux_stride, float out[64]);

// Eight Q8_0 activation blocks laid out against the bytes of eight Q4_0
// weight blocks as a row holds them (144 bytes, 36 words, scales included):
// word k of `lo` holds the activation values that weight word k's low
// nibbles multiply, zero against the scale bytes; `hi` the same for the high
// nibbles. A weight word then needs no realignment, only a transpose, and
// each of the 36 words belongs to exactly one block. `bias` = -8 * the
// block's sum of values (the nibbles are used unsigned); `dy` its scale.
struct Q4_0Chunk {
  int32_t lo[36];
  int32_t hi[36];
  int32_t bias[8];
  float dy[8];
};
// Fills blocks / 8 chunks from a Q8_0 activation row of `blocks` blocks.
void PrepareQ4_0Chunks(const BlockQ8_0* y, int64_t blocks, Q4_0Chunk* out);

// Sixteen Q8_0 activation rows interleaved per block, for the sixteen-token
// Q4_0 kernel of prompts: every value it broadcasts is then at a fixed
// offset from one pointer (a memory operand of VPDPBUSD, where sixteen row
// pointers and their Q8Aux cost a register shuffle per use). `bias` and `d`
// are the tokens' Q8Aux.
struct Q8x16Block {
  int32_t qs[16][8];  // token t's 32 values, as VPDPBUSD takes them: 8 words
  int32_t bias[16];
  float d[16];
};
// Packs blocks 0..blocks-1 of sixteen activation rows (`astride` bytes apart).
void PackQ8x16(const uint8_t* a, size_t astride, int64_t blocks, Q8x16Block* out);
// The same for the Q8_0 weights' sixteen-token kernel, which keeps the
// reference's eight float lanes per row and so needs each word's
// correction: corr[t][k] = -128 * the sum of token t's word k (the weights
// are used unsigned, as x + 128).
struct alignas(64) Q8_0x16Block {
  int32_t qs[16][8];
  int32_t corr[16][8];
  float d[16];
};
void PackQ8_0x16(const uint8_t* a, size_t astride, int64_t blocks, Q8_0x16Block* out);  // kernels/avx512_q8_0.cc
// Prompts decode sixteen weight rows once for the whole batch:
// Decode16Fn writes their n / BlockElems blocks, decoded16_bytes[type]
// each, in the sixteen-token kernel's own layout, which VecDot16x16Fn then
// multiplies by sixteen activation rows: out[16 * t + r], each value
// VecDot's bit for bit. The rows come packed (`packed`, Q4_0: Q8x16Block
// per block, Q8_0: Q8_0x16Block) or as they are (`a`, `astride` bytes apart; Q4_K).
using Decode16Fn = void (*)(int64_t n, const void* w, size_t stride, void* out);
using VecDot16x16Fn = void (*)(int64_t n, const void* decoded, const void* packed, const void* a, size_t astride,
                               float out[256]);
// Packs blocks 0..blocks-1 of sixteen activation rows (`astride` bytes
// apart) for a sixteen-token kernel that takes them in a layout of its own
// (Q4_K: Q8_K per super-block; Q6_K: int16 pairs), packed16_bytes[type] per
// block (a multiple of 64, and `out` 64-byte aligned, as the decoded blocks
// are); MatMul packs each tile once per product.
using Pack16Fn = void (*)(const uint8_t* a, size_t astride, int64_t blocks, void* out);

// The weight prefetch's cache hint, chosen once per process. Weights are
// read once per token, and the best hint differs by vendor: on a Zen 4
// non-temporal (PREFETCHNTA) made generation 2-8% faster than PREFETCHT0
// (T1/T2 15-25% slower); on a Sapphire Rapids-class Xeon NTA halved it
// (TinyLlama Q4_0 one thread 7.8 tok/s against 14.2-15.4 with T1 or T2,
// 12.9 with no prefetch at all), and T2 was at or above T1 and T0. So AMD
// gets NTA and every other CPU T2; LLMTK_PREFETCH=nta|t0|t1|t2|none
// overrides (docs/benchmarks.md, "Prefetch hint").
enum class PrefetchHint { kNta, kT0, kT1, kT2, kNone };
PrefetchHint WeightPrefetchHint();

// Spreads prefetches of `bytes` bytes from `p` evenly over `steps` loop steps.
class SpanPrefetcher {
 public:
  SpanPrefetcher(const void* p, size_t bytes, int64_t steps)
      : p_(static_cast<const char*>(p)), per_(steps > 0 ? (bytes + steps - 1) / steps : 0) {}
  void Step(int64_t i) const {
    if (p_ == nullptr) return;
    const char* end = p_ + (i + 1) * per_;
    const auto first = reinterpret_cast<uintptr_t>(p_ + i * per_) & ~uintptr_t{63};
    const char* l = reinterpret_cast<const char*>(first);
    switch (hint_) {
      case PrefetchHint::kNta: for (; l < end; l += 64) __builtin_prefetch(l, 0, 0); break;
      case PrefetchHint::kT2: for (; l < end; l += 64) __builtin_prefetch(l, 0, 1); break;
      case PrefetchHint::kT1: for (; l < end; l += 64) __builtin_prefetch(l, 0, 2); break;
      case PrefetchHint::kT0: for (; l < end; l += 64) __builtin_prefetch(l, 0, 3); break;
      case PrefetchHint::kNone: break;
    }
  }

 private:
  const char* p_;
  size_t per_;
  PrefetchHint hint_ = WeightPrefetchHint();
};
using QuantizeFn = void (*)(const float* x, int64_t n, void* out);
using AxpyFn = void (*)(float w, const void* row, float* lane, int64_t n);
using SoftmaxExpFn = double (*)(float* s, int64_t n, float mx);
using SwiGluFn = void (*)(float* gate, const float* up, int64_t n);
using ReduceLanesFn = void (*)(const float* lanes, int64_t n, float* out);
using AccumulateFn = void (*)(const float* w, const void* rows, size_t stride, int64_t count, float* lanes,
                              int64_t n);
// Several queries against the same cache rows (kernels.h DotRowsMulti,
// AccumulateRowsMulti; nq <= 8): false for a shape the kernel does not
// take, which then goes query by query.
using DotRowsMultiFn = bool (*)(int64_t n, const void* rows, size_t stride, int64_t count, const void* x,
                                size_t xstride, int nq, float* out, size_t ostride);
using AccumulateMultiFn = bool (*)(const float* w, size_t wstride, const void* rows, size_t stride, int64_t count,
                                   float* lanes, size_t lstride, int64_t n, int nq, bool fresh);
using ScaleMaxFn = float (*)(float* s, int64_t n, float scale);
using ScaleRoundFn = void (*)(float* s, int64_t n, float inv, bool f16);

// One ISA's kernels; null entries fall back to the scalar reference.
struct KernelTable {
  VecDotFn vec_dot[32] = {};   // indexed by weight DType
  QuantizeFn quantize[32] = {};  // indexed by activation DType
  VecDot8Fn vec_dot8[32] = {};   // optional multi-row kernels
  VecDot8x4Fn vec_dot8x4[32] = {};  // optional multi-row, multi-token kernels
  VecDot8x4Fn vec_dot8x8[32] = {};  // the same for eight tokens (out[8 * 8])
  VecDot16Fn vec_dot16[32] = {};
  VecDot16x4Fn vec_dot16x4[32] = {};
  VecDot16x4Fn vec_dot16x8[32] = {};  // the same for eight tokens (out[8 * 16])
  VecDot16x16Fn vec_dot16x16[32] = {};  // sixteen packed tokens (Q4_0)
  Decode16Fn decode16[32] = {};        // its weight side
  size_t decoded16_bytes[32] = {};     // per block of sixteen rows
  Pack16Fn pack16[32] = {};            // its activation side, when not Q8x16Block
  size_t packed16_bytes[32] = {};      // per block of sixteen tokens
  size_t decoded16_chunk_bytes[32] = {};  // if set, MatMul's budget for a chunk's decoded rows
  AxpyFn axpy[32] = {};              // indexed by cache DType (F16, F32)
  AccumulateFn accumulate[32] = {};  // AccumulateRows, by cache DType
  DotRowsMultiFn dot_rows_multi[32] = {};       // by cache DType
  AccumulateMultiFn accumulate_multi[32] = {};  // by cache DType
  ScaleMaxFn scale_max = nullptr;
  ScaleRoundFn scale_round = nullptr;
  ReduceLanesFn reduce_lanes16 = nullptr;
  SoftmaxExpFn softmax_exp = nullptr;
  SwiGluFn swiglu = nullptr;
};

const KernelTable& ScalarTable();
void AddQ4_0x16Vnni(KernelTable* t);       // kernels/avx512_q4_0.cc
void AddActivationsAvx512(KernelTable* t);  // kernels/avx512_act.cc
void AddKQuantsVnni(KernelTable* t);        // kernels/avx512_kquant.cc
void AddQ4Kx16Vnni(KernelTable* t);         // kernels/avx512_q4_k.cc
void AddQ4Kx16PromptVnni(KernelTable* t);   // kernels/avx512_q4_k_pp.cc
// Q4_K's sixteen-row by sixteen-token prompt kernels by name (all null where
// the CPU or OS lacks them), for the tests of the one MatMul does not pick.
struct Q4KPromptKernels {
  Decode16Fn decode = nullptr;
  VecDot16x16Fn dot = nullptr;
  Pack16Fn pack = nullptr;
  size_t decoded_bytes = 0, packed_bytes = 0;
};
Q4KPromptKernels Q4KPromptVnniKernels();  // AVX-512 VNNI + VBMI2
Q4KPromptKernels Q4KPromptAmxKernels();   // AMX-INT8
void AddQ6Kx16Vnni(KernelTable* t);         // kernels/avx512_q6_k.cc
void AddQ8_0x16Vnni(KernelTable* t);        // kernels/avx512_q8_0.cc
void AddAttentionAvx512(KernelTable* t);    // kernels/avx512_attn.cc
void AddF16x16Prompt(KernelTable* t);       // kernels/avx512_f16_pp.cc
// IQ2_XS / IQ2_S against Q8_K (kernels/iq2s_scalar.cc, kernels/iq2s_avx2.cc).
float DotIQ2XSScalar(int64_t n, const void* w, const void* a);
float DotIQ2SScalar(int64_t n, const void* w, const void* a);
float DotIQ2XSAvx2(int64_t n, const void* w, const void* a);  // x86-64 only
float DotIQ2SAvx2(int64_t n, const void* w, const void* a);
// ggml_v_expf (AVX-512 form) for one lane: the reference of the vector ones.
float GgmlExpf(float x);
const KernelTable& Avx2Table();    // empty when not compiled for x86
float DotIQ3SScalar(int64_t n, const void* w, const void* a);  // kernels/iq3s_scalar.cc
float DotIQ3SAvx2(int64_t n, const void* w, const void* a);    // kernels/iq3s_avx2.cc (x86 only)
const KernelTable& Avx512Table();  // empty when not compiled for x86

// Canonical float dot: 16 partial sums with fma, reduced (l, l+8), (l, l+4),
// (l, l+2), (0, 1), then the tail added in order with fma.
float ReduceCanonical16(const float acc[16]);

// The leftovers of ggml_vec_dot_f32 (`sumf += x[i]*y[i]` after the 64-wide
// steps) as GCC compiles them for AVX-512: groups of 8 vectorized as an
// in-order reduction (each product rounded to float, then added one by one),
// the last n % 8 in the scalar loop, contracted to fma. The volatile keeps
// our own compiler from fusing the rounded product back into an fma.
template <typename Load>
float GgmlF32Tail(float s, int64_t begin, int64_t end, Load load) {
  const int64_t vec_end = begin + ((end - begin) & ~int64_t{7});
  int64_t i = begin;
  for (; i < vec_end; ++i) {
    const auto [x, y] = load(i);
    volatile float p = x * y;
    s += p;
  }
  for (; i < end; ++i) {
    const auto [x, y] = load(i);
    s = std::fma(x, y, s);
  }
  return s;
}

}  // namespace llmtk::kernels_internal

#endif  // LLMTK_LIB_KERNELS_INTERNAL_H_
