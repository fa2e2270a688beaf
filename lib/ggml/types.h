// ggml/types: the ggml tensor element types as GGUF files store them.
//
// GgmlType carries ggml's numeric ids (they are the on-disk GGUF values, so
// they never change); GgmlTypeInfo gives each type's name, block size and
// bytes per block. The Block* structs lay out the quantized blocks byte for
// byte as ggml-common.h does (all fields little-endian; fp16 scales kept as
// raw uint16_t bits). Fp16/Bf16 conversions reproduce ggml's scalar
// conversions bit for bit (round to nearest even; NaN handling as ggml).
//
// Thread-safety: stateless; safe from any thread.
#ifndef LLMTK_LIB_GGML_TYPES_H_
#define LLMTK_LIB_GGML_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

namespace llmtk {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  // 4 and 5 (Q4_2, Q4_3) were removed from ggml.
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  // 31..33 (Q4_0_4_4, Q4_0_4_8, Q4_0_8_8) were removed from GGUF files.
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  // 36..38 (IQ4_NL_4_4, ...) were removed from GGUF files.
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
};

// One past the largest id; ids below it may still be unassigned (see above).
inline constexpr uint32_t kGgmlTypeIdLimit = 42;

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;   // ggml_type_name(): "f32", "q4_K", "iq4_nl", ...
  int64_t block_size;      // elements per block (1 for plain types)
  size_t type_size;        // bytes per block
  bool quantized;          // ggml_is_quantized()
};

// Info for a numeric id, or nullopt when the id is not a (current) ggml type.
std::optional<GgmlTypeInfo> GetGgmlTypeInfo(uint32_t id);
// Info for a valid GgmlType value (the enum's named values).
const GgmlTypeInfo& TypeInfo(GgmlType type);
inline std::string_view GgmlTypeName(GgmlType type) { return TypeInfo(type).name; }
// Parses a type name case-insensitively ("q4_k", "Q4_K", "bf16").
std::optional<GgmlType> ParseGgmlType(std::string_view name);

// Bytes of a row of `n` elements; nullopt when n is not a multiple of the
// block size or the byte count overflows.
std::optional<size_t> GgmlRowSize(GgmlType type, int64_t n);

// ---- block layouts (ggml-common.h) ----
inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK4_NL = 32;
inline constexpr int kQK_K = 256;
inline constexpr int kKScaleSize = 12;

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK4_0 / 2];
};
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK4_1 / 2];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK5_0 / 2];
};
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK8_0];
};
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;  // d * sum(qs)
  int8_t qs[kQK8_1];
};
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];  // 4-bit scale | 4-bit min << 4
  uint8_t qs[kQK_K / 4];
  uint16_t d;
  uint16_t dmin;
};
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];  // 16 6-bit scales
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];  // 8 6-bit scales and 8 6-bit mins
  uint8_t qs[kQK_K / 2];
};
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[kQK4_NL / 2];
};
// 8 blocks of 32 IQ4_NL levels, each block's 6-bit scale (offset by 32)
// split into 4 low bits (scales_l) and 2 high bits (scales_h).
// 8 blocks of 32: per block four 8-value grid indices (bytes of qs[4b],
// qs[4b+1]), four 7-bit sign groups and a 4-bit scale (the uint32 at qs[4b+2]).
struct BlockIQ2_XXS {
  uint16_t d;
  uint16_t qs[kQK_K / 8];
};
// 8 blocks of 32: 64 grid indices (4 values each), then per block a uint32
// of four 7-bit sign groups and a 4-bit scale.
struct BlockIQ3_XXS {
  uint16_t d;
  uint8_t qs[3 * kQK_K / 8];
};
// IQ1_S: 8 blocks of 32, each four 11-bit grid indices (low bytes in qs,
// high 3 bits in qh bits 0..11), a 3-bit scale (bits 12..14) and the
// shift's sign (bit 15).
struct BlockIQ1_S {
  uint16_t d;
  uint8_t qs[kQK_K / 8];
  uint16_t qh[kQK_K / 32];
};
// IQ1_M: 16 blocks of 16, each two 11-bit grid indices (high bits and a
// shift sign per 8 values in a qh nibble) and a 3-bit scale (12 per uint16
// of scales); the fp16 super-block scale is spread over the top nibbles of
// the four uint16 in scales.
struct BlockIQ1_M {
  uint8_t qs[kQK_K / 8];
  uint8_t qh[kQK_K / 16];
  uint8_t scales[kQK_K / 32];
};
// 8 blocks of 32: 64 grid indices' low bytes, their 9th bits (qh, one byte
// per block), 8 free signs per 8 values, and two 4-bit scales per byte.
struct BlockIQ3_S {
  uint16_t d;
  uint8_t qs[kQK_K / 4];
  uint8_t qh[kQK_K / 32];
  uint8_t signs[kQK_K / 8];
  uint8_t scales[kQK_K / 64];
};
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[kQK_K / 64];
  uint8_t qs[kQK_K / 2];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockIQ4_XS) == 136);
