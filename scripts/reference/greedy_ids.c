// Prints the ids llama.cpp generates greedily after a prompt of token ids:
// the prompt in one batch, then one token per decode (as llama-cli and
// llmtk-run generate), argmax of each step's logits. CPU, one thread.
// Build against the peer llama.cpp as dump_logits.c:
//   L=~/peers/llama.cpp; gcc -O2 -o greedy_ids scripts/reference/greedy_ids.c \
//     -I$L/include -I$L/ggml/include -L$L/build/bin -lllama -Wl,-rpath,$L/build/bin
// Usage: greedy_ids MODEL.gguf N TOKEN_ID...
#include <stdio.h>
#include <stdlib.h>

#include "llama.h"

static int argmax(const float* l, int n) {
  int best = 0;
  for (int j = 1; j < n; ++j) {
    if (l[j] > l[best]) best = j;
  }
  return best;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODEL.gguf N TOKEN_ID...\n", argv[0]);
    return 2;
  }
  const int n_gen = atoi(argv[2]), n_prompt = argc - 3;
  llama_backend_init();
  struct llama_model* model = llama_model_load_from_file(argv[1], llama_model_default_params());
  if (!model) return 1;
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 512;
  cp.n_threads = 1;
  cp.n_threads_batch = 1;
  struct llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) return 1;
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  llama_token* prompt = malloc(sizeof(llama_token) * n_prompt);
  for (int i = 0; i < n_prompt; ++i) prompt[i] = atoi(argv[3 + i]);
  if (llama_decode(ctx, llama_batch_get_one(prompt, n_prompt)) != 0) return 1;
  for (int i = 0; i < n_gen; ++i) {
    llama_token next = argmax(llama_get_logits_ith(ctx, -1), n_vocab);
    printf(i ? " %d" : "%d", next);
    if (llama_decode(ctx, llama_batch_get_one(&next, 1)) != 0) return 1;
  }
  printf("\n");
  llama_free(ctx);
  llama_model_free(model);
  free(prompt);
  return 0;
}
