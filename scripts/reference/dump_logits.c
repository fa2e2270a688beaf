// Prints llama.cpp's logits for every position of a token sequence, in the
// format of testdata/run/logits-*.txt.zst ("# tokens: ...", "# n_vocab: N",
// one row of %g logits per position). CPU, one thread, one batch.
// Build against the peer llama.cpp (../shared/peers/README.md):
//   L=~/peers/llama.cpp; gcc -O2 -o dump_logits scripts/reference/dump_logits.c \
//     -I$L/include -I$L/ggml/include -L$L/build/bin -lllama -Wl,-rpath,$L/build/bin
// Usage: dump_logits MODEL.gguf TOKEN_ID...
#include <stdio.h>
#include <stdlib.h>

#include "llama.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.gguf TOKEN_ID...\n", argv[0]);
    return 2;
  }
  const int n = argc - 2;
  llama_backend_init();
  struct llama_model_params mp = llama_model_default_params();
  struct llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (!model) return 1;
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = n < 512 ? 512 : n;
  cp.n_batch = cp.n_ctx;
  cp.n_ubatch = cp.n_ctx;
  cp.n_threads = 1;
  cp.n_threads_batch = 1;
  struct llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) return 1;
  struct llama_batch batch = llama_batch_init(n, 0, 1);
  for (int i = 0; i < n; ++i) {
    batch.token[i] = atoi(argv[2 + i]);
    batch.pos[i] = i;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = 0;
    batch.logits[i] = 1;
  }
  batch.n_tokens = n;
  if (llama_decode(ctx, batch) != 0) return 1;
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  printf("# tokens:");
  for (int i = 0; i < n; ++i) printf(" %s", argv[2 + i]);
  printf("\n# n_vocab: %d\n", n_vocab);
  for (int i = 0; i < n; ++i) {
    const float* l = llama_get_logits_ith(ctx, i);
    for (int j = 0; j < n_vocab; ++j) printf(j ? " %g" : "%g", l[j]);
    printf("\n");
  }
  llama_batch_free(batch);
  llama_free(ctx);
  llama_model_free(model);
  return 0;
}
