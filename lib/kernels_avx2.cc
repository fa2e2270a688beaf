// AVX2 kernels. Compiled with target attributes so a portable build still
// contains them; dispatch (kernels.cc) only calls them on CPUs that have
// AVX2+FMA+F16C. Each returns exactly what its scalar reference returns:
// integer block sums are exact, and float accumulation follows the same order.
#include "lib/kernels_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cmath>
#include <cstring>

#define LLMTK_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace llmtk::kernels_internal {
namespace {

LLMTK_AVX2 inline int HsumI32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// The canonical reduction of 16 partial sums held as lanes 0-7 and 8-15.
LLMTK_AVX2 inline float ReduceCanonical(__m256 lo, __m256 hi) {
  const __m256 r8 = _mm256_add_ps(lo, hi);
  const __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  const __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  return _mm_cvtss_f32(_mm_add_ss(r2, _mm_shuffle_ps(r2, r2, 1)));
}

LLMTK_AVX2 inline __m256 LoadF16x8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
LLMTK_AVX2 inline __m256 LoadBF16x8(const uint16_t* p) {
  const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

LLMTK_AVX2 float DotF32(int64_t n, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    lo = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), lo);
    hi = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), hi);
  }
  float s = ReduceCanonical(lo, hi);
  for (; i < n; ++i) s = std::fma(x[i], y[i], s);
  return s;
}

LLMTK_AVX2 float DotF16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    lo = _mm256_fmadd_ps(LoadF16x8(x + i), LoadF16x8(y + i), lo);
    hi = _mm256_fmadd_ps(LoadF16x8(x + i + 8), LoadF16x8(y + i + 8), hi);
  }
  float s = ReduceCanonical(lo, hi);
  for (; i < n; ++i) s = std::fma(_cvtsh_ss(x[i]), _cvtsh_ss(y[i]), s);
  return s;
}

LLMTK_AVX2 float DotBF16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const uint16_t*>(a);
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    lo = _mm256_fmadd_ps(LoadBF16x8(x + i), LoadBF16x8(y + i), lo);
    hi = _mm256_fmadd_ps(LoadBF16x8(x + i + 8), LoadBF16x8(y + i + 8), hi);
  }
  float s = ReduceCanonical(lo, hi);
  for (; i < n; ++i) s = std::fma(Bf16ToFp32(x[i]), Bf16ToFp32(y[i]), s);
  return s;
}

// Sum of signed-int8 products over 32 lanes, as 8 int32 lanes.
LLMTK_AVX2 inline __m256i MulSumI8(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}
// Sum of unsigned-int8 (< 128) times signed-int8 products, as 8 int32 lanes.
LLMTK_AVX2 inline __m256i MulSumU8(__m256i ux, __m256i y) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ux, y), _mm256_set1_epi16(1));
}

// 16 packed bytes -> 32 nibbles: low nibbles in bytes 0-15, high in 16-31.
LLMTK_AVX2 inline __m256i Nibbles32(const uint8_t* p) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, 0xFF where the bit is set.
LLMTK_AVX2 inline __m256i BitsToBytes(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                         0x0101010101010101, 0x0000000000000000);
  __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
  bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
  return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

LLMTK_AVX2 inline __m256i LoadY(const int8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

LLMTK_AVX2 float DotQ8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    const int sumi = HsumI32(MulSumI8(LoadY(x[b].qs), LoadY(y[b].qs)));
    s = std::fma(static_cast<float>(sumi), _cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), s);
  }
  return s;
}

LLMTK_AVX2 float DotQ4_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    const __m256i q = _mm256_sub_epi8(Nibbles32(x[b].qs), _mm256_set1_epi8(8));
    const int sumi = HsumI32(MulSumI8(q, LoadY(y[b].qs)));
    s = std::fma(static_cast<float>(sumi), _cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), s);
  }
  return s;
}

LLMTK_AVX2 float DotQ4_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    const int sumi = HsumI32(MulSumU8(Nibbles32(x[b].qs), LoadY(y[b].qs)));
    s = std::fma(static_cast<float>(sumi), _cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), s);
    s = std::fma(_cvtsh_ss(x[b].m), _cvtsh_ss(y[b].s), s);
  }
  return s;
}

LLMTK_AVX2 float DotQ5_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    const __m256i hi = _mm256_and_si256(BitsToBytes(x[b].qh), _mm256_set1_epi8(0x10));
    const __m256i q = _mm256_sub_epi8(_mm256_or_si256(Nibbles32(x[b].qs), hi), _mm256_set1_epi8(16));
    const int sumi = HsumI32(MulSumI8(q, LoadY(y[b].qs)));
    s = std::fma(static_cast<float>(sumi), _cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), s);
  }
  return s;
}

