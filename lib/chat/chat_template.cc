#include "lib/chat/chat_template.h"

#include "absl/strings/str_cat.h"
#include "lib/chat/builtins.h"
#include "lib/chat/parser.h"
#include "lib/chat/render.h"

namespace llmtk {
namespace {

absl::Status Prefixed(const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("chat template: ", s.message()));
}

}  // namespace

absl::StatusOr<ChatTemplate> ChatTemplate::Parse(std::string_view source) {
  absl::StatusOr<chat::Body> body = chat::Parse(source);
  if (!body.ok()) return Prefixed(body.status());
  return ChatTemplate(std::move(*body));
}

absl::StatusOr<std::string> ChatTemplate::Render(const chat::Value& messages, const ChatOptions& opts) const {
  using chat::Value;
  chat::Dict g;
  chat::AddGlobalFunctions(&g, opts.now);
  g.Set("messages", messages);
  g.Set("add_generation_prompt", Value::Bool(opts.add_generation_prompt));
  g.Set("bos_token", Value::String(opts.bos_token));
  g.Set("eos_token", Value::String(opts.eos_token));
  auto json_var = [&](std::string_view name, const std::optional<std::string>& json) -> absl::Status {
    if (!json) {
      g.Set(name, Value::None());
      return absl::OkStatus();
    }
    absl::StatusOr<Value> v = Value::FromJson(*json);
    if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("chat template variable '", std::string(name), "': ", v.status().message()));
    g.Set(name, std::move(*v));
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(json_var("tools", opts.tools_json));
  RETURN_IF_ERROR(json_var("documents", opts.documents_json));
  for (const auto& [name, json] : opts.extra_json) RETURN_IF_ERROR(json_var(name, json));
  absl::StatusOr<std::string> out = chat::Render(body_, g);
  if (!out.ok()) return Prefixed(out.status());
  return out;
}

absl::StatusOr<std::string> ChatTemplate::Render(std::string_view messages_json, const ChatOptions& opts) const {
  absl::StatusOr<chat::Value> messages = chat::Value::FromJson(messages_json);
  if (!messages.ok()) return absl::InvalidArgumentError(absl::StrCat("messages: ", messages.status().message()));
  if (messages->kind() != chat::Value::Kind::kList)
    return absl::InvalidArgumentError("messages: expected a JSON array of message objects");
  return Render(*messages, opts);
}

absl::StatusOr<std::string> ChatTemplate::Render(const std::vector<ChatMessage>& messages,
                                                 const ChatOptions& opts) const {
  using chat::Value;
  chat::List list;
  for (const ChatMessage& m : messages) {
    auto d = std::make_shared<chat::Dict>();
    d->Set("role", Value::String(m.role));
    d->Set("content", Value::String(m.content));
    list.push_back(Value::MakeDict(std::move(d)));
  }
  return Render(Value::MakeList(std::move(list)), opts);
}

absl::StatusOr<std::string> RenderChat(std::string_view chat_template, const std::vector<ChatMessage>& messages,
                                       const ChatOptions& opts) {
  ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::Parse(chat_template));
  return t.Render(messages, opts);
}

}  // namespace llmtk
