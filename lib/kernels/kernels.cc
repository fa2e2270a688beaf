// Kernel type traits, ISA dispatch and the matrix product driver.
#include "lib/kernels/kernels.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lib/kernels/internal.h"

namespace llmtk {
namespace {

using kernels_internal::KernelTable;

// What the kernels add to ggml's type table (ggml/types.h), by type id: the
// activation encoding a weight type multiplies against (ggml's
// vec_dot_type), and whether the type can be a weight here (Q8_1 and Q8_K
// are activation encodings only). Ids without an entry have no kernels.
struct KernelType {
  bool present = false;
  DType vec_dot = DType::kF32;
  bool weight = false;
};

constexpr std::array<KernelType, kGgmlTypeIdLimit> kKernelTypes = [] {
  std::array<KernelType, kGgmlTypeIdLimit> t{};
  auto set = [&t](DType type, DType vec_dot, bool weight) { t[static_cast<uint32_t>(type)] = {true, vec_dot, weight}; };
  set(DType::kF32, DType::kF32, true);
  set(DType::kF16, DType::kF16, true);
  set(DType::kBF16, DType::kBF16, true);
  set(DType::kQ4_0, DType::kQ8_0, true);
  set(DType::kQ4_1, DType::kQ8_1, true);
  set(DType::kQ5_0, DType::kQ8_0, true);
  set(DType::kQ5_1, DType::kQ8_1, true);
  set(DType::kQ8_0, DType::kQ8_0, true);
  set(DType::kQ8_1, DType::kQ8_1, false);
  set(DType::kQ2_K, DType::kQ8_K, true);
  set(DType::kQ3_K, DType::kQ8_K, true);
  set(DType::kQ4_K, DType::kQ8_K, true);
  set(DType::kQ5_K, DType::kQ8_K, true);
  set(DType::kQ6_K, DType::kQ8_K, true);
  set(DType::kQ8_K, DType::kQ8_K, false);
  set(DType::kIQ4_NL, DType::kQ8_0, true);
  set(DType::kIQ4_XS, DType::kQ8_K, true);
  set(DType::kIQ2_XXS, DType::kQ8_K, true);
  set(DType::kIQ3_XXS, DType::kQ8_K, true);
  set(DType::kIQ2_XS, DType::kQ8_K, true);
  set(DType::kIQ2_S, DType::kQ8_K, true);
  set(DType::kIQ1_S, DType::kQ8_K, true);
  set(DType::kIQ1_M, DType::kQ8_K, true);
  set(DType::kIQ3_S, DType::kQ8_K, true);
  return t;
}();

const KernelType* Lookup(uint32_t t) {
  return t < kKernelTypes.size() && kKernelTypes[t].present ? &kKernelTypes[t] : nullptr;
}

const KernelTable& TableFor(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return kernels_internal::Avx512Table();
    case Isa::kAvx2: return kernels_internal::Avx2Table();
    case Isa::kScalar: break;
  }
  return kernels_internal::ScalarTable();
}

// Resolved per-ISA tables: each entry falls back to the next-lower ISA.
struct Resolved {
  KernelTable t[3];
  Resolved() {
    t[0] = kernels_internal::ScalarTable();
    for (int i = 1; i < 3; ++i) {
      t[i] = t[i - 1];
      const KernelTable& own = TableFor(static_cast<Isa>(i));
      if (own.reduce_lanes16) t[i].reduce_lanes16 = own.reduce_lanes16;
      if (own.softmax_exp) t[i].softmax_exp = own.softmax_exp;
      if (own.swiglu) t[i].swiglu = own.swiglu;
      if (own.scale_max) t[i].scale_max = own.scale_max;
      if (own.scale_round) t[i].scale_round = own.scale_round;
      for (int k = 0; k < 32; ++k) {
        if (own.vec_dot[k]) t[i].vec_dot[k] = own.vec_dot[k];
        if (own.quantize[k]) t[i].quantize[k] = own.quantize[k];
        if (own.vec_dot8[k]) t[i].vec_dot8[k] = own.vec_dot8[k];
        if (own.vec_dot8x4[k]) t[i].vec_dot8x4[k] = own.vec_dot8x4[k];
        if (own.vec_dot8x8[k]) t[i].vec_dot8x8[k] = own.vec_dot8x8[k];
        if (own.vec_dot16[k]) t[i].vec_dot16[k] = own.vec_dot16[k];
        if (own.vec_dot16x4[k]) t[i].vec_dot16x4[k] = own.vec_dot16x4[k];
        if (own.vec_dot16x8[k]) t[i].vec_dot16x8[k] = own.vec_dot16x8[k];
        if (own.vec_dot16x16[k]) t[i].vec_dot16x16[k] = own.vec_dot16x16[k];
        if (own.decode16[k]) t[i].decode16[k] = own.decode16[k];
        if (own.decoded16_bytes[k]) t[i].decoded16_bytes[k] = own.decoded16_bytes[k];
        if (own.pack16[k]) t[i].pack16[k] = own.pack16[k];
        if (own.packed16_bytes[k]) t[i].packed16_bytes[k] = own.packed16_bytes[k];
        if (own.axpy[k]) t[i].axpy[k] = own.axpy[k];
        if (own.accumulate[k]) t[i].accumulate[k] = own.accumulate[k];
        if (own.dot_rows_multi[k]) t[i].dot_rows_multi[k] = own.dot_rows_multi[k];
        if (own.accumulate_multi[k]) t[i].accumulate_multi[k] = own.accumulate_multi[k];
      }
    }
  }
};

const KernelTable& Table(Isa isa) {
  static const Resolved r;
  return r.t[static_cast<int>(isa)];
}

}  // namespace

