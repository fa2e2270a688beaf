// Scalar reference kernels: activation encoders, dot products, row decoders.
// These define the results; the SIMD variants must match them bit for bit.
#include <cmath>
#include <cstring>

#include "lib/kernels.h"
#include "lib/kernels_internal.h"

namespace llmtk {

namespace kernels_internal {
namespace {

inline float H(uint16_t h) { return Fp16ToFp32(h); }

// ---- activation encoders ----

void QuantizeF32(const float* x, int64_t n, void* out) { std::memcpy(out, x, n * 4); }

void QuantizeF16(const float* x, int64_t n, void* out) {
  auto* y = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}

void QuantizeBF16(const float* x, int64_t n, void* out) {
  auto* y = static_cast<uint16_t*>(out);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToBf16(x[i]);
}

// Q8_0/Q8_1 follow ggml's x86 encoders: scale 127/amax, round half to even.
template <typename Block>
void QuantizeQ8Legacy(const float* x, int64_t n, void* out, bool with_sum) {
  auto* y = static_cast<Block*>(out);
  for (int64_t b = 0; b < n / QK; ++b, x += QK) {
    float amax = 0;
    for (int j = 0; j < QK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = amax != 0.f ? 127.f / amax : 0.f;
    int sum = 0;
    for (int j = 0; j < QK; ++j) {
      const int q = static_cast<int>(std::nearbyint(x[j] * id));
      y[b].qs[j] = static_cast<int8_t>(q);
      sum += q;
    }
    y[b].d = Fp32ToFp16(d);
    if constexpr (sizeof(Block) == sizeof(BlockQ8_1)) {
      if (with_sum) reinterpret_cast<BlockQ8_1*>(&y[b])->s = Fp32ToFp16(d * static_cast<float>(sum));
    }
  }
}

void QuantizeQ8_0(const float* x, int64_t n, void* out) { QuantizeQ8Legacy<BlockQ8_0>(x, n, out, false); }
void QuantizeQ8_1(const float* x, int64_t n, void* out) { QuantizeQ8Legacy<BlockQ8_1>(x, n, out, true); }

void QuantizeQ8K(const float* x, int64_t n, void* out) {
  auto* y = static_cast<BlockQ8K*>(out);
  for (int64_t b = 0; b < n / QKK; ++b, x += QKK) {
    float max = 0, amax = 0;
    for (int j = 0; j < QKK; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.f) {
      std::memset(&y[b], 0, sizeof(BlockQ8K));
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < QKK; ++j) {
      const int v = static_cast<int>(std::nearbyint(iscale * x[j]));
      y[b].qs[j] = static_cast<int8_t>(v > 127 ? 127 : v);
    }
    for (int g = 0; g < QKK / 16; ++g) {
      int s = 0;
      for (int j = 0; j < 16; ++j) s += y[b].qs[g * 16 + j];
      y[b].bsums[g] = static_cast<int16_t>(s);
    }
    y[b].d = 1.f / iscale;
  }
}

// ---- float dot products ----

template <float (*Load)(const void*, int64_t)>
float DotCanonical(int64_t n, const void* w, const void* a) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; ++l) acc[l] = std::fma(Load(w, i + l), Load(a, i + l), acc[l]);
  float s = ReduceCanonical16(acc);
  for (; i < n; ++i) s = std::fma(Load(w, i), Load(a, i), s);
  return s;
}
float LoadF32(const void* p, int64_t i) { return static_cast<const float*>(p)[i]; }
float LoadF16(const void* p, int64_t i) { return H(static_cast<const uint16_t*>(p)[i]); }
float LoadBF16(const void* p, int64_t i) { return Bf16ToFp32(static_cast<const uint16_t*>(p)[i]); }

// ---- legacy quant dot products (activations Q8_0 / Q8_1) ----

float DotQ8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK; ++j) sumi += x[b].qs[j] * y[b].qs[j];
    s = std::fma(static_cast<float>(sumi), H(x[b].d) * H(y[b].d), s);
  }
  return s;
}