static_assert(sizeof(BlockIQ2_XXS) == 66);
static_assert(sizeof(BlockIQ3_XXS) == 98);
static_assert(sizeof(BlockIQ1_S) == 50);
static_assert(sizeof(BlockIQ1_M) == 56);
static_assert(sizeof(BlockIQ3_S) == 110);

// ---- half-precision conversions ----

inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float BitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// IEEE binary16 -> float; exact for every input (NaN payloads kept).
inline float Fp16ToFp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) return BitsFloat(sign | 0x7f800000 | (mant << 13));
  if (exp != 0) return BitsFloat(sign | ((exp + 112) << 23) | (mant << 13));
  // Subnormal or zero: mant * 2^-24 is exact in float.
  const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
  return BitsFloat(sign | FloatBits(v));
}

// float -> binary16, round to nearest even, overflow to infinity; every NaN
// becomes the quiet NaN 0x7e00 with the input's sign, as ggml's scalar
// ggml_compute_fp32_to_fp16 does.
inline uint16_t Fp32ToFp16(float f) {
  uint32_t x = FloatBits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  x &= 0x7fffffff;
  if (x > 0x7f800000) return sign | 0x7e00;
  if (x >= 0x47800000) return sign | 0x7c00;  // >= 65536 (and inf)
  if (x < 0x38800000) {
    // Below the smallest normal half: adding 0.5 puts the value's bits at
    // the half-subnormal scale and lets the FPU do round-to-nearest-even.
    const float r = BitsFloat(x) + 0.5f;
    return sign | static_cast<uint16_t>(FloatBits(r) - 0x3f000000u);
  }
  const uint32_t odd = (x >> 13) & 1;
  x += 0xc8000fffu + odd;  // rebias exponent (-112 << 23) and round
  return sign | static_cast<uint16_t>(x >> 13);
}

inline float Bf16ToFp32(uint16_t h) { return BitsFloat(static_cast<uint32_t>(h) << 16); }

// float -> bfloat16 as ggml_compute_fp32_to_bf16: NaN keeps its top bits and
// is forced quiet; everything else rounds to nearest even (no flushing).
inline uint16_t Fp32ToBf16(float f) {
  const uint32_t u = FloatBits(f);
  if ((u & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((u >> 16) | 64);
  return static_cast<uint16_t>((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

// Row conversions (may use F16C/AVX2 when built with them; results identical).
void Fp16ToFp32Row(const uint16_t* x, float* y, int64_t n);
void Fp32ToFp16Row(const float* x, uint16_t* y, int64_t n);
void Bf16ToFp32Row(const uint16_t* x, float* y, int64_t n);
void Fp32ToBf16Row(const float* x, uint16_t* y, int64_t n);

}  // namespace llmtk

#endif  // LLMTK_LIB_GGML_TYPES_H_