bool KernelSupports(uint32_t t) {
  const KernelType* k = Lookup(t);
  return k != nullptr && k->weight;
}

int BlockElems(DType t) { return static_cast<int>(TypeInfo(t).block_size); }
int BlockBytes(DType t) { return static_cast<int>(TypeInfo(t).type_size); }
size_t RowBytes(DType t, int64_t n) {
  const GgmlTypeInfo& i = TypeInfo(t);
  return static_cast<size_t>(n / i.block_size) * i.type_size;
}
DType VecDotType(DType weight) { return kKernelTypes[static_cast<uint32_t>(weight)].vec_dot; }

bool IsaAvailable(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    case Isa::kAvx512:
      return IsaAvailable(Isa::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  }
  return false;
#else
  return isa == Isa::kScalar;
#endif
}

Isa BestIsa() {
  static const Isa best = [] {
    // LLMTK_ISA=scalar|avx2|avx512 caps the choice (benchmarks, debugging).
    Isa cap = Isa::kAvx512;
    if (const char* env = std::getenv("LLMTK_ISA")) {
      const std::string_view v(env);
      if (v == "scalar") cap = Isa::kScalar;
      if (v == "avx2") cap = Isa::kAvx2;
    }
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2})
      if (static_cast<int>(isa) <= static_cast<int>(cap) && IsaAvailable(isa)) return isa;
    return Isa::kScalar;
  }();
  return best;
}

namespace kernels_internal {
PrefetchHint WeightPrefetchHint() {
  static const PrefetchHint hint = [] {
    if (const char* env = std::getenv("LLMTK_PREFETCH")) {
      const std::string_view v(env);
      if (v == "nta") return PrefetchHint::kNta;
      if (v == "t0") return PrefetchHint::kT0;
      if (v == "t1") return PrefetchHint::kT1;
      if (v == "t2") return PrefetchHint::kT2;
      if (v == "none") return PrefetchHint::kNone;
    }
#if defined(__x86_64__)
    if (__builtin_cpu_is("amd")) return PrefetchHint::kNta;
#endif
    return PrefetchHint::kT2;
  }();
  return hint;
}
}  // namespace kernels_internal

