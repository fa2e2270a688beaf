// Prints llama.cpp's detokenization (llama_detokenize, remove_special false)
// of each line of token ids on stdin, one line of text per line of ids, with
// \n, \r and \\ escaped so that a document stays on one line. Special tokens
// are spelled out (unparse_special true), or with --skip-special left out,
// as `llmtk-tok decode [--skip-special]`. The reference for decoding with
// GGUF vocabularies (e.g. the bert ones, whose detokenizer cleans spaces
// before punctuation and contractions).
// Build against the peer llama.cpp as dump_logits.c:
//   L=~/peers/llama.cpp; gcc -O2 -o detokenize_ids scripts/reference/detokenize_ids.c \
//     -I$L/include -I$L/ggml/include -L$L/build/bin -lllama -Wl,-rpath,$L/build/bin
// Usage: detokenize_ids VOCAB.gguf [--skip-special] < ids.txt
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static void quiet(enum ggml_log_level level, const char* text, void* user) {
  (void)level;
  (void)text;
  (void)user;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--skip-special") != 0)) {
    fprintf(stderr, "usage: %s VOCAB.gguf [--skip-special] < ids\n", argv[0]);
    return 2;
  }
  const bool unparse_special = argc == 2;
  llama_log_set(quiet, NULL);
  llama_backend_init();
  struct llama_model_params mp = llama_model_default_params();
  mp.vocab_only = true;
  struct llama_model* model = llama_model_load_from_file(argv[1], mp);
  if (!model) return 1;
  const struct llama_vocab* vocab = llama_model_get_vocab(model);
  size_t cap = 1 << 16, line_cap = 1 << 20;
  llama_token* ids = malloc(cap * sizeof(llama_token));
  char* line = malloc(line_cap);
  char* text = NULL;
  ssize_t n;
  while ((n = getline(&line, &line_cap, stdin)) >= 0) {
    size_t count = 0;
    for (char* p = line; *p && *p != '\n';) {
      char* end;
      long v = strtol(p, &end, 10);
      if (end == p) break;
      if (count == cap) ids = realloc(ids, (cap *= 2) * sizeof(llama_token));
      ids[count++] = (llama_token)v;
      p = end;
    }
    int32_t len = llama_detokenize(vocab, ids, (int32_t)count, NULL, 0, false, unparse_special);
    if (len < 0) len = -len;
    text = realloc(text, (size_t)len + 1);
    len = llama_detokenize(vocab, ids, (int32_t)count, text, len, false, unparse_special);
    for (int32_t i = 0; i < len; ++i) {
      if (text[i] == '\n') fputs("\\n", stdout);
      else if (text[i] == '\r') fputs("\\r", stdout);
      else if (text[i] == '\\') fputs("\\\\", stdout);
      else putchar(text[i]);
    }
    putchar('\n');
  }
  llama_model_free(model);
  return 0;
}