float DotQ4_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK / 2; ++j) {
      sumi += ((x[b].qs[j] & 0xF) - 8) * y[b].qs[j];
      sumi += ((x[b].qs[j] >> 4) - 8) * y[b].qs[j + QK / 2];
    }
    s = std::fma(static_cast<float>(sumi), H(x[b].d) * H(y[b].d), s);
  }
  return s;
}

float DotQ4_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK / 2; ++j) {
      sumi += (x[b].qs[j] & 0xF) * y[b].qs[j];
      sumi += (x[b].qs[j] >> 4) * y[b].qs[j + QK / 2];
    }
    s = std::fma(static_cast<float>(sumi), H(x[b].d) * H(y[b].d), s);
    s = std::fma(H(x[b].m), H(y[b].s), s);
  }
  return s;
}

inline int Q5Value(const uint8_t* qs, const uint8_t* qh4, int j) {
  uint32_t qh;
  std::memcpy(&qh, qh4, 4);
  const int lo = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
  return lo | static_cast<int>((qh >> j) & 1) << 4;
}

float DotQ5_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK; ++j) sumi += (Q5Value(x[b].qs, x[b].qh, j) - 16) * y[b].qs[j];
    s = std::fma(static_cast<float>(sumi), H(x[b].d) * H(y[b].d), s);
  }
  return s;
}

float DotQ5_1(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK; ++j) sumi += Q5Value(x[b].qs, x[b].qh, j) * y[b].qs[j];
    s = std::fma(static_cast<float>(sumi), H(x[b].d) * H(y[b].d), s);
    s = std::fma(H(x[b].m), H(y[b].s), s);
  }
  return s;
}

float DotIQ4NL(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4NL*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QK; ++b) {
    int sumi = 0;
    for (int j = 0; j < QK / 2; ++j) {
      sumi += kIQ4NLValues[x[b].qs[j] & 0xF] * y[b].qs[j];
      sumi += kIQ4NLValues[x[b].qs[j] >> 4] * y[b].qs[j + QK / 2];
    }
    s = std::fma(static_cast<float>(sumi), H(x[b].d) * H(y[b].d), s);
  }
  return s;
}

// ---- K-quant dot products (activations Q8_K) ----
// Per super-block: an exact integer sum of scale * (q . y), an exact integer
// sum of min * bsum, then s += d*isum - dmin*msum in float.

float DotQ2K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    int msum = 0;
    for (int j = 0; j < 16; ++j) msum += y[b].bsums[j] * (x[b].scales[j] >> 4);
    int isum = 0;
    const int8_t* q8 = y[b].qs;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* q2 = x[b].qs + 32 * half;
      for (int shift = 0; shift < 8; shift += 2) {
        for (int g = 0; g < 2; ++g) {
          const int sc = x[b].scales[half * 8 + shift + g] & 0xF;
          int d = 0;
          for (int l = 0; l < 16; ++l) d += q8[l] * ((q2[16 * g + l] >> shift) & 3);
          isum += sc * d;
          q8 += 16;
        }
      }
    }
    const float dall = y[b].d * H(x[b].d);
    const float dmin = y[b].d * H(x[b].dmin);
    s = std::fma(dall, static_cast<float>(isum), s);
    s = std::fma(-dmin, static_cast<float>(msum), s);
  }
  return s;
}

float DotQ3K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    int8_t sc[16];
    UnpackQ3KScales(x[b].scales, sc);
    int isum = 0;
    const int8_t* q8 = y[b].qs;
    int m = 1, is = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* q3 = x[b].qs + 32 * half;
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        for (int g = 0; g < 2; ++g) {
          int d = 0;
          for (int l = 0; l < 16; ++l) {
            const int v = ((q3[16 * g + l] >> shift) & 3) - ((x[b].hmask[16 * g + l] & m) ? 0 : 4);
            d += q8[l] * v;
          }
          isum += sc[is++] * d;
          q8 += 16;
        }
      }
    }
    s = std::fma(H(x[b].d) * y[b].d, static_cast<float>(isum), s);
  }
  return s;
}

