// kernels/kernels: dot products and matrix products between GGUF weight rows and
// activations, per tensor type, with runtime CPU dispatch.
//
// To reproduce llama.cpp's CPU numbers, a weight type never multiplies raw
// float activations: like ggml's `vec_dot_type`, activations are first
// converted to a companion format (F16 for F16 weights, BF16 for BF16, Q8_0
// for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants) and
// the dot product runs between the two encodings. Beyond that, every dot
// product adds its terms in the order llama.cpp's CPU backend uses on an
// AVX-512 machine (tinyBLAS for float lengths that are multiples of 16, the
// 8-lane vec_dot kernels for quantized types, VDPBF16PS pairs for BF16), so
// the rounding is the same and logits match llama.cpp's to the last printed
// digit. Each ISA variant (scalar reference, AVX2, AVX-512) returns
// bit-identical results, which the tests check; BF16 runs the scalar
// reference.
//
// Thread-safety: all functions are pure; MatMul runs its row chunks through
// the given parallel-for and is otherwise stateless.
#ifndef LLMTK_LIB_KERNELS_KERNELS_H_
#define LLMTK_LIB_KERNELS_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "lib/ggml/types.h"

namespace llmtk {

// Tensor types by their GGUF/ggml on-disk number. Names, block sizes and
// block bytes are ggml's table (ggml/types.h); the kernels add, per type,
// the activation encoding it multiplies against and whether it can be a
// weight.
using DType = GgmlType;

// Whether weights of type `t` can be multiplied (and dequantized) here.
bool KernelSupports(uint32_t t);
inline std::string_view DTypeName(DType t) { return GgmlTypeName(t); }
// Elements per block and bytes per block (1 and sizeof(element) for floats),
// from ggml's table.
int BlockElems(DType t);
int BlockBytes(DType t);
// Bytes of a row of `n` elements; `n` must be a multiple of BlockElems.
size_t RowBytes(DType t, int64_t n);
// The activation encoding a weight type multiplies against.
DType VecDotType(DType weight);

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
// The best variant this CPU runs (checked once, at first call).
Isa BestIsa();
// Whether this CPU can run `isa`.
bool IsaAvailable(Isa isa);
std::string_view IsaName(Isa isa);

// Encodes `n` floats as one activation row of `t` (F32, F16, BF16, Q8_0,
// Q8_1 or Q8_K); `n` must be a multiple of BlockElems(t).
void QuantizeActivationRow(DType t, const float* x, int64_t n, void* out, Isa isa);
void QuantizeActivationRow(DType t, const float* x, int64_t n, void* out);

// Dot product of one weight row of type `w` with one activation row encoded
// as VecDotType(w); both hold `n` elements.
float VecDot(DType w, int64_t n, const void* wrow, const void* arow, Isa isa);
float VecDot(DType w, int64_t n, const void* wrow, const void* arow);

// The same product in the order of ggml's vec_dot kernels, which
// llama.cpp's mul_mat_id (mixture-of-experts weights) runs for every length:
// differs from VecDot only for F32/F16/BF16 rows whose length tinyBLAS
// would take (kernels/vec_dot_ggml.cc, scalar).
float VecDotGgml(DType w, int64_t n, const void* wrow, const void* arow);
// The same on `isa` (F32/F16: scalar reference, AVX2, AVX-512, bit-identical;
// BF16: the scalar reference everywhere, as VecDot).
float VecDotGgml(DType w, int64_t n, const void* wrow, const void* arow, Isa isa);
// ggml_vec_soft_max_f32 as it runs without a mask (a router's softmax):
// like SoftmaxExp for each whole group of 16, but the last n % 16 values
// take the C library's expf and are added to the double sum one by one.
double SoftmaxExpTail(float* s, int64_t n, float mx);

// Runs fn(i) for i in [0, n), possibly in parallel. A null function runs
// serially.
using ParallelFor = std::function<void(size_t n, const std::function<void(size_t)>& fn)>;

// A weight matrix as stored in GGUF: `rows` rows of `cols` elements each,
// row-major, each row RowBytes(type, cols) bytes.
struct WeightMatrix {
  DType type = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
};

// Activations already encoded as VecDotType(w.type): `n` rows, `stride` bytes
// apart.
struct EncodedActivations {
  const void* data = nullptr;
  int64_t n = 0;
  size_t stride = 0;
};

// Encodes `n` float rows of `cols` elements (x, row-major) for multiplying
// against weights of type `weight`; `buf` must hold
// n * RowBytes(VecDotType(weight), cols) bytes.
EncodedActivations EncodeActivations(DType weight, const float* x, int64_t n, int64_t cols,
                                     void* buf, const ParallelFor& pfor = nullptr);

// y[t][r] = dot(w row r, activation row t) for every token t, with y rows
// `ldy` floats apart. Chunks of weight rows go to `pfor`; each output element
// is computed by exactly one VecDot, so the result does not depend on the
// thread count.
// `threads` is how many threads `pfor` runs on (0: unknown); a matrix-vector
// product uses it to give each thread long contiguous runs of rows, which
// it can prefetch.
void MatMul(const WeightMatrix& w, const EncodedActivations& a, float* y, int64_t ldy,
            const ParallelFor& pfor = nullptr, Isa isa = BestIsa(), int threads = 0);

// Whether llama.cpp c392e50's mul_mat multiplies a weight of type `w` with
// `weight_rows` rows by `tokens` activation rows through ggml's vec_dot
// (MatMulGgml) rather than tinyBLAS (MatMul): llamafile_sgemm declines a
// single row (generation steps, and the last layer's feed-forward and the
// output when one position's logits are wanted) and float weights whose
// row count is not a multiple of 4.
bool MulMatTakesVecDot(DType w, int64_t weight_rows, int64_t tokens);
// MatMul with every element a VecDotGgml (quantized types: MatMul itself,
// whose VecDot is vec_dot's order).
void MatMulGgml(const WeightMatrix& w, const EncodedActivations& a, float* y, int64_t ldy,
                const ParallelFor& pfor = nullptr, Isa isa = BestIsa(), int threads = 0);

// Attention of a one-token batch, as ggml computes it (kernels/vec_dot_ggml.cc).
// KQ: out[p] = VecDotGgml(t, n, rows + p * stride, x), p < count.
void DotRowsGgml(DType t, int64_t n, const void* rows, size_t stride, int64_t count, const void* x, float* out,
                 Isa isa = BestIsa());
// P·V: each output element is ggml_vec_dot_f16/f32 of a row of the
// transposed V cache with the probabilities, over the n_kv cells llama.cpp
// attends (the used cells padded to 32). Cells below np = n_kv & ~63 go to
// 64 lanes by cell % 64: AccumulateRows64 does AxpyRow(t, w[p], rows + p *
// stride, lanes + ((cell0 + p) % 64) * n, n) for p < count (lanes: 64 * n
// floats); ReduceLanes64 folds the four accumulators as GGML_F32_VEC_REDUCE
// (overwriting lanes) and reduces them into out. The cells from np on are
// then added in order by AddRowsTail into acc (out widened to double): in
// double for an F16 cache, rounded to float at each step for F32.
void AccumulateRows64(DType t, const float* w, const void* rows, size_t stride, int64_t count, int64_t cell0,
                      float* lanes, int64_t n, Isa isa = BestIsa());
void ReduceLanes64(float* lanes, int64_t n, float* out, Isa isa = BestIsa());
void AddRowsTail(DType t, const float* w, const void* rows, size_t stride, int64_t count, double* acc, int64_t n);

// Attention's KQ: out[p] = VecDot(t, n, rows + p * stride, x), p < count.
void DotRows(DType t, int64_t n, const void* rows, size_t stride, int64_t count, const void* x, float* out,
             Isa isa = BestIsa());
// Attention's P·V: AxpyRow(t, w[p], rows + p * stride, lanes + (p % 16) * n,
// n) for p < count, in order.
void AccumulateRows(DType t, const float* w, const void* rows, size_t stride, int64_t count, float* lanes,
                    int64_t n, Isa isa = BestIsa());
// The same for nq queries against the same rows (the query heads of one
// grouped-query KV head), each row loaded once for all of them: KQ
// out[j * ostride + p] = VecDot(t, n, rows + p * stride, x + j * xstride
// bytes); P·V AccumulateRows(t, w + j * wstride, rows, stride, count,
// lanes + j * lstride, n) for j < nq, each query's 16 lanes first set to 0
// when `fresh` (the first run of cells). Bit for bit the one-query results.
void DotRowsMulti(DType t, int64_t n, const void* rows, size_t stride, int64_t count, const void* x, size_t xstride,
                  int64_t nq, float* out, size_t ostride, Isa isa = BestIsa());
void AccumulateRowsMulti(DType t, const float* w, size_t wstride, const void* rows, size_t stride, int64_t count,
                         float* lanes, size_t lstride, int64_t n, int64_t nq, bool fresh, Isa isa = BestIsa());
// Attention's score steps around SoftmaxExp: ScaleMax does s[i] *= scale
// and returns the maximum (-inf when n == 0); ScaleRound does s[i] *= inv
// and, with `f16`, rounds each to F16 and back (an F16 cache's P·V takes
// the probabilities in F16, as ggml does).
float ScaleMax(float* s, int64_t n, float scale, Isa isa = BestIsa());
void ScaleRound(float* s, int64_t n, float inv, bool f16, Isa isa = BestIsa());
// Softmax's exponentials as llama.cpp's CPU backend computes them on an
// AVX-512 machine (ggml_v_expf): s[i] = exp(s[i] - mx) for i < n; returns
// their sum the way ggml_soft_max_ext adds it: each group of 16 reduced
// canonically in float, the groups added in double.
double SoftmaxExp(float* s, int64_t n, float mx, Isa isa = BestIsa());
// ggml_vec_swiglu_f32: gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i], with
// ggml_v_expf in groups of 16 and the C library's expf for the rest.
void SwiGlu(float* gate, const float* up, int64_t n, Isa isa = BestIsa());

// Attention's P·V in tinyBLAS's order over cache rows: `lanes` holds 16 rows
// of `n` partial sums (position p goes to lane p % 16). AxpyRow does
// lane[i] = fma(w, row[i], lane[i]) for an F16 or F32 cache row;
// ReduceLanes16 gives out[i] = the canonical reduction of the 16 lanes.
void AxpyRow(DType t, float w, const void* row, float* lane, int64_t n, Isa isa = BestIsa());
void ReduceLanes16(const float* lanes, int64_t n, float* out, Isa isa = BestIsa());

}  // namespace llmtk

#endif  // LLMTK_LIB_KERNELS_KERNELS_H_
