#include "lib/eval/generation_task.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "lib/base/io.h"
#include "lib/base/json_writer.h"
#include "lib/base/unicode.h"
#include "lib/eval/choice_metrics.h"
#include "simdjson.h"

namespace llmtk {
namespace {

std::string ChoiceLetter(size_t i) { return std::string(1, static_cast<char>('A' + i)); }

absl::StatusOr<GenerationItem> ParseItem(simdjson::dom::parser& parser, std::string_view line,
                                         const std::string& where) {
  simdjson::dom::element doc;
  if (auto err = parser.parse(line.data(), line.size()).get(doc)) {
    return absl::DataLossError(absl::StrCat("malformed JSON (", simdjson::error_message(err), "), ", where));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return absl::DataLossError(absl::StrCat("the line is not a JSON object, ", where));
  GenerationItem item;
  bool have_prompt = false;
  for (const char* key : {"prompt", "question", "context"}) {
    std::string_view v;
    if (obj[key].get(v) == simdjson::SUCCESS) {
      item.prompt = std::string(v);
      have_prompt = true;
      break;
    }
  }
  if (!have_prompt) {
    return absl::DataLossError(
        absl::StrCat("the item has no string field \"prompt\", \"question\" or \"context\", ", where));
  }
  simdjson::dom::array choices;
  if (obj["choices"].get(choices) == simdjson::SUCCESS) {
    for (simdjson::dom::element c : choices) {
      std::string_view v;
      if (c.get(v)) return absl::DataLossError(absl::StrCat("\"choices\" holds a non-string, ", where));
      item.choices.emplace_back(v);
    }
    if (item.choices.size() > 26) {
      return absl::DataLossError(absl::StrCat("the item has ", item.choices.size(),
                                              " choices; letters reach 26, ", where));
    }
  }
  simdjson::dom::element gold;
  const char* gold_key = "answer";
  if (obj["answer"].get(gold) != simdjson::SUCCESS) {
    gold_key = "target";
    if (obj["target"].get(gold) != simdjson::SUCCESS) {
      return absl::DataLossError(absl::StrCat("the item has no field \"answer\" or \"target\", ", where));
    }
  }
  std::string_view s;
  if (gold.get(s) == simdjson::SUCCESS) {
    item.gold = std::string(s);
  } else if (gold.is_int64() && !item.choices.empty()) {
    const int64_t k = gold.get_int64().value_unsafe();
    if (k < 0 || k >= static_cast<int64_t>(item.choices.size())) {
      return absl::DataLossError(absl::StrCat("\"", gold_key, "\" index ", k, " is outside the ", item.choices.size(),
                                              " choices, ", where));
    }
    item.gold = ChoiceLetter(static_cast<size_t>(k));
  } else if (gold.is_number()) {
    // As written in the file: 72, not 72.0.
    item.gold = std::string(StripPythonSpace(simdjson::to_string(gold)));
  } else {
    return absl::DataLossError(absl::StrCat("\"", gold_key, "\" is neither a string nor a number, ", where));
  }
  return item;
}

}  // namespace

absl::StatusOr<std::vector<GenerationItem>> ReadGenerationItems(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<InputStream> in, OpenInput(path));
  const std::string name = in->name();
  LineReader lines(std::move(in));
  simdjson::dom::parser parser;
  std::vector<GenerationItem> items;
  std::string_view line;
  uint64_t n = 0;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, lines.Next(&line));
    if (!more) break;
    ++n;
    if (StripPythonSpace(line).empty()) continue;
    const std::string where = absl::StrCat(name, ":", n);
    if (!IsValidUtf8(line)) return absl::DataLossError(absl::StrCat("invalid UTF-8, ", where));
    ASSIGN_OR_RETURN(GenerationItem item, ParseItem(parser, line, where));
    item.line = n;
    items.push_back(std::move(item));
  }
  return items;
}

std::string RenderGenerationTemplate(const std::string& template_text, const GenerationItem& item) {
  std::string choices;
  for (size_t i = 0; i < item.choices.size(); ++i)
    absl::StrAppend(&choices, i ? "\n" : "", ChoiceLetter(i), ". ", item.choices[i]);
  // One pass, so a prompt that itself contains "{choices}" stays as it is.
  return absl::StrReplaceAll(template_text,
                             {{"{prompt}", item.prompt}, {"{question}", item.prompt}, {"{choices}", choices}});
}