std::string_view IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kScalar: break;
  }
  return "scalar";
}

void QuantizeActivationRow(DType t, const float* x, int64_t n, void* out, Isa isa) {
  Table(isa).quantize[static_cast<int>(t)](x, n, out);
}
void QuantizeActivationRow(DType t, const float* x, int64_t n, void* out) {
  QuantizeActivationRow(t, x, n, out, BestIsa());
}

float VecDot(DType w, int64_t n, const void* wrow, const void* arow, Isa isa) {
  return Table(isa).vec_dot[static_cast<int>(w)](n, wrow, arow);
}
float VecDot(DType w, int64_t n, const void* wrow, const void* arow) {
  return VecDot(w, n, wrow, arow, BestIsa());
}

EncodedActivations EncodeActivations(DType weight, const float* x, int64_t n, int64_t cols,
                                     void* buf, const ParallelFor& pfor) {
  const DType at = VecDotType(weight);
  const size_t stride = RowBytes(at, cols);
  auto fn = Table(BestIsa()).quantize[static_cast<int>(at)];
  auto* out = static_cast<uint8_t*>(buf);
  auto body = [&](size_t t) { fn(x + t * cols, cols, out + t * stride); };
  if (pfor && n > 1) {
    pfor(static_cast<size_t>(n), body);
  } else {
    for (int64_t t = 0; t < n; ++t) body(t);
  }
  return {buf, n, stride};
}

namespace kernels_internal {

void PrepareQ4_0Chunks(const BlockQ8_0* y, int64_t blocks, Q4_0Chunk* out) {
  for (int64_t c = 0; c < blocks / 8; ++c) {
    int8_t lo[144] = {}, hi[144] = {};
    for (int i = 0; i < 8; ++i) {
      const BlockQ8_0& b = y[c * 8 + i];
      int32_t sum = 0;
      for (int j = 0; j < 32; ++j) sum += b.qs[j];
      // Block i's 16 nibble bytes follow its 2-byte scale at 18 * i.
      for (int j = 0; j < 16; ++j) {
        lo[18 * i + 2 + j] = b.qs[j];
        hi[18 * i + 2 + j] = b.qs[j + 16];
      }
      out[c].bias[i] = -8 * sum;
      out[c].dy[i] = Fp16ToFp32(b.d);
    }
    std::memcpy(out[c].lo, lo, sizeof(lo));
    std::memcpy(out[c].hi, hi, sizeof(hi));
  }
}

void PackQ8x16(const uint8_t* a, size_t astride, int64_t blocks, Q8x16Block* out) {
  for (int t = 0; t < 16; ++t) {
    const auto* y = reinterpret_cast<const BlockQ8_0*>(a + t * astride);
    for (int64_t b = 0; b < blocks; ++b) {
      int32_t sum = 0;
      for (int k = 0; k < 32; ++k) sum += y[b].qs[k];
      std::memcpy(out[b].qs[t], y[b].qs, 32);
      out[b].bias[t] = -8 * sum;
      out[b].d[t] = Fp16ToFp32(y[b].d);
    }
  }
}

}  // namespace kernels_internal

