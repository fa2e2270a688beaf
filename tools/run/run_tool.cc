#include "tools/run/run_tool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <chrono>
#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/base/unicode.h"
#include "lib/model/runner.h"
#include "tools/common/cli.h"
#include "tools/run/run_chat.h"
#include "lib/model/session.h"
#include "simdjson.h"

namespace llmtk {
namespace {

std::string MiB(uint64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); }

std::string TimingsLine(const GenerationResult& r) {
  const double pp = r.prompt_seconds > 0 ? r.prompt_tokens / r.prompt_seconds : 0;
  const double tg = r.generation_seconds > 0 ? r.completion_tokens / r.generation_seconds : 0;
  return absl::StrFormat(
      "llmtk-run: prompt %d tokens in %.3f s (%.1f tokens/s), generation %d tokens in %.3f s (%.1f tokens/s)\n",
      r.prompt_tokens, r.prompt_seconds, pp, r.completion_tokens, r.generation_seconds, tg);
}

void AppendLogprobs(JsonWriter& w, const GenerationResult& r) {
  w.Key("logprobs").BeginArray();
  for (const auto& entry : r.logprobs) {
    w.BeginObject().Key("token").String(entry[0].text).Key("id").Int(entry[0].id).Key("logprob").Double(entry[0].logprob);
    w.Key("top").BeginArray();
    for (size_t i = 1; i < entry.size(); ++i)
      w.BeginObject().Key("token").String(entry[i].text).Key("id").Int(entry[i].id).Key("logprob").Double(entry[i].logprob).EndObject();
    w.EndArray().EndObject();
  }
  w.EndArray();
}

absl::Status RunBatch(const RunToolOptions& opts, Runner& runner, const ChatPrompter* prompter,
                      const std::function<void(std::string_view)>& err) {
  DocumentReaderOptions ro = opts.reader;
  // --chat parses each line itself: a "messages" line has no text key.
  if (prompter) ro.format = InputFormat::kText;
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open({opts.batch_path}, ro));
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(opts.output));
  simdjson::ondemand::parser parser;
  Document doc;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
    if (!more) break;
    const std::string where = absl::StrCat(*doc.source, ":", doc.line_number);
    std::vector<std::pair<std::string, std::string>> fields;
    std::string rendered;
    std::string_view prompt = doc.text;
    bool is_json = doc.is_json;
    if (prompter) {
      if (doc.raw.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      ASSIGN_OR_RETURN(rendered, RenderBatchLine(opts, *prompter, doc.raw, where, &is_json));
      prompt = prompter->TokenizerText(rendered);
    }
    if (opts.score) {
      std::string completion;
      if (doc.is_json) {
        simdjson::padded_string padded(doc.raw.data(), doc.raw.size());
        auto parsed = parser.iterate(padded);
        std::string_view v;
        if (parsed.error() || parsed.find_field_unordered("completion").get_string().get(v))
          return absl::DataLossError(absl::StrCat(where, ": --score needs a string field \"completion\""));
        completion = std::string(v);
      } else {
        return absl::DataLossError(absl::StrCat(where, ": --score needs JSONL lines with \"prompt\" and \"completion\""));
      }
      auto r = runner.Score(doc.text, completion);
      if (!r.ok()) return Annotate(r.status(), where);
      JsonWriter w;
      fields.emplace_back("logprob", JsonWriter().Double(r->logprob).Take());
      fields.emplace_back("prompt_tokens", JsonWriter().Int(r->prompt_tokens).Take());
      fields.emplace_back("completion_tokens", JsonWriter().Int(r->completion_tokens).Take());
      fields.emplace_back("greedy", JsonWriter().Bool(r->greedy).Take());
    } else {
      auto r = runner.Generate(prompt, opts.generate, nullptr);
      if (!r.ok()) return Annotate(r.status(), where);
      fields.emplace_back("completion", JsonWriter().String(r->text).Take());
      fields.emplace_back("prompt_tokens", JsonWriter().Int(r->prompt_tokens).Take());
      fields.emplace_back("completion_tokens", JsonWriter().Int(r->completion_tokens).Take());
      fields.emplace_back("finish_reason", JsonWriter().String(r->finish_reason).Take());
      JsonWriter t;
      t.BeginObject()
          .Key("prompt_ms").Double(r->prompt_seconds * 1e3)
          .Key("generation_ms").Double(r->generation_seconds * 1e3)
          .EndObject();
      fields.emplace_back("timings", t.Take());
      if (opts.generate.logprobs > 0) {
        JsonWriter lw;
        lw.BeginObject();
        AppendLogprobs(lw, *r);
        lw.EndObject();
        // Unwrap {"logprobs":[...]} to the array.
        const std::string obj = lw.Take();
        fields.emplace_back("logprobs", obj.substr(12, obj.size() - 13));
      }
      if (opts.timings) err(TimingsLine(*r));
    }
    std::string line;
    if (is_json) {
      ASSIGN_OR_RETURN(line, SetJsonFields(doc.raw, fields));
    } else {
      JsonWriter w;
      w.BeginObject().Key("prompt").String(doc.text);
      for (const auto& [k, v] : fields) w.Key(k).Raw(v);
      line = w.Take();
    }
    line.push_back('\n');
    RETURN_IF_ERROR(out->Write(line));
  }
  if (reader->skipped() > 0 && !opts.quiet)
    err(absl::StrFormat("llmtk-run: skipped %d bad lines (first: %s)\n", reader->skipped(), reader->first_skip_reason()));
  return out->Close();
}

