// llmtk-eval: benchmark evaluation of GGUF models (multiple choice by
// log-likelihood; llama.cpp's HellaSwag, Winogrande and multiple-choice files).
#include <iostream>

#include "tools/common/cli.h"
#include "tools/eval/eval_tool.h"

int main(int argc, char** argv) {
  llmtk::Tool tool("eval",
                   "Evaluate a GGUF model on multiple-choice benchmarks: JSONL items scored by log-likelihood "
                   "(lm-evaluation-harness's acc and acc_norm), and llama.cpp's --hellaswag, --winogrande and "
                   "--multiple-choice files scored exactly as llama-perplexity scores them.",
                   "  llmtk-eval -m model.gguf mmlu_test.jsonl --dev mmlu_dev.jsonl --shots 5\n"
                   "  llmtk-eval -m model.gguf --hellaswag hellaswag_val_full.txt --tasks 400 --json");
  llmtk::EvalToolOptions o;
  llmtk::CommonOptions common;
  CLI::App& app = tool.app();
  app.add_option("-m,--model", o.model_path, "GGUF model file")->required();
  app.add_option("tasks", o.task_paths,
                 "JSONL multiple-choice files: {\"question\" or \"context\", \"choices\": [...], \"answer\": index, "
                 "optional \"subject\", \"category\"}");
  app.add_option("--template", o.template_text,
                 "prompt of a JSONL item: {question} (or {context}), {choices} (lettered lines 'A. ...'), and "
                 "{answer} where the scored answer goes (escapes: \\n \\t ...)");
  app.add_option("--description", o.description,
                 "text before the few-shot examples, e.g. 'The following are multiple choice questions (with "
                 "answers) about {subject}.\\n\\n'");
  app.add_option("--dev", o.dev_path, "JSONL of few-shot examples (the first --shots, in file order)");
  app.add_option("--shots", o.shots, "few-shot examples before each item")->capture_default_str();
  app.add_option("--limit", o.limit, "score only the first N items of each JSONL file (0: all)");
  app.add_option("--hellaswag", o.hellaswag, "llama.cpp HellaSwag text file (6 lines a task)");
  app.add_option("--winogrande", o.winogrande, "llama.cpp Winogrande CSV file");
  app.add_option("--multiple-choice", o.multiple_choice, "llama.cpp binary multiple-choice file");
  app.add_option("--tasks", o.tasks,
                 "tasks of a llama.cpp file, chosen as llama-perplexity chooses them (default: its default, "
                 "HellaSwag 400, others all; 0: all)");
  app.add_option("-c,--ctx", o.n_ctx, "context size: llama-perplexity's -c, which batches tasks into it")
      ->capture_default_str();
  app.add_option("-b,--batch-size", o.max_batch, "tokens per forward step")->capture_default_str();
  app.add_flag("--kv-f32", o.kv_f32, "keep the KV cache in F32 (default F16, like llama.cpp)");
  app.add_option("--items", o.items_path, "write one JSON line per item: each choice's log-likelihood, the pick, gold");
  app.add_option("--generate", o.generate_paths,
                 "JSONL generative task file: {\"prompt\" or \"question\", \"answer\" or \"target\"}; the model "
                 "completes each prompt, the answer is extracted and matched (repeatable)");
  app.add_option("--until", o.until,
                 "--generate: stop when this string is generated (repeatable; escapes as llmtk-run's --stop; "
                 "default \"\\n\\n\")");
  app.add_option("--max-tokens", o.max_tokens, "--generate: tokens to generate at most")->capture_default_str();
  app.add_option("--extract", o.match.extract,
                 "--generate: the answer is this regex's first match (its first group), else \"[invalid]\"; "
                 "e.g. '#### (\\-?[0-9.,]+)'");
  app.add_flag("--extract-last", o.match.extract_last, "--generate: the last match of --extract instead of the first");
  app.add_option("--ignore", o.match.regexes_to_ignore,
                 "--generate: remove this regex's matches from answer and gold before comparing (repeatable)");
  app.add_flag("--ignore-case", o.match.ignore_case, "--generate: compare lowercased");
  app.add_flag("--ignore-punctuation", o.match.ignore_punctuation,
               "--generate: compare without ASCII punctuation");
  app.add_flag("--ignore-numbers", o.match.ignore_numbers, "--generate: compare without ASCII digits");
  tool.AddSamplingFlags(&o.sampling);
  app.add_flag("--chat", o.chat,
               "render JSONL and --generate prompts through the model's chat template (tokenizer.chat_template) as "
               "one user message with the generation prompt, as lm-evaluation-harness's --apply_chat_template");
  app.add_option("--system", o.system, "with --chat: a system message before each prompt");
  app.add_option("--chat-template", o.chat_template_path, "with --chat: the Jinja chat template in FILE instead of the model's");
  app.add_flag("--per-task", o.per_task, "print llama-perplexity's per-task lines and final figures, as it prints them");
  tool.AddCommonFlags(&common);
  return tool.Run(argc, argv, [&]() -> absl::Status {
    if (!o.template_text.empty()) {
      ASSIGN_OR_RETURN(o.template_text, llmtk::UnescapeFlagValue("--template", o.template_text));
    }
    if (!o.description.empty()) {
      ASSIGN_OR_RETURN(o.description, llmtk::UnescapeFlagValue("--description", o.description));
    }
    for (std::string& stop : o.until) {
      ASSIGN_OR_RETURN(stop, llmtk::UnescapeFlagValue("--until", stop));
      if (stop.empty()) return absl::InvalidArgumentError("--until: the stop string is empty");
    }
    o.threads = common.Threads();
    o.json = common.json;
    o.progress = common.progress;
    o.quiet = common.quiet;
    return llmtk::RunEvalTool(o, llmtk::WriteStdout, [](std::string_view s) { std::cerr << s << std::flush; });
  });
}
