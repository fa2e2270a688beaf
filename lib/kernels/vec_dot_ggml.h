// kernels/vec_dot_ggml: the AVX2 and AVX-512 forms of VecDotGgml's float
// products (kernels/vec_dot_ggml_x86.cc), which kernels/vec_dot_ggml.cc
// dispatches to. Not part of the library's API.
//
// Thread-safety: pure functions.
#ifndef LLMTK_LIB_KERNELS_VEC_DOT_GGML_H_
#define LLMTK_LIB_KERNELS_VEC_DOT_GGML_H_

#include <cstdint>

namespace llmtk::kernels_internal {

// ggml_vec_dot_f32 / ggml_vec_dot_f16 in their AVX-512 order, each equal
// bit for bit to the scalar reference (DotFloatSteps in vec_dot_ggml.cc).
// Null where the build is not for x86-64.
using GgmlDotFn = float (*)(int64_t n, const void* w, const void* a);
GgmlDotFn GgmlDotF32Avx512();
GgmlDotFn GgmlDotF16Avx512();
GgmlDotFn GgmlDotF32Avx2();
GgmlDotFn GgmlDotF16Avx2();

}  // namespace llmtk::kernels_internal

#endif  // LLMTK_LIB_KERNELS_VEC_DOT_GGML_H_
