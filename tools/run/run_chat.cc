#include "tools/run/run_chat.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/chat/value.h"
#include "lib/formats/gguf.h"
#include "tools/common/chat_flags.h"
#include "tools/common/cli.h"

namespace llmtk {
namespace {

std::vector<ChatMessage> UserTurn(const RunToolOptions& opts, std::string text) {
  std::vector<ChatMessage> m;
  if (!opts.system.empty()) m.push_back({"system", opts.system});
  m.push_back({"user", std::move(text)});
  return m;
}

chat::Value MessagesValue(const std::vector<ChatMessage>& messages) {
  chat::List list;
  for (const ChatMessage& m : messages) {
    auto d = std::make_shared<chat::Dict>();
    d->Set("role", chat::Value::String(m.role));
    d->Set("content", chat::Value::String(m.content));
    list.push_back(chat::Value::MakeDict(std::move(d)));
  }
  return chat::Value::MakeList(std::move(list));
}

absl::Status AtLine(const absl::Status& s, std::string_view where) {
  return absl::Status(s.code(), absl::StrCat(ToAbsl(where), ": ", s.message()));
}

}  // namespace

absl::StatusOr<ChatPrompter> MakeChatPrompter(const RunToolOptions& opts, const Vocab& vocab) {
  return MakeChatPrompter(opts.model_path, opts.chat_template_path, vocab);
}

absl::StatusOr<std::string> RenderSinglePrompt(const RunToolOptions& opts, const ChatPrompter& prompter,
                                               const std::string& prompt) {
  return prompter.Render(UserTurn(opts, prompt));
}

absl::StatusOr<std::string> RenderBatchLine(const RunToolOptions& opts, const ChatPrompter& prompter,
                                            std::string_view line, std::string_view where, bool* is_json) {
  size_t first = line.find_first_not_of(" \t\r");
  *is_json = opts.reader.format != InputFormat::kText && first != std::string_view::npos && line[first] == '{';
  if (!*is_json) {
    absl::StatusOr<std::string> r = prompter.Render(UserTurn(opts, std::string(line)));
    return r.ok() ? r : AtLine(r.status(), where);
  }
  absl::StatusOr<chat::Value> obj = chat::Value::FromJson(line);
  if (!obj.ok()) return absl::DataLossError(absl::StrCat(ToAbsl(where), ": ", obj.status().message()));
  if (obj->kind() != chat::Value::Kind::kDict)
    return absl::DataLossError(absl::StrCat(ToAbsl(where), ": expected a JSON object"));
  chat::Value messages;
  if (const chat::Value* m = obj->dict()->Find("messages")) {
    if (m->kind() != chat::Value::Kind::kList)
      return absl::DataLossError(absl::StrCat(ToAbsl(where), ": \"messages\" must be an array of message objects"));
    messages = *m;
    const chat::Value* role = !m->list().empty() && m->list()[0].kind() == chat::Value::Kind::kDict
                                  ? m->list()[0].dict()->Find("role")
                                  : nullptr;
    if (!opts.system.empty() && !(role && role->is_string() && role->str() == "system")) {
      chat::List with = MessagesValue({{"system", opts.system}}).list();
      with.insert(with.end(), m->list().begin(), m->list().end());
      messages = chat::Value::MakeList(std::move(with));
    }
  } else if (const chat::Value* p = obj->dict()->Find(opts.reader.text_key); p && p->is_string()) {
    messages = MessagesValue(UserTurn(opts, p->str()));
  } else {
    return absl::DataLossError(absl::StrCat(ToAbsl(where), ": --chat needs \"messages\" (an array) or \"",
                                            opts.reader.text_key, "\" (a string)"));
  }
  absl::StatusOr<std::string> r = prompter.Render(messages);
  return r.ok() ? r : AtLine(r.status(), where);
}

absl::Status RunRenderOnly(const RunToolOptions& opts, const std::function<absl::Status(std::string_view)>& out_override,
                           const std::function<void(std::string_view)>& err) {
  ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(opts.model_path));
  ASSIGN_OR_RETURN(Vocab vocab, Vocab::FromGguf(*file));
  ASSIGN_OR_RETURN(ChatPrompter prompter, MakeChatPrompter(opts, vocab));
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(opts.output.empty() ? "-" : opts.output));
  auto sink = [&](std::string_view d) { return out_override ? out_override(d) : out->Write(d); };
  if (opts.batch_path.empty()) {
    std::string prompt = opts.prompt;
    if (!opts.prompt_file.empty()) {
      ASSIGN_OR_RETURN(prompt, ReadFileToString(opts.prompt_file));
    }
    ASSIGN_OR_RETURN(std::string rendered, RenderSinglePrompt(opts, prompter, prompt));
    RETURN_IF_ERROR(sink(rendered));
    return out->Close();
  }
  DocumentReaderOptions ro = opts.reader;
  ro.format = InputFormat::kText;  // lines are parsed here: "messages" needs no text key
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open({opts.batch_path}, ro));
  Document doc;
  uint64_t skipped = 0;
  std::string first_skip;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
    if (!more) break;
    if (doc.raw.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = absl::StrCat(*doc.source, ":", doc.line_number);
    bool is_json = false;
    absl::StatusOr<std::string> rendered = RenderBatchLine(opts, prompter, doc.raw, where, &is_json);
    if (!rendered.ok()) {
      if (opts.reader.on_bad_line == BadLinePolicy::kSkip && absl::IsDataLoss(rendered.status())) {
        if (skipped++ == 0) first_skip = std::string(rendered.status().message());
        continue;
      }
      return rendered.status();
    }
    std::string line;
    if (is_json) {
      ASSIGN_OR_RETURN(line, SetJsonFields(doc.raw, {{"prompt", JsonWriter().String(*rendered).Take()}}));
    } else {
      line = JsonWriter().BeginObject().Key("prompt").String(*rendered).EndObject().Take();
    }
    line.push_back('\n');
    RETURN_IF_ERROR(sink(line));
  }
  if (skipped > 0 && !opts.quiet)
    err(absl::StrCat("llmtk-run: skipped ", skipped, " bad lines (first: ", first_skip, ")\n"));
  return out->Close();
}

}  // namespace llmtk