namespace {

// The first token of [t0, t1) that RowGroup hands to the one-token kernel.
int64_t FirstSingle(int64_t t0, int64_t t1, bool has8, bool has4) {
  int64_t t = t0;
  if (has8) t += (t1 - t) / 8 * 8;
  if (has4) t += (t1 - t) / 4 * 4;
  return t;
}

// One group of `W` rows (W = 16 or 8) against tokens [t0, t1): four tokens at
// a time with `dotx4` when there is one, then one by one with `dot`, which
// prefetches `next` (the group after, or null).
template <int W, typename DotFn, typename Dot4Fn>
void RowGroup(DotFn dot, Dot4Fn dotx4, Dot4Fn dotx8, const WeightMatrix& w, size_t wstride, const uint8_t* wrow,
              const EncodedActivations& a, const kernels_internal::Q8Aux* aux, const uint8_t* chunks, size_t chunk_stride, int64_t t0, int64_t t1, const uint8_t* next,
              float* y, int64_t ldy, int64_t r) {
  const auto* adata = static_cast<const uint8_t*>(a.data);
  const int64_t blocks = w.cols / BlockElems(w.type);
  int64_t t = t0;
  // Runs of T tokens through a T-token kernel while they last.
  auto tokens = [&]<int T>(Dot4Fn dotxt) {
    if (dotxt == nullptr) return;
    float out[T * W];
    for (; t + T <= t1; t += T) {
      if constexpr (W == 16) {
        dotxt(w.cols, wrow, wstride, adata + t * a.stride, a.stride, aux + t * blocks, blocks, out);
      } else {
        dotxt(w.cols, wrow, wstride, adata + t * a.stride, a.stride, out);
      }
      for (int j = 0; j < T; ++j)
        for (int k = 0; k < W; ++k) y[(t + j) * ldy + r + k] = out[W * j + k];
    }
  };
  tokens.template operator()<8>(dotx8);
  tokens.template operator()<4>(dotx4);
  float out[W];
  for (; t < t1; ++t) {
    if constexpr (W == 16) {
      dot(w.cols, wrow, wstride, adata + t * a.stride, aux + t * blocks,
          chunks != nullptr ? chunks + t * chunk_stride : nullptr, out, next);
    } else {
      dot(w.cols, wrow, wstride, adata + t * a.stride, out, next);
    }
    for (int k = 0; k < W; ++k) y[t * ldy + r + k] = out[k];
  }
}

}  // namespace

