/* Quantizes one F32 tensor of a GGUF file with the peer ggml's
 * ggml_quantize_chunk and writes the raw blocks: reference data for the
 * quantizer paths llama-quantize never takes (IQ2_S without an importance
 * matrix, which it refuses).
 *   cc -O2 -I ~/peers/llama.cpp/ggml/include scripts/reference/ggml_quantize_rows.c \
 *      -L ~/peers/llama.cpp/build/bin -lggml-base -Wl,-rpath,$HOME/peers/llama.cpp/build/bin -o gq
 *   ./gq IN.gguf TENSOR TYPE_ID OUT.bin
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml.h"
#include "gguf.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s IN.gguf TENSOR TYPE_ID OUT.bin\n", argv[0]);
    return 2;
  }
  struct ggml_context* ctx = NULL;
  struct gguf_init_params params = {.no_alloc = false, .ctx = &ctx};
  struct gguf_context* g = gguf_init_from_file(argv[1], params);
  if (!g) return 1;
  struct ggml_tensor* t = ggml_get_tensor(ctx, argv[2]);
  if (!t || t->type != GGML_TYPE_F32) return 1;
  const enum ggml_type type = (enum ggml_type)atoi(argv[3]);
  const int64_t n_per_row = t->ne[0], rows = ggml_nrows(t);
  void* out = malloc(ggml_row_size(type, n_per_row) * rows);
  const size_t bytes = ggml_quantize_chunk(type, t->data, out, 0, rows, n_per_row, NULL);
  FILE* f = fopen(argv[4], "wb");
  if (!f || fwrite(out, 1, bytes, f) != bytes) return 1;
  fclose(f);
  return 0;
}