uint64_t PeakRssBytes() {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

absl::Status RunBench(const RunToolOptions& opts, const Model& model,
                      const std::function<absl::Status(std::string_view)>& out) {
  if (opts.bench_pp < 1 || opts.bench_tg < 0 || opts.bench_reps < 1 || opts.bench_depth < 0)
    return absl::InvalidArgumentError("--bench-pp and --bench-reps must be >= 1, --bench-tg and --bench-depth >= 0");
  SessionOptions so = opts.session;
  if (so.n_ctx == 0) so.n_ctx = std::max(opts.bench_pp, opts.bench_depth + opts.bench_tg);
  if (opts.bench_depth + opts.bench_tg > so.n_ctx || opts.bench_pp > so.n_ctx)
    return absl::InvalidArgumentError(absl::StrFormat(
        "--bench needs a context of %d tokens but --ctx is %d", std::max(opts.bench_pp, opts.bench_depth + opts.bench_tg),
        so.n_ctx));
  ASSIGN_OR_RETURN(auto session, Session::Create(model, so));
  const int V = model.config().n_vocab;
  std::vector<int32_t> tokens(std::max(opts.bench_pp, opts.bench_depth));
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>((1 + 7919ll * i) % V);
  const std::vector<int32_t> prompt(tokens.begin(), tokens.begin() + opts.bench_pp);
  const std::vector<int32_t> depth(tokens.begin(), tokens.begin() + opts.bench_depth);
  std::vector<float> logits;
  // Warm-up: one token touches every weight page (the first run would
  // otherwise also time the page faults of the mapping).
  RETURN_IF_ERROR(session->Eval({tokens[0]}, LogitsMode::kLast, &logits));
  std::vector<double> pps, tgs;
  for (int rep = 0; rep < opts.bench_reps; ++rep) {
    session->Truncate(0);
    auto t0 = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(session->Eval(prompt, LogitsMode::kLast, &logits));
    pps.push_back(opts.bench_pp / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    // Generation from an empty cache (or the requested depth): after the
    // prompt, every step would also attend over its 512 positions, which
    // llama-bench's tg figures do not include.
    session->Truncate(0);
    if (!depth.empty()) RETURN_IF_ERROR(session->Eval(depth, LogitsMode::kLast, &logits));
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < opts.bench_tg; ++i) {
      const int32_t next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      RETURN_IF_ERROR(session->Eval({next}, LogitsMode::kLast, &logits));
    }
    const double tg_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    tgs.push_back(opts.bench_tg > 0 ? opts.bench_tg / tg_s : 0);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  const double pp = median(pps), tg = median(tgs);
  if (opts.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("model").String(opts.model_path)
        .Key("threads").Int(session->threads())
        .Key("pp_tokens").Int(opts.bench_pp).Key("pp_tokens_per_s").Double(pp)
        .Key("tg_tokens").Int(opts.bench_tg).Key("tg_depth").Int(opts.bench_depth).Key("tg_tokens_per_s").Double(tg)
        .Key("reps").Int(opts.bench_reps);
    w.Key("pp_runs").BeginArray();
    for (double v : pps) w.Double(v);
    w.EndArray().Key("tg_runs").BeginArray();
    for (double v : tgs) w.Double(v);
    w.EndArray()
        .Key("weight_bytes").Uint(model.weight_bytes())
        .Key("weight_bytes_per_token").Uint(model.weight_bytes_per_token())
        .Key("peak_rss_bytes").Uint(PeakRssBytes())
        .EndObject();
    return out(w.Take() + "\n");
  }
  return out(absl::StrFormat("pp%d %.2f tokens/s, tg%d %.2f tokens/s (%d threads, peak RSS %s)\n", opts.bench_pp, pp,
                             opts.bench_tg, tg, session->threads(), MiB(PeakRssBytes())));
}

}  // namespace

absl::Status RunTool(const RunToolOptions& opts, const std::function<absl::Status(std::string_view)>& out_override,
                     const std::function<void(std::string_view)>& err) {
  const int sources = !opts.prompt.empty() + !opts.prompt_file.empty() + !opts.batch_path.empty() + opts.bench;
  if (sources != 1) return absl::InvalidArgumentError("give exactly one of -p PROMPT, -f FILE, --batch FILE or --bench");
  if (opts.score && opts.batch_path.empty()) return absl::InvalidArgumentError("--score works with --batch");
  if (!opts.chat && (opts.render_only || !opts.system.empty() || !opts.chat_template_path.empty()))
    return absl::InvalidArgumentError("--render-only, --system and --chat-template work with --chat");
  if (opts.chat && (opts.score || opts.bench)) return absl::InvalidArgumentError("--chat does not work with --score or --bench");
  if (opts.render_only) return RunRenderOnly(opts, out_override, err);
  if (opts.generate.logprobs < 0) return absl::InvalidArgumentError("--logprobs must be >= 0");
  RETURN_IF_ERROR(ValidateSamplingParams(opts.generate.sampling));
  ASSIGN_OR_RETURN(auto model, Model::Load(opts.model_path));
  if (opts.bench) return RunBench(opts, *model, out_override ? out_override : WriteStdout);
  ASSIGN_OR_RETURN(auto runner, Runner::Create(*model, opts.session));
  const ModelConfig& c = model->config();
  if (!opts.quiet) {
    const Session& s = runner->session();
    err(absl::StrFormat(
        "llmtk-run: %s (%s, %d layers, %d heads / %d kv, vocab %d; %s), weights %s mapped, KV cache %s (%s, ctx %d), "
        "scratch %s, %d threads, %s kernels\n",
        c.name.empty() ? opts.model_path : c.name, c.arch, c.n_layer, c.n_head, c.n_head_kv, c.n_vocab,
        model->TypeSummary(), MiB(model->weight_bytes()), MiB(s.kv_bytes()), opts.session.kv_f32 ? "f32" : "f16",
        s.n_ctx(), MiB(s.scratch_bytes()), s.threads(), IsaName(BestIsa())));
  }
  std::optional<ChatPrompter> prompter;
  if (opts.chat) {
    ASSIGN_OR_RETURN(prompter, MakeChatPrompter(opts, runner->vocab()));
  }
  if (!opts.batch_path.empty()) return RunBatch(opts, *runner, prompter ? &*prompter : nullptr, err);

  std::string prompt = opts.prompt;
  if (!opts.prompt_file.empty()) {
    ASSIGN_OR_RETURN(prompt, ReadFileToString(opts.prompt_file));
  }
  std::string rendered;
  std::string_view model_prompt = prompt;
  if (prompter) {
    ASSIGN_OR_RETURN(rendered, RenderSinglePrompt(opts, *prompter, prompt));
    prompt = rendered;
    model_prompt = prompter->TokenizerText(rendered);
  }
  const Tokenizer* tok = runner->vocab().tokenizer();
  if (tok && tok->TakesInvalidUtf8() && !IsValidUtf8(model_prompt)) {
    size_t first = 0;
    const size_t n = CountInvalidUtf8Bytes(model_prompt, &first);
    err(absl::StrFormat("llmtk-run: warning: the prompt has %d byte%s of invalid UTF-8 (first at byte %d), tokenized "
                        "as llama.cpp does\n", n, n == 1 ? "" : "s", first));
  }
  std::unique_ptr<OutputFile> file;
  std::function<absl::Status(std::string_view)> sink = out_override;
  if (!sink) {
    if (opts.output.empty() || opts.output == "-") {
      sink = WriteStdout;
    } else {
      ASSIGN_OR_RETURN(file, OutputFile::Open(opts.output));
      sink = [&](std::string_view d) { return file->Write(d); };
    }
  }
  if (opts.echo_prompt) RETURN_IF_ERROR(sink(prompt));
  ASSIGN_OR_RETURN(GenerationResult r, runner->Generate(model_prompt, opts.generate, sink));
  RETURN_IF_ERROR(sink("\n"));
  if (opts.generate.logprobs > 0) {
    JsonWriter w;
    w.BeginObject();
    AppendLogprobs(w, r);
    w.EndObject();
    err(absl::StrCat(w.Take(), "\n"));
  }
  if (opts.timings) err(TimingsLine(r));
  if (file) RETURN_IF_ERROR(file->Close());
  return absl::OkStatus();
}

}  // namespace llmtk
