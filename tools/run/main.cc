// llmtk-run: run a LLaMA-family GGUF model on the CPU.
#include <cstdio>
#include <iostream>

#include "tools/common/cli.h"
#include "tools/run/run_tool.h"

int main(int argc, char** argv) {
  llmtk::Tool tool("run", "Run a LLaMA-family GGUF model (llama, qwen2, qwen3, phi3, chatglm) on the CPU, exactly as llama.cpp computes it.",
                   "  llmtk-run -m stories260K.gguf -p \"Once upon a time\" -n 64 --temp 0\n"
                   "  llmtk-run -m model.gguf --batch prompts.jsonl --temp 0 -n 32 > out.jsonl\n"
                   "  llmtk-run -m model.gguf --batch choices.jsonl --score > scores.jsonl\n"
                   "  llmtk-run -m model.gguf --chat --system \"Be brief.\" -p \"Hello\" -n 64\n"
                   "  llmtk-run -m model.gguf --chat --batch chats.jsonl --render-only");
  llmtk::RunToolOptions o;
  llmtk::CommonOptions common;
  CLI::App& app = tool.app();
  app.add_option("-m,--model", o.model_path, "GGUF model file")->required();
  app.add_option("-p,--prompt", o.prompt, "prompt text");
  app.add_option("-f,--file", o.prompt_file, "read the prompt from FILE ('-': stdin)");
  app.add_option("--batch", o.batch_path,
                 "JSONL of {\"prompt\": ...} (or text lines; '-': stdin; with --chat also {\"messages\": [...]}): one JSON result per line");
  app.add_flag("--score", o.score, "with --batch: log-likelihood of each line's \"completion\" after its prompt");
  app.add_flag("--chat", o.chat,
               "render prompts through the model's chat template (tokenizer.chat_template), with the generation prompt");
  app.add_option("--system", o.system, "with --chat: a system message before the prompt");
  app.add_option("--chat-template", o.chat_template_path,
                 "with --chat: the Jinja chat template in FILE instead of the model's");
  app.add_flag("--render-only", o.render_only,
               "with --chat: print the rendered prompts (--batch: JSON lines with \"prompt\") without running the model");
  app.add_option("-o,--output", o.output, "output file (default: stdout)");
  app.add_option("-n,--n-predict", o.generate.max_tokens, "max tokens to generate (-1: until the context is full)")
      ->capture_default_str();
  app.add_option("-c,--ctx", o.session.n_ctx, "context size in tokens (0: the model's)")->capture_default_str();
  app.add_option("-b,--batch-size", o.session.max_batch, "prompt tokens per forward step")->capture_default_str();
  app.add_option("--stop", o.generate.stop,
                 "stop when this string is generated (repeatable; escapes: \\n \\t \\r \\\\ \\xHH \\uXXXX ...)");
  tool.AddSamplingFlags(&o.generate.sampling);
  app.add_option("--logprobs", o.generate.logprobs, "top-K log-probabilities per generated token");
  app.add_flag("--kv-f32", o.session.kv_f32, "keep the KV cache in F32 (default F16, like llama.cpp)");
  app.add_flag("--timings", o.timings, "print prompt and generation speed on stderr");
  app.add_flag("--echo", o.echo_prompt, "print the prompt before the completion");
  app.add_flag("--bench", o.bench, "time a synthetic prompt and generation (no tokenizer needed), like llama-bench");
  app.add_option("--bench-pp", o.bench_pp, "--bench prompt tokens")->capture_default_str();
  app.add_option("--bench-tg", o.bench_tg, "--bench generated tokens")->capture_default_str();
  app.add_option("--bench-depth", o.bench_depth, "--bench: tokens in the cache before generation (llama-bench -d)")
      ->capture_default_str();
  app.add_option("--bench-reps", o.bench_reps, "--bench runs after a warm-up (medians reported)")->capture_default_str();
  tool.AddReaderFlags(&o.reader, nullptr, /*keep_bytes=*/true);
  tool.AddCommonFlags(&common);
  return tool.Run(argc, argv, [&]() -> absl::Status {
    // Shells pass "\n" as two characters; a stop string is nearly always
    // meant with the newline.
    for (std::string& stop : o.generate.stop) {
      ASSIGN_OR_RETURN(stop, llmtk::UnescapeFlagValue("--stop", stop));
      if (stop.empty()) return absl::InvalidArgumentError("--stop: the stop string is empty");
    }
    o.session.threads = common.Threads();
    o.quiet = common.quiet;
    o.json = common.json;
    return llmtk::RunTool(o, nullptr, [](std::string_view s) { std::cerr << s << std::flush; });
  });
}