void MatMul(const WeightMatrix& w, const EncodedActivations& a, float* y, int64_t ldy,
            const ParallelFor& pfor, Isa isa, int threads) {
  const kernels_internal::KernelTable& kt = Table(isa);
  const int ti = static_cast<int>(w.type);
  const auto dot = kt.vec_dot[ti];
  const size_t wstride = RowBytes(w.type, w.cols);
  const auto* wdata = static_cast<const uint8_t*>(w.data);
  const auto* adata = static_cast<const uint8_t*>(a.data);
  const bool matvec = a.n == 1;
  // Rows go in groups of the widest multi-row kernel there is.
  const bool use16 = kt.vec_dot16[ti] != nullptr;
  // Whole tiles of sixteen tokens go through the packed sixteen-token
  // kernel where there is one; the rest as before. Types with it but
  // without the one- to eight-token sixteen-row kernels (Q6_K, Q8_0) still
  // go sixteen rows at a time, their leftover tokens eight rows at a time,
  // and prompts shorter than a tile as before.
  const auto dot16x16 = a.n >= 16 ? kt.vec_dot16x16[ti] : nullptr;
  const int64_t width = use16 || dot16x16 != nullptr ? 16 : kt.vec_dot8[ti] ? 8 : 1;
  // Chunks of weight rows: each weight row is read once per token tile while
  // it is still in cache. Small chunks keep threads balanced. For one token
  // (memory bound) each row group prefetches the next one of its chunk, so
  // chunks are long: four per thread when the count is known (a chunk's
  // first group goes unprefetched), and the prefetch crosses into the next
  // chunk only when one thread runs them all in order.
  const int64_t groups = (w.rows + width - 1) / width;
  const int64_t nblocks = w.cols / BlockElems(w.type);
  // A prompt kernel that sets decoded16_chunk_bytes gets up to four
  // sixteen-row groups per chunk, as many as its decoded rows' budget
  // allows: each packed token tile is then reused from L2 by all of them
  // instead of coming from L3 once per sixteen rows. With a known thread
  // count, still two chunks or more per thread.
  const int64_t decoded_groups =
      dot16x16 != nullptr && a.n >= 16 && kt.decoded16_chunk_bytes[ti] > 0
          ? std::clamp<int64_t>(std::min<int64_t>(static_cast<int64_t>(kt.decoded16_chunk_bytes[ti]) /
                                                      std::max<int64_t>(1, nblocks * static_cast<int64_t>(kt.decoded16_bytes[ti])),
                                                  threads > 0 ? w.rows / 16 / (2 * threads) : 4),
                                1, 4)
          : 1;
  const int64_t rows_per_chunk =
      !matvec ? std::max<int64_t>(width, 8) * decoded_groups
              : width * (threads > 0 ? std::max<int64_t>(8, (groups + 4 * threads - 1) / (4 * threads))
                                     : std::max<int64_t>(8, 64 / width));
  const bool prefetch_across = !pfor || threads == 1;
  const int64_t tok_tile = 32;
  // Per calling thread and reused: a fresh megabyte-sized vector per call
  // cost more in page faults and zeroing than the packed kernel saved. (The
  // references, not the thread_locals, are what pfor's workers see.)
  static thread_local std::vector<kernels_internal::Q8x16Block> packed_scratch;
  std::vector<kernels_internal::Q8x16Block>& packed = packed_scratch;
  // Activations are packed once per product, sixteen tokens a tile, in
  // parallel where there is a pool and more than one tile.
  auto each_tile = [&](const std::function<void(size_t)>& pack) {
    if (pfor && a.n >= 32) {
      pfor(static_cast<size_t>(a.n / 16), pack);
    } else {
      for (int64_t i = 0; i < a.n / 16; ++i) pack(static_cast<size_t>(i));
    }
  };
  // Q8_0 weights' kernel takes per-word corrections (Q8_0x16Block).
  static thread_local std::vector<kernels_internal::Q8_0x16Block> packed8_scratch;
  std::vector<kernels_internal::Q8_0x16Block>& packed8 = packed8_scratch;
  const bool pack_q8_0 = w.type == DType::kQ8_0;
  const bool pack_q8 = !pack_q8_0 && VecDotType(w.type) == DType::kQ8_0;
  if (dot16x16 != nullptr && pack_q8_0) {
    if (packed8.size() < static_cast<size_t>(a.n / 16 * nblocks)) packed8.resize(static_cast<size_t>(a.n / 16 * nblocks));
    auto pack = [&](size_t i) {
      kernels_internal::PackQ8_0x16(adata + 16 * i * a.stride, a.stride, nblocks, &packed8[i * nblocks]);
    };
    each_tile(pack);
  }
  if (dot16x16 != nullptr && pack_q8) {
    if (packed.size() < static_cast<size_t>(a.n / 16 * nblocks)) packed.resize(static_cast<size_t>(a.n / 16 * nblocks));
    auto pack = [&](size_t i) {
      kernels_internal::PackQ8x16(adata + 16 * i * a.stride, a.stride, nblocks, &packed[i * nblocks]);
    };
    each_tile(pack);
  }
  // A kernel's own packing (pack16), likewise once per product.
  static thread_local std::vector<uint8_t> packed16_scratch;
  const auto pack16 = dot16x16 != nullptr && !pack_q8 ? kt.pack16[ti] : nullptr;
  const size_t packed16_tile = kt.packed16_bytes[ti] * static_cast<size_t>(nblocks);  // sixteen tokens
  uint8_t* packed16 = nullptr;
  if (pack16 != nullptr && a.n >= 16) {
    const size_t bytes = static_cast<size_t>(a.n / 16) * packed16_tile;
    if (packed16_scratch.size() < bytes + 64) packed16_scratch.resize(bytes + 64);
    packed16 = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(packed16_scratch.data()) + 63) & ~uintptr_t{63});
    auto pack = [&](size_t i) { pack16(adata + 16 * i * a.stride, a.stride, nblocks, packed16 + i * packed16_tile); };
    each_tile(pack);
  }
  // The first token of a tile that the other kernels take.
  auto unpacked = [&](int64_t t0, int64_t t1) { return dot16x16 != nullptr ? t0 + (t1 - t0) / 16 * 16 : t0; };
  // The sixteen-row Q4_0 kernels take each Q8_0 activation block's Q8Aux,
  // computed here once instead of once per row group (for the tokens the
  // packed kernel leaves).
  static thread_local std::vector<kernels_internal::Q8Aux> aux_scratch;
  std::vector<kernels_internal::Q8Aux>& aux = aux_scratch;
  if (use16 && VecDotType(w.type) == DType::kQ8_0) {
    const int64_t blocks = w.cols / 32;
    if (aux.size() < static_cast<size_t>(a.n * blocks)) aux.resize(static_cast<size_t>(a.n * blocks));
    for (int64_t t = 0; t < a.n; ++t) {
      if (t < unpacked(t / tok_tile * tok_tile, std::min(a.n, t / tok_tile * tok_tile + tok_tile))) continue;
      const auto* blk = reinterpret_cast<const BlockQ8_0*>(adata + t * a.stride);
      for (int64_t b = 0; b < blocks; ++b) {
        int32_t sum = 0;
        for (int k = 0; k < 32; ++k) sum += blk[b].qs[k];
        aux[t * blocks + b] = {-8 * sum, Fp16ToFp32(blk[b].d)};
      }
    }
  }
  // Q4_0's one-token kernel takes the activations laid out per eight blocks
  // (Q4_0Chunk), for the tokens it will see.
  // (Reused like `packed`: zeroing a fresh one per call, though prompts
  // leave it unused, was a tenth of a Q4_0 prompt MatMul.)
  static thread_local std::vector<kernels_internal::Q4_0Chunk> chunk_scratch;
  std::vector<kernels_internal::Q4_0Chunk>& chunk_buf = chunk_scratch;
  const int64_t chunks_per_tok = w.cols / 256;
  const bool use_chunks = use16 && w.type == DType::kQ4_0 && chunks_per_tok > 0;
  if (use_chunks) {
    if (chunk_buf.size() < static_cast<size_t>(a.n * chunks_per_tok))
      chunk_buf.resize(static_cast<size_t>(a.n * chunks_per_tok));
    for (int64_t t0 = 0; t0 < a.n; t0 += tok_tile) {
      const int64_t t1 = std::min(a.n, t0 + tok_tile);
      for (int64_t t = FirstSingle(unpacked(t0, t1), t1, kt.vec_dot16x8[ti] != nullptr, kt.vec_dot16x4[ti] != nullptr);
           t < t1; ++t)
        kernels_internal::PrepareQ4_0Chunks(reinterpret_cast<const BlockQ8_0*>(adata + t * a.stride), w.cols / 32,
                                            &chunk_buf[t * chunks_per_tok]);
    }
  }
  const auto* chunks = use_chunks ? reinterpret_cast<const uint8_t*>(chunk_buf.data()) : nullptr;
  const size_t chunk_stride = chunks_per_tok * sizeof(kernels_internal::Q4_0Chunk);
  const int64_t nchunks = (w.rows + rows_per_chunk - 1) / rows_per_chunk;
  auto body = [&](size_t c) {
    const int64_t r0 = static_cast<int64_t>(c) * rows_per_chunk;
    const int64_t r1 = std::min(w.rows, r0 + rows_per_chunk);
    const int64_t prefetch_end = prefetch_across ? w.rows : r1;
    // The chunk's sixteen-row groups decoded once for all the packed tiles,
    // into the running thread's buffer.
    // (64-byte aligned: the kernel reads it as vectors).
    static thread_local std::vector<uint8_t> decoded_scratch;
    uint8_t* decoded = nullptr;
    if (dot16x16 != nullptr && a.n >= 16) {
      const size_t bytes = static_cast<size_t>((r1 - r0) / 16 * nblocks) * kt.decoded16_bytes[ti];
      if (decoded_scratch.size() < bytes + 64) decoded_scratch.resize(bytes + 64);
      decoded = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(decoded_scratch.data()) + 63) & ~uintptr_t{63});
      for (int64_t r = r0; r + 16 <= r1; r += 16)
        kt.decode16[ti](w.cols, wdata + r * wstride, wstride,
                        decoded + (r - r0) / 16 * nblocks * kt.decoded16_bytes[ti]);
    }
    for (int64_t t0 = 0; t0 < a.n; t0 += tok_tile) {
      const int64_t t1 = std::min(a.n, t0 + tok_tile);
      int64_t r = r0;
      const int64_t tu = unpacked(t0, t1);
      if (tu > t0)
        for (; r + 16 <= r1; r += 16) {
          alignas(64) float out[256];
          for (int64_t t = t0; t < tu; t += 16) {
            const void* pk = pack_q8_0             ? static_cast<const void*>(&packed8[t / 16 * nblocks])
                             : pack_q8             ? static_cast<const void*>(&packed[t / 16 * nblocks])
                             : packed16 != nullptr ? static_cast<const void*>(packed16 + t / 16 * packed16_tile)
                                                   : nullptr;
            dot16x16(w.cols, decoded + (r - r0) / 16 * nblocks * kt.decoded16_bytes[ti], pk, adata + t * a.stride,
                     a.stride, out);
            for (int j = 0; j < 16; ++j) std::memcpy(y + (t + j) * ldy + r, out + 16 * j, 16 * sizeof(float));
          }
          if (tu < t1 && use16)
            RowGroup<16>(kt.vec_dot16[ti], kt.vec_dot16x4[ti], kt.vec_dot16x8[ti], w, wstride, wdata + r * wstride, a,
                         aux.data(), chunks, chunk_stride, tu, t1, nullptr, y, ldy, r);
          else if (tu < t1 && kt.vec_dot8[ti] != nullptr)
            for (int64_t h = r; h < r + 16; h += 8)
              RowGroup<8>(kt.vec_dot8[ti], kt.vec_dot8x4[ti], kt.vec_dot8x8[ti], w, wstride, wdata + h * wstride, a,
                          nullptr, nullptr, 0, tu, t1, nullptr, y, ldy, h);
          else if (tu < t1)
            for (int64_t h = r; h < r + 16; ++h)
              for (int64_t t = tu; t < t1; ++t) y[t * ldy + h] = dot(w.cols, wdata + h * wstride, adata + t * a.stride);
        }
      if (use16)
        for (; r + 16 <= r1; r += 16)
          RowGroup<16>(kt.vec_dot16[ti], kt.vec_dot16x4[ti], kt.vec_dot16x8[ti], w, wstride, wdata + r * wstride, a, aux.data(), chunks, chunk_stride, t0, t1,
                       matvec && r + 32 <= prefetch_end ? wdata + (r + 16) * wstride : nullptr, y, ldy, r);
      if (kt.vec_dot8[ti] != nullptr)
        for (; r + 8 <= r1; r += 8)
          RowGroup<8>(kt.vec_dot8[ti], kt.vec_dot8x4[ti], kt.vec_dot8x8[ti], w, wstride, wdata + r * wstride, a, nullptr, nullptr, 0, t0, t1,
                      matvec && r + 16 <= prefetch_end ? wdata + (r + 8) * wstride : nullptr, y, ldy, r);
      for (; r < r1; ++r) {
        const uint8_t* wr = wdata + r * wstride;
        for (int64_t t = t0; t < t1; ++t) y[t * ldy + r] = dot(w.cols, wr, adata + t * a.stride);
      }
    }
  };
  if (pfor && nchunks > 1) {
    pfor(static_cast<size_t>(nchunks), body);
  } else {
    for (int64_t c = 0; c < nchunks; ++c) body(c);
  }
}