float DotQ4K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    int isum = 0, msum = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, mn;
      ScaleMinK4(j, x[b].scales, &sc, &mn);
      const uint8_t* q = x[b].qs + 32 * (j / 2);
      const int8_t* q8 = y[b].qs + 32 * j;
      int d = 0;
      for (int l = 0; l < 32; ++l) d += q8[l] * ((j & 1) ? (q[l] >> 4) : (q[l] & 0xF));
      isum += sc * d;
      msum += mn * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
    }
    s = std::fma(y[b].d * H(x[b].d), static_cast<float>(isum), s);
    s = std::fma(-(y[b].d * H(x[b].dmin)), static_cast<float>(msum), s);
  }
  return s;
}

float DotQ5K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ5K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    int isum = 0, msum = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, mn;
      ScaleMinK4(j, x[b].scales, &sc, &mn);
      const uint8_t* q = x[b].qs + 32 * (j / 2);
      const int8_t* q8 = y[b].qs + 32 * j;
      int d = 0;
      for (int l = 0; l < 32; ++l) {
        const int lo = (j & 1) ? (q[l] >> 4) : (q[l] & 0xF);
        const int hi = (x[b].qh[l] >> j) & 1;
        d += q8[l] * (lo | hi << 4);
      }
      isum += sc * d;
      msum += mn * (y[b].bsums[2 * j] + y[b].bsums[2 * j + 1]);
    }
    s = std::fma(y[b].d * H(x[b].d), static_cast<float>(isum), s);
    s = std::fma(-(y[b].d * H(x[b].dmin)), static_cast<float>(msum), s);
  }
  return s;
}

float DotQ6K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6K*>(w);
  const auto* y = static_cast<const BlockQ8K*>(a);
  float s = 0;
  for (int64_t b = 0; b < n / QKK; ++b) {
    int isum = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x[b].ql + 64 * half;
      const uint8_t* qh = x[b].qh + 32 * half;
      const int8_t* sc = x[b].scales + 8 * half;
      const int8_t* q8 = y[b].qs + 128 * half;
      for (int g = 0; g < 8; ++g) {  // 16-element groups: 4 quarters x 2
        const int quarter = g / 2, l0 = (g & 1) * 16;
        int d = 0;
        for (int l = l0; l < l0 + 16; ++l) {
          const int lo = (quarter & 1) ? ql[l + 32] : ql[l];
          const int low4 = quarter < 2 ? (lo & 0xF) : (lo >> 4);
          const int q = (low4 | ((qh[l] >> (2 * quarter)) & 3) << 4) - 32;
          d += q8[32 * quarter + l] * q;
        }
        isum += sc[(g & 1) + 2 * quarter] * d;
      }
    }
    s = std::fma(H(x[b].d) * y[b].d, static_cast<float>(isum), s);
  }
  return s;
}

KernelTable MakeScalarTable() {
  KernelTable t;
  auto set = [&](DType w, VecDotFn f) { t.vec_dot[static_cast<int>(w)] = f; };
  set(DType::kF32, DotCanonical<LoadF32>);
  set(DType::kF16, DotCanonical<LoadF16>);
  set(DType::kBF16, DotCanonical<LoadBF16>);
  set(DType::kQ8_0, DotQ8_0);
  set(DType::kQ4_0, DotQ4_0);
  set(DType::kQ4_1, DotQ4_1);
  set(DType::kQ5_0, DotQ5_0);
  set(DType::kQ5_1, DotQ5_1);
  set(DType::kIQ4_NL, DotIQ4NL);
  set(DType::kQ2_K, DotQ2K);
  set(DType::kQ3_K, DotQ3K);
  set(DType::kQ4_K, DotQ4K);
  set(DType::kQ5_K, DotQ5K);
  set(DType::kQ6_K, DotQ6K);
  auto q = [&](DType a, QuantizeFn f) { t.quantize[static_cast<int>(a)] = f; };
  q(DType::kF32, QuantizeF32);
  q(DType::kF16, QuantizeF16);
  q(DType::kBF16, QuantizeBF16);
  q(DType::kQ8_0, QuantizeQ8_0);
  q(DType::kQ8_1, QuantizeQ8_1);
  q(DType::kQ8_K, QuantizeQ8K);
  return t;
}

}  // namespace

