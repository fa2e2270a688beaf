// llmtk-ppl: perplexity and KL divergence of GGUF models.
#include <iostream>

#include "tools/common/cli.h"
#include "tools/ppl/ppl_tool.h"

int main(int argc, char** argv) {
  llmtk::Tool tool("ppl", "Perplexity of a GGUF model over a text (as llama.cpp computes it), per document over "
                   "JSONL, or KL divergence against a reference model's saved logits.",
                   "llmtk-ppl -m model.gguf -f wiki.test.raw --ctx 512\n"
                   "  llmtk-ppl -m model.gguf --jsonl docs.jsonl --ctx 256 > scored.jsonl\n"
                   "  llmtk-ppl -m f16.gguf -f text.txt --save-logits base.bin && "
                   "llmtk-ppl -m q4.gguf -f text.txt --kl-divergence base.bin");
  llmtk::PplToolOptions o;
  llmtk::CommonOptions common;
  CLI::App& app = tool.app();
  app.add_option("-m,--model", o.model_path, "GGUF model file")->required();
  app.add_option("-f,--file", o.text_path, "text to score as one corpus ('-': stdin)");
  app.add_flag("--ids", o.ids, "-f holds whitespace-separated token ids (pre-tokenized; no vocabulary needed)");
  app.add_option("--jsonl", o.jsonl_paths, "score each document of these JSONL/text inputs");
  app.add_option("-c,--ctx", o.n_ctx, "context (chunk or window) size in tokens");
  app.add_option("--stride", o.stride,
                 "sliding-window mode: windows advance by this many tokens (HF's definition; a different number "
                 "from llama.cpp's). Per-document mode defaults to ctx/2");
  app.add_option("--chunks", o.max_chunks, "score at most this many chunks (0: all)");
  app.add_option("-b,--batch-size", o.max_batch, "tokens per forward step");
  app.add_option("--ubatch-size", o.ubatch,
                 "at most this many tokens per forward step (llama.cpp's -ub: 1 computes every token as a "
                 "one-token batch, as llama-perplexity -ub 1 does)");
  app.add_flag("--kv-f32", o.kv_f32, "keep the KV cache in F32 (default F16, like llama.cpp)");
  app.add_option("--save-logits", o.save_logits, "save reference logits (top-K per position) for --kl-divergence");
  app.add_option("--kl-divergence", o.kl_divergence, "compare with logits saved by --save-logits");
  app.add_option("--top-k", o.top_k, "logits kept per position by --save-logits (0: min(vocab, 256))");
  app.add_option("--ppl-key", o.ppl_key, "per-document output field for the perplexity");
  app.add_option("--nll-key", o.nll_key, "per-document output field for the mean negative log-likelihood");
  app.add_option("--tokens-key", o.tokens_key, "per-document output field for the number of scored tokens");
  tool.AddOutputFlags(&o.output, &o.output_options);
  tool.AddReaderFlags(&o.reader, nullptr, /*keep_bytes=*/true);
  tool.AddCommonFlags(&common);
  return tool.Run(argc, argv, [&]() {
    o.threads = common.Threads();
    o.json = common.json;
    o.progress = common.progress;
    o.quiet = common.quiet;
    return llmtk::RunPplTool(o, [](std::string_view s) { std::cerr << s << std::flush; });
  });
}