LLMTK_AVX2 float DotQ5_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    const __m256i hi = _mm256_and_si256(BitsToBytes(x[b].qh), _mm256_set1_epi8(0x10));
    const __m256i q = _mm256_or_si256(Nibbles32(x[b].qs), hi);
    const int sumi = HsumI32(MulSumU8(q, LoadY(y[b].qs)));
    s = std::fma(static_cast<float>(sumi), _cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), s);
    s = std::fma(_cvtsh_ss(x[b].m), _cvtsh_ss(y[b].s), s);
  }
  return s;
}

LLMTK_AVX2 float DotIQ4NL(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4NL*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const __m128i table128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIQ4NLValues));
  const __m256i table = _mm256_set_m128i(table128, table128);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    const __m256i q = _mm256_shuffle_epi8(table, Nibbles32(x[b].qs));
    const int sumi = HsumI32(MulSumI8(q, LoadY(y[b].qs)));
    s = std::fma(static_cast<float>(sumi), _cvtsh_ss(x[b].d) * _cvtsh_ss(y[b].d), s);
  }
  return s;
}

// Scale vector for two consecutive 16-element groups: int16 lanes 0-7 get
// `a` (the first 16 bytes' pair sums), lanes 8-15 get `b`.
LLMTK_AVX2 inline __m256i Scales2(int a, int b) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(b)), _mm_set1_epi16(static_cast<int16_t>(a)));
}
// sum over lanes of scale * (ux . y) for 32 unsigned values against 32 int8.
LLMTK_AVX2 inline __m256i ScaledDot(__m256i ux, __m256i y, __m256i scales16) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ux, y), scales16);
}

LLMTK_AVX2 float DotQ2K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3);
  float s = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    int msum = 0;
    for (int j = 0; j < 16; ++j) msum += y[b].bsums[j] * (x[b].scales[j] >> 4);
    __m256i acc = _mm256_setzero_si256();
    const int8_t* q8 = y[b].qs;
    for (int half = 0; half < 2; ++half) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * half));
      for (int shift = 0; shift < 8; shift += 2, q8 += 32) {
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(raw, shift), m3);
        const uint8_t* sc = x[b].scales + half * 8 + shift;
        acc = _mm256_add_epi32(acc, ScaledDot(q, LoadY(q8), Scales2(sc[0] & 0xF, sc[1] & 0xF)));
      }
    }
    const float dall = y[b].d * _cvtsh_ss(x[b].d);
    const float dmin = y[b].d * _cvtsh_ss(x[b].dmin);
    s = std::fma(dall, static_cast<float>(HsumI32(acc)), s);
    s = std::fma(-dmin, static_cast<float>(msum), s);
  }
  return s;
}

LLMTK_AVX2 float DotQ3K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
  float s = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    int8_t sc[16];
    UnpackQ3KScales(x[b].scales, sc);
    // v = (low2 | high<<2) - 4, so dot = sum(u*y) - 4*bsum per group.
    int corr = 0;
    for (int g = 0; g < 16; ++g) corr += sc[g] * y[b].bsums[g];
    const __m256i hm = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].hmask));
    __m256i acc = _mm256_setzero_si256();
    const int8_t* q8 = y[b].qs;
    int pass = 0;
    for (int half = 0; half < 2; ++half) {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs + 32 * half));
      for (int shift = 0; shift < 8; shift += 2, ++pass, q8 += 32) {
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(raw, shift), m3);
        const __m256i h = _mm256_and_si256(_mm256_srli_epi16(hm, pass), one);
        const __m256i u = _mm256_or_si256(lo, _mm256_slli_epi16(h, 2));
        acc = _mm256_add_epi32(acc, ScaledDot(u, LoadY(q8), Scales2(sc[2 * pass], sc[2 * pass + 1])));
      }
    }
    const int isum = HsumI32(acc) - 4 * corr;
    s = std::fma(_cvtsh_ss(x[b].d) * y[b].d, static_cast<float>(isum), s);
  }
  return s;
}

