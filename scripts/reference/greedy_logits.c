// greedy_ids.c's run with every step's logits: for each of the N steps, the
// id chosen and the full logits row it was chosen from, as C99 hex floats
// ("%a"), so a runner can be compared bit for bit step by step (the prompt
// in one batch, then one token per decode; CPU, one thread, n_ctx 512).
// Build as greedy_ids.c; usage: greedy_logits MODEL.gguf N TOKEN_ID...
#include <stdio.h>
#include <stdlib.h>

#include "llama.h"

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
    const float* l = llama_get_logits_ith(ctx, -1);
    llama_token next = 0;
    for (int j = 1; j < n_vocab; ++j)
      if (l[j] > l[next]) next = j;
    printf("%d", next);
    for (int j = 0; j < n_vocab; ++j) printf(" %a", l[j]);
    printf("\n");
    if (llama_decode(ctx, llama_batch_get_one(&next, 1)) != 0) return 1;
  }
  llama_free(ctx);
  llama_model_free(model);
  free(prompt);
  return 0;
}