float ReduceCanonical16(const float acc[16]) {
  float r8[8], r4[4];
  for (int l = 0; l < 8; ++l) r8[l] = acc[l] + acc[l + 8];
  for (int l = 0; l < 4; ++l) r4[l] = r8[l] + r8[l + 4];
  const float r0 = r4[0] + r4[2], r1 = r4[1] + r4[3];
  return r0 + r1;
}

const KernelTable& ScalarTable() {
  static const KernelTable table = MakeScalarTable();
  return table;
}

}  // namespace kernels_internal

// ---- row decoders (embedding lookup) ----

void DequantizeRow(DType t, const void* row, float* out, int64_t n) {
  using namespace kernels_internal;
  auto H = Fp16ToFp32;
  switch (t) {
    case DType::kF32:
      std::memcpy(out, row, n * 4);
      return;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) out[i] = H(static_cast<const uint16_t*>(row)[i]);
      return;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) out[i] = Bf16ToFp32(static_cast<const uint16_t*>(row)[i]);
      return;
    case DType::kQ8_0: {
      const auto* x = static_cast<const BlockQ8_0*>(row);
      for (int64_t b = 0; b < n / QK; ++b)
        for (int j = 0; j < QK; ++j) out[b * QK + j] = x[b].qs[j] * H(x[b].d);
      return;
    }
    case DType::kQ4_0: {
      const auto* x = static_cast<const BlockQ4_0*>(row);
      for (int64_t b = 0; b < n / QK; ++b) {
        const float d = H(x[b].d);
        for (int j = 0; j < 16; ++j) {
          out[b * QK + j] = ((x[b].qs[j] & 0xF) - 8) * d;
          out[b * QK + j + 16] = ((x[b].qs[j] >> 4) - 8) * d;
        }
      }
      return;
    }
    case DType::kQ4_1: {
      const auto* x = static_cast<const BlockQ4_1*>(row);
      for (int64_t b = 0; b < n / QK; ++b) {
        const float d = H(x[b].d), m = H(x[b].m);
        for (int j = 0; j < 16; ++j) {
          out[b * QK + j] = (x[b].qs[j] & 0xF) * d + m;
          out[b * QK + j + 16] = (x[b].qs[j] >> 4) * d + m;
        }
      }
      return;
    }
    case DType::kQ5_0: {
      const auto* x = static_cast<const BlockQ5_0*>(row);
      for (int64_t b = 0; b < n / QK; ++b)
        for (int j = 0; j < QK; ++j) out[b * QK + j] = (Q5Value(x[b].qs, x[b].qh, j) - 16) * H(x[b].d);
      return;
    }
    case DType::kQ5_1: {
      const auto* x = static_cast<const BlockQ5_1*>(row);
      for (int64_t b = 0; b < n / QK; ++b)
        for (int j = 0; j < QK; ++j) out[b * QK + j] = Q5Value(x[b].qs, x[b].qh, j) * H(x[b].d) + H(x[b].m);
      return;
    }
    case DType::kIQ4_NL: {
      const auto* x = static_cast<const BlockIQ4NL*>(row);
      for (int64_t b = 0; b < n / QK; ++b) {
        const float d = H(x[b].d);
        for (int j = 0; j < 16; ++j) {
          out[b * QK + j] = d * kIQ4NLValues[x[b].qs[j] & 0xF];
          out[b * QK + j + 16] = d * kIQ4NLValues[x[b].qs[j] >> 4];
        }
      }
      return;
    }
    case DType::kQ2_K: {
      const auto* x = static_cast<const BlockQ2K*>(row);
      for (int64_t b = 0; b < n / QKK; ++b) {
        const float d = H(x[b].d), dmin = H(x[b].dmin);
        float* o = out + b * QKK;
        int is = 0;
        for (int half = 0; half < 2; ++half) {
          const uint8_t* q = x[b].qs + 32 * half;
          for (int shift = 0; shift < 8; shift += 2)
            for (int g = 0; g < 2; ++g) {
              const uint8_t sc = x[b].scales[is++];
              const float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
              for (int l = 0; l < 16; ++l) *o++ = dl * ((q[16 * g + l] >> shift) & 3) - ml;
            }
        }
      }
      return;
    }
    case DType::kQ3_K: {
      const auto* x = static_cast<const BlockQ3K*>(row);
      for (int64_t b = 0; b < n / QKK; ++b) {
        int8_t sc[16];
        UnpackQ3KScales(x[b].scales, sc);
        const float d = H(x[b].d);
        float* o = out + b * QKK;
        int is = 0, m = 1;
        for (int half = 0; half < 2; ++half) {
          const uint8_t* q = x[b].qs + 32 * half;
          for (int shift = 0; shift < 8; shift += 2, m <<= 1)
            for (int g = 0; g < 2; ++g) {
              const float dl = d * sc[is++];
              for (int l = 0; l < 16; ++l)
                *o++ = dl * (((q[16 * g + l] >> shift) & 3) - ((x[b].hmask[16 * g + l] & m) ? 0 : 4));
            }
        }
      }
      return;
    }
    case DType::kQ4_K:
    case DType::kQ5_K: {
      const bool five = t == DType::kQ5_K;
      const size_t bytes = five ? sizeof(BlockQ5K) : sizeof(BlockQ4K);
      for (int64_t b = 0; b < n / QKK; ++b) {
        const uint8_t* blk = static_cast<const uint8_t*>(row) + b * bytes;
        const auto* x4 = reinterpret_cast<const BlockQ4K*>(blk);
        const auto* x5 = reinterpret_cast<const BlockQ5K*>(blk);
        const float d = H(x4->d), dmin = H(x4->dmin);
        const uint8_t* scales = five ? x5->scales : x4->scales;
        const uint8_t* qs = five ? x5->qs : x4->qs;
        for (int j = 0; j < 8; ++j) {
          uint8_t sc, mn;
          ScaleMinK4(j, scales, &sc, &mn);
          const uint8_t* q = qs + 32 * (j / 2);
          for (int l = 0; l < 32; ++l) {
            int v = (j & 1) ? (q[l] >> 4) : (q[l] & 0xF);
            if (five) v |= ((x5->qh[l] >> j) & 1) << 4;
            out[b * QKK + 32 * j + l] = d * sc * v - dmin * mn;
          }
        }
      }
      return;
    }
    case DType::kQ6_K: {
      const auto* x = static_cast<const BlockQ6K*>(row);
      for (int64_t b = 0; b < n / QKK; ++b) {
        const float d = H(x[b].d);
        for (int half = 0; half < 2; ++half) {
          const uint8_t* ql = x[b].ql + 64 * half;
          const uint8_t* qh = x[b].qh + 32 * half;
          const int8_t* sc = x[b].scales + 8 * half;
          float* o = out + b * QKK + 128 * half;
          for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0xF) | ((qh[l] >> 0) & 3) << 4) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4) - 32;
            const int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
            const int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
            o[l] = d * sc[is] * q1;
            o[l + 32] = d * sc[is + 2] * q2;
            o[l + 64] = d * sc[is + 4] * q3;
            o[l + 96] = d * sc[is + 6] * q4;
          }
        }
      }
      return;
    }
    default:
      for (int64_t i = 0; i < n; ++i) out[i] = 0;  // unreachable: callers check KernelSupports
  }
}

}  // namespace llmtk