template <bool kFive>
LLMTK_AVX2 float DotQ45K(int64_t n, const void* w, const void* a) {
  const auto* y = static_cast<const BlockQ8K*>(a);
  const size_t bytes = kFive ? sizeof(BlockQ5K) : sizeof(BlockQ4K);
  const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
  float s = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    const uint8_t* blk = static_cast<const uint8_t*>(w) + b * bytes;
    const auto* x4 = reinterpret_cast<const BlockQ4K*>(blk);
    const auto* x5 = reinterpret_cast<const BlockQ5K*>(blk);
    const uint8_t* scales = kFive ? x5->scales : x4->scales;
    const uint8_t* qs = kFive ? x5->qs : x4->qs;
    __m256i qh;
    if constexpr (kFive) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x5->qh));
    __m256i acc = _mm256_setzero_si256();
    int msum = 0;
    for (int j = 0; j < 8; j += 2) {
      uint8_t sc0, mn0, sc1, mn1;
      ScaleMinK4(j, scales, &sc0, &mn0);
      ScaleMinK4(j + 1, scales, &sc1, &mn1);
      msum += mn0 * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
      msum += mn1 * (y[b].bsums[2 * j + 2] + y[b].bsums[2 * j + 3]);
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 16 * j));
      __m256i q0 = _mm256_and_si256(raw, m4);
      __m256i q1 = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      if constexpr (kFive) {
        q0 = _mm256_or_si256(q0, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, j), one), 4));
        q1 = _mm256_or_si256(q1, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, j + 1), one), 4));
      }
      acc = _mm256_add_epi32(acc, ScaledDot(q0, LoadY(y[b].qs + 32 * j), _mm256_set1_epi16(sc0)));
      acc = _mm256_add_epi32(acc, ScaledDot(q1, LoadY(y[b].qs + 32 * j + 32), _mm256_set1_epi16(sc1)));
    }
    const uint16_t d = kFive ? x5->d : x4->d, dmin = kFive ? x5->dmin : x4->dmin;
    s = std::fma(y[b].d * _cvtsh_ss(d), static_cast<float>(HsumI32(acc)), s);
    s = std::fma(-(y[b].d * _cvtsh_ss(dmin)), static_cast<float>(msum), s);
  }
  return s;
}

LLMTK_AVX2 float DotQ6K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
  float s = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    int corr = 0;  // values are u - 32
    for (int g = 0; g < 16; ++g) corr += x[b].scales[g] * y[b].bsums[g];
    __m256i acc = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x[b].ql + 64 * half;
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qh + 32 * half));
      const __m256i u[4] = {
          _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30)),
          _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                          _mm256_and_si256(_mm256_srli_epi16(h, 2), m30)),
      };
      const int8_t* sc = x[b].scales + 8 * half;
      const int8_t* q8 = y[b].qs + 128 * half;
      for (int k = 0; k < 4; ++k)
        acc = _mm256_add_epi32(acc, ScaledDot(u[k], LoadY(q8 + 32 * k), Scales2(sc[2 * k], sc[2 * k + 1])));
    }
    const int isum = HsumI32(acc) - 32 * corr;
    s = std::fma(_cvtsh_ss(x[b].d) * y[b].d, static_cast<float>(isum), s);
  }
  return s;
}

LLMTK_AVX2 void QuantizeF16(const float* x, int64_t n, void* out) {
  auto* y = static_cast<uint16_t*>(out);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}

KernelTable MakeTable() {
  KernelTable t;
  auto set = [&](DType w, VecDotFn f) { t.vec_dot[static_cast<int>(w)] = f; };
  set(DType::kF32, DotF32);
  set(DType::kF16, DotF16);
  set(DType::kBF16, DotBF16);
  set(DType::kQ8_0, DotQ8_0);
  set(DType::kQ4_0, DotQ4_0);
  set(DType::kQ4_1, DotQ4_1);
  set(DType::kQ5_0, DotQ5_0);
  set(DType::kQ5_1, DotQ5_1);
  set(DType::kIQ4_NL, DotIQ4NL);
  set(DType::kQ2_K, DotQ2K);
  set(DType::kQ3_K, DotQ3K);
  set(DType::kQ4_K, DotQ45K<false>);
  set(DType::kQ5_K, DotQ45K<true>);
  set(DType::kQ6_K, DotQ6K);
  t.quantize[static_cast<int>(DType::kF16)] = QuantizeF16;
  return t;
}

}  // namespace

const KernelTable& Avx2Table() {
  static const KernelTable table = MakeTable();
  return table;
}

}  // namespace llmtk::kernels_internal

#else  // not x86-64

namespace llmtk::kernels_internal {
const KernelTable& Avx2Table() {
  static const KernelTable table;
  return table;
}
}  // namespace llmtk::kernels_internal

#endif