void AxpyRow(DType t, float w, const void* row, float* lane, int64_t n, Isa isa) {
  Table(isa).axpy[static_cast<int>(t)](w, row, lane, n);
}

void ReduceLanes16(const float* lanes, int64_t n, float* out, Isa isa) { Table(isa).reduce_lanes16(lanes, n, out); }

void DotRows(DType t, int64_t n, const void* rows, size_t stride, int64_t count, const void* x, float* out, Isa isa) {
  const auto dot = Table(isa).vec_dot[static_cast<int>(t)];
  const auto dot8 = Table(isa).vec_dot8[static_cast<int>(t)];
  const auto* r = static_cast<const uint8_t*>(rows);
  int64_t p = 0;
  // Eight rows per call where there is a kernel (each result is still the
  // one-row kernel's bits): attention's KQ over a long cache is otherwise
  // mostly call and reduction overhead.
  if (dot8 != nullptr)
    for (; p + 8 <= count; p += 8) dot8(n, r + p * stride, stride, x, out + p, nullptr);
  for (; p < count; ++p) out[p] = dot(n, r + p * stride, x);
}

void AccumulateRows(DType t, const float* w, const void* rows, size_t stride, int64_t count, float* lanes,
                    int64_t n, Isa isa) {
  Table(isa).accumulate[static_cast<int>(t)](w, rows, stride, count, lanes, n);
}

