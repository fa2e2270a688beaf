// kernels/avx512_load: AVX-512 load and transpose helpers shared by the
// sixteen-row kernels (kernels/avx512_q4_0.cc, avx512_q4_k.cc,
// avx512_q4_k_pp.cc, avx512_q8_0.cc). Include only from files compiled for
// x86-64; every function is inline and carries its own target attribute.
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_KERNELS_AVX512_LOAD_H_
#define LLMTK_LIB_KERNELS_AVX512_LOAD_H_

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#define LLMTK_AVX512_LOAD __attribute__((target("avx512f,avx512bw,avx512vl,avx2")))

namespace llmtk::kernels_internal {

// Four rows' 16 bytes from p (rows `stride` apart), row r in 128-bit lane r:
// one load and three masked broadcasts (a load and a blend each, where
// inserts would each take a shuffle).
LLMTK_AVX512_LOAD inline __m512i Four(const uint8_t* p, size_t stride) {
  auto ld = [](const uint8_t* q) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(q)); };
  __m512i a = _mm512_broadcast_i32x4(ld(p));
  a = _mm512_mask_broadcast_i32x4(a, 0x00F0, ld(p + stride));
  a = _mm512_mask_broadcast_i32x4(a, 0x0F00, ld(p + 2 * stride));
  return _mm512_mask_broadcast_i32x4(a, 0xF000, ld(p + 3 * stride));
}

// 16 bytes from memory in every 128-bit lane.
LLMTK_AVX512_LOAD inline __m512i Bcast16(const void* p) {
  return _mm512_broadcast_i32x4(_mm_loadu_si128(static_cast<const __m128i*>(p)));
}

// A 32-bit value from memory in every lane (a load, not a move from a
// general register, which is what GCC makes of _mm512_set1_epi32 on a value
// it has already loaded).
LLMTK_AVX512_LOAD inline __m512i Bcast32(const void* p) {
  return _mm512_castps_si512(_mm512_broadcastss_ps(_mm_load_ss(static_cast<const float*>(p))));
}

// Four registers' 4x4 transposes of 32-bit words within each 128-bit lane:
// out[j] lane 4q + i = in[i] word 4q + j. After Four() of rows i, 4 + i,
// 8 + i, 12 + i into in[i], lane L of every out[j] holds row L.
LLMTK_AVX512_LOAD inline void Transpose4(const __m512i in[4], __m512i out[4]) {
  const __m512i u0 = _mm512_unpacklo_epi32(in[0], in[1]), u1 = _mm512_unpackhi_epi32(in[0], in[1]);
  const __m512i u2 = _mm512_unpacklo_epi32(in[2], in[3]), u3 = _mm512_unpackhi_epi32(in[2], in[3]);
  out[0] = _mm512_unpacklo_epi64(u0, u2);
  out[1] = _mm512_unpackhi_epi64(u0, u2);
  out[2] = _mm512_unpacklo_epi64(u1, u3);
  out[3] = _mm512_unpackhi_epi64(u1, u3);
}

}  // namespace llmtk::kernels_internal

#endif  // LLMTK_LIB_KERNELS_AVX512_LOAD_H_
