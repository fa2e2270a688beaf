// chat/chat_template: a model's chat template (the Jinja text stored as
// `tokenizer.chat_template` in a GGUF, or `chat_template` in a HF
// tokenizer_config.json) rendered over a conversation, byte-identical to
// transformers' `apply_chat_template(..., tokenize=False)`.
//
// transformers renders with jinja2 (ImmutableSandboxedEnvironment,
// trim_blocks=True, lstrip_blocks=True, the loopcontrols extension), its own
// `tojson` (json.dumps with ensure_ascii=False; indent, separators and
// sort_keys arguments) and the globals `raise_exception(msg)` and
// `strftime_now(fmt)`. The variables are `messages`, `add_generation_prompt`,
// `tools` and `documents` (None unless given, as transformers passes them),
// the special tokens (`bos_token`, `eos_token`) and any extra variables.
//
// The supported subset of jinja2 is what chat templates use: `{{ }}`, `{% if
// / elif / else %}`, `{% for x in xs [if c] %}` with `loop.*`, `else`, `break`
// and `continue`, `{% set %}` (names, tuples, `ns.attr`, blocks), `{% macro
// %}`, comments, whitespace control; literals, lists, dicts, attributes,
// subscripts and slices, arithmetic, `~`, comparisons, `and/or/not`, `in`,
// tests, inline if/else, the filters listed in chat/builtins.cc and the str
// and dict methods templates call. Anything else fails to parse with
// InvalidArgument "line L, column C: unsupported tag 'NAME'" (or "unknown
// filter 'NAME'", ...). Rendering errors name the line and column too; a
// template's raise_exception(msg) fails with "... raise_exception: MSG".
//
// Thread-safety: a ChatTemplate is immutable; Render may run concurrently.
#ifndef LLMTK_LIB_CHAT_CHAT_TEMPLATE_H_
#define LLMTK_LIB_CHAT_CHAT_TEMPLATE_H_

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/base/status.h"
#include "lib/chat/ast.h"
#include "lib/chat/value.h"

namespace llmtk {

struct ChatOptions {
  bool add_generation_prompt = true;
  // As the vocabulary spells them (e.g. "<|begin_of_text|>"); empty when the
  // model has none.
  std::string bos_token, eos_token;
  // JSON texts; unset: the variable is None.
  std::optional<std::string> tools_json, documents_json;
  // Further variables, each a JSON value, e.g. {"enable_thinking", "false"}.
  std::vector<std::pair<std::string, std::string>> extra_json;
  // The clock strftime_now reads (local time); unset: now. Tests fix it.
  std::optional<std::time_t> now;
};

// One message of a conversation ({"role": ..., "content": ...}).
struct ChatMessage {
  std::string role, content;
};

class ChatTemplate {
 public:
  // InvalidArgument "chat template: line L, column C: ..." when the text is
  // not valid in the supported subset.
  static absl::StatusOr<ChatTemplate> Parse(std::string_view source);

  // `messages_json`: a JSON array of message objects (any fields the
  // template reads: role, content, tool_calls, ...).
  absl::StatusOr<std::string> Render(std::string_view messages_json, const ChatOptions& opts) const;
  absl::StatusOr<std::string> Render(const std::vector<ChatMessage>& messages, const ChatOptions& opts) const;
  absl::StatusOr<std::string> Render(const chat::Value& messages, const ChatOptions& opts) const;

 private:
  explicit ChatTemplate(chat::Body body) : body_(std::move(body)) {}
  chat::Body body_;
};

// Parse and render in one step (what llmtk-run --chat and llmtk-eval --chat
// do per prompt when the template is not kept).
absl::StatusOr<std::string> RenderChat(std::string_view chat_template, const std::vector<ChatMessage>& messages,
                                       const ChatOptions& opts);

}  // namespace llmtk

#endif  // LLMTK_LIB_CHAT_CHAT_TEMPLATE_H_