void DotRowsMulti(DType t, int64_t n, const void* rows, size_t stride, int64_t count, const void* x, size_t xstride,
                  int64_t nq, float* out, size_t ostride, Isa isa) {
  const auto multi = Table(isa).dot_rows_multi[static_cast<int>(t)];
  const auto* xb = static_cast<const uint8_t*>(x);
  for (int64_t j0 = 0; j0 < nq; j0 += 8) {
    const int q = static_cast<int>(std::min<int64_t>(8, nq - j0));
    if (multi != nullptr && multi(n, rows, stride, count, xb + j0 * xstride, xstride, q, out + j0 * ostride, ostride))
      continue;
    for (int j = 0; j < q; ++j)
      DotRows(t, n, rows, stride, count, xb + (j0 + j) * xstride, out + (j0 + j) * ostride, isa);
  }
}

void AccumulateRowsMulti(DType t, const float* w, size_t wstride, const void* rows, size_t stride, int64_t count,
                         float* lanes, size_t lstride, int64_t n, int64_t nq, bool fresh, Isa isa) {
  const auto multi = Table(isa).accumulate_multi[static_cast<int>(t)];
  for (int64_t j0 = 0; j0 < nq; j0 += 8) {
    const int q = static_cast<int>(std::min<int64_t>(8, nq - j0));
    if (multi != nullptr &&
        multi(w + j0 * wstride, wstride, rows, stride, count, lanes + j0 * lstride, lstride, n, q, fresh))
      continue;
    for (int j = 0; j < q; ++j) {
      float* lj = lanes + (j0 + j) * lstride;
      if (fresh) std::fill(lj, lj + 16 * n, 0.f);
      AccumulateRows(t, w + (j0 + j) * wstride, rows, stride, count, lj, n, isa);
    }
  }
}

float ScaleMax(float* s, int64_t n, float scale, Isa isa) { return Table(isa).scale_max(s, n, scale); }

void ScaleRound(float* s, int64_t n, float inv, bool f16, Isa isa) { Table(isa).scale_round(s, n, inv, f16); }

double SoftmaxExp(float* s, int64_t n, float mx, Isa isa) { return Table(isa).softmax_exp(s, n, mx); }

void SwiGlu(float* gate, const float* up, int64_t n, Isa isa) { Table(isa).swiglu(gate, up, n); }

}  // namespace llmtk