std::string BuildGenerationPrompt(const GenerationTaskOptions& opts, const GenerationItem& item) {
  std::string prompt;
  for (const GenerationItem& shot : opts.shots) {
    absl::StrAppend(&prompt, RenderGenerationTemplate(opts.template_text, shot), opts.target_delimiter, shot.gold,
                    opts.fewshot_delimiter);
  }
  absl::StrAppend(&prompt, RenderGenerationTemplate(opts.template_text, item));
  return prompt;
}

std::string GenerationRecordJson(const GenerationRecord& r) {
  JsonWriter w;
  w.BeginObject()
      .Key("index").Uint(r.index)
      .Key("source").String(r.source)
      .Key("prompt").String(r.prompt)
      .Key("completion").String(r.completion)
      .Key("extracted").String(r.extracted)
      .Key("gold").String(r.gold)
      .Key("correct").Bool(r.correct)
      .Key("prompt_tokens").Int(r.prompt_tokens)
      .Key("completion_tokens").Int(r.completion_tokens)
      .Key("finish_reason").String(r.finish_reason)
      .EndObject();
  return w.Take();
}

GenerationSummary SummarizeGeneration(const std::vector<bool>& correct, uint64_t invalid) {
  GenerationSummary s;
  s.items = correct.size();
  s.invalid = invalid;
  std::vector<double> scores;
  for (bool c : correct) {
    s.correct += c;
    scores.push_back(c ? 1 : 0);
  }
  if (s.items == 0) return s;
  s.exact_match = static_cast<double>(s.correct) / static_cast<double>(s.items);
  if (s.items >= 2) s.exact_match_stderr = MeanStderr(scores);
  return s;
}

absl::StatusOr<std::string> ChatOrPlainPrompt(const ChatPrompter* chat, const std::string& system,
                                              std::string_view prompt) {
  if (chat == nullptr) return std::string(prompt);
  size_t keep = 0;
  for (size_t pos = 0; pos < prompt.size();) {
    const int32_t cp = DecodeUtf8(prompt, &pos);
    if (cp == kInvalidUtf8 || !IsPythonSpace(static_cast<char32_t>(cp))) keep = pos;
  }
  std::vector<ChatMessage> messages;
  if (!system.empty()) messages.push_back({"system", system});
  messages.push_back({"user", std::string(prompt.substr(0, keep))});
  return chat->Render(messages);
}

absl::StatusOr<GenerationSummary> RunGenerationTask(Runner& runner, const std::vector<GenerationItem>& items,
                                                    const std::string& source, const GenerationTaskOptions& opts,
                                                    const AnswerMatcher& matcher,
                                                    const std::function<absl::Status(const GenerationRecord&)>& on_record) {
  std::vector<bool> outcomes;
  uint64_t invalid = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const GenerationItem& item = items[i];
    const std::string where = absl::StrCat(source, ":", item.line);
    GenerationRecord r;
    r.index = i;
    r.source = where;
    auto prompt = ChatOrPlainPrompt(opts.chat, opts.system, BuildGenerationPrompt(opts, item));
    if (!prompt.ok()) return Annotate(prompt.status(), where);
    r.prompt = *std::move(prompt);
    r.gold = item.gold;
    GenerateOptions g = opts.generate;
    g.sampling.seed = opts.generate.sampling.seed + i;
    auto gen = runner.Generate(opts.chat ? opts.chat->TokenizerText(r.prompt) : std::string_view(r.prompt), g, nullptr);
    if (!gen.ok()) return Annotate(gen.status(), where);
    r.completion = std::move(gen->text);
    r.prompt_tokens = gen->prompt_tokens;
    r.completion_tokens = gen->completion_tokens;
    r.finish_reason = gen->finish_reason;
    ASSIGN_OR_RETURN(r.extracted, matcher.Extract(r.completion));
    if (!matcher.options().extract.empty() && r.extracted == kInvalidAnswer) ++invalid;
    ASSIGN_OR_RETURN(r.correct, matcher.Matches(r.extracted, r.gold));
    outcomes.push_back(r.correct);
    if (on_record) RETURN_IF_ERROR(on_record(r));
  }
  return SummarizeGeneration(outcomes, invalid);
}

}  // namespace llmtk
