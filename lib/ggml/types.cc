#include "lib/ggml/types.h"

#include <array>
#include <limits>

#if defined(__F16C__) && defined(__AVX2__)
#include <immintrin.h>
#endif

namespace llmtk {
namespace {

using T = GgmlType;

// ggml's type_traits table, restricted to the ids GGUF files may hold.
constexpr GgmlTypeInfo kInfos[] = {
    {T::kF32, "f32", 1, 4, false},
    {T::kF16, "f16", 1, 2, false},
    {T::kQ4_0, "q4_0", 32, 18, true},
    {T::kQ4_1, "q4_1", 32, 20, true},
    {T::kQ5_0, "q5_0", 32, 22, true},
    {T::kQ5_1, "q5_1", 32, 24, true},
    {T::kQ8_0, "q8_0", 32, 34, true},
    {T::kQ8_1, "q8_1", 32, 36, true},
    {T::kQ2_K, "q2_K", 256, 84, true},
    {T::kQ3_K, "q3_K", 256, 110, true},
    {T::kQ4_K, "q4_K", 256, 144, true},
    {T::kQ5_K, "q5_K", 256, 176, true},
    {T::kQ6_K, "q6_K", 256, 210, true},
    {T::kQ8_K, "q8_K", 256, 292, true},
    {T::kIQ2_XXS, "iq2_xxs", 256, 66, true},
    {T::kIQ2_XS, "iq2_xs", 256, 74, true},
    {T::kIQ3_XXS, "iq3_xxs", 256, 98, true},
    {T::kIQ1_S, "iq1_s", 256, 50, true},
    {T::kIQ4_NL, "iq4_nl", 32, 18, true},
    {T::kIQ3_S, "iq3_s", 256, 110, true},
    {T::kIQ2_S, "iq2_s", 256, 82, true},
    {T::kIQ4_XS, "iq4_xs", 256, 136, true},
    {T::kI8, "i8", 1, 1, false},
    {T::kI16, "i16", 1, 2, false},
    {T::kI32, "i32", 1, 4, false},
    {T::kI64, "i64", 1, 8, false},
    {T::kF64, "f64", 1, 8, false},
    {T::kIQ1_M, "iq1_m", 256, 56, true},
    {T::kBF16, "bf16", 1, 2, false},
    {T::kTQ1_0, "tq1_0", 256, 54, true},
    {T::kTQ2_0, "tq2_0", 256, 66, true},
    {T::kMXFP4, "mxfp4", 32, 17, true},
    {T::kNVFP4, "nvfp4", 64, 36, true},
    {T::kQ1_0, "q1_0", 128, 18, true},
};

// id -> index into kInfos, -1 for unassigned ids.
constexpr std::array<int, kGgmlTypeIdLimit> BuildIndex() {
  std::array<int, kGgmlTypeIdLimit> index{};
  for (auto& i : index) i = -1;
  for (size_t i = 0; i < std::size(kInfos); ++i) index[static_cast<uint32_t>(kInfos[i].type)] = static_cast<int>(i);
  return index;
}
constexpr std::array<int, kGgmlTypeIdLimit> kIndex = BuildIndex();

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

std::optional<GgmlTypeInfo> GetGgmlTypeInfo(uint32_t id) {
  if (id >= kGgmlTypeIdLimit || kIndex[id] < 0) return std::nullopt;
  return kInfos[kIndex[id]];
}

const GgmlTypeInfo& TypeInfo(GgmlType type) {
  const uint32_t id = static_cast<uint32_t>(type);
  // Only named enum values reach here; anything else is a programming error,
  // answered with f32's row rather than undefined behaviour.
  if (id >= kGgmlTypeIdLimit || kIndex[id] < 0) return kInfos[0];
  return kInfos[kIndex[id]];
}

std::optional<GgmlType> ParseGgmlType(std::string_view name) {
  for (const auto& info : kInfos) {
    if (info.name.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < name.size() && eq; ++i) eq = Lower(info.name[i]) == Lower(name[i]);
    if (eq) return info.type;
  }
  return std::nullopt;
}

std::optional<size_t> GgmlRowSize(GgmlType type, int64_t n) {
  const GgmlTypeInfo& info = TypeInfo(type);
  if (n < 0 || n % info.block_size != 0) return std::nullopt;
  const uint64_t blocks = static_cast<uint64_t>(n / info.block_size);
  if (blocks > std::numeric_limits<size_t>::max() / info.type_size) return std::nullopt;
  return blocks * info.type_size;
}

void Fp16ToFp32Row(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__) && defined(__AVX2__)
  // Widening is exact in hardware too (NaN payloads included).
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  }
#endif
  for (; i < n; ++i) y[i] = Fp16ToFp32(x[i]);
}

void Fp32ToFp16Row(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__) && defined(__AVX2__)
  // Hardware rounding equals ours except for NaN payloads, so blocks holding
  // a NaN take the scalar path.
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)) != 0) {
      for (int j = 0; j < 8; ++j) y[i + j] = Fp32ToFp16(x[i + j]);
      continue;
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
#endif
  for (; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}

void Bf16ToFp32Row(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Bf16ToFp32(x[i]);
}

void Fp32ToBf16Row(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToBf16(x[i]);
}

}  // namespace llmtk
