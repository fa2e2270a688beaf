// tools/run/run_chat: llmtk-run's --chat — the prompts a run reads, turned
// into conversations and rendered through the chat template.
#ifndef LLMTK_TOOLS_RUN_RUN_CHAT_H_
#define LLMTK_TOOLS_RUN_RUN_CHAT_H_

#include <string>
#include <string_view>

#include "lib/base/status.h"
#include "lib/model/chat_prompt.h"
#include "lib/model/vocab.h"
#include "tools/run/run_tool.h"

namespace llmtk {

// --chat-template FILE, or the model's template (an InvalidArgument naming
// the model and the flag when it has none).
absl::StatusOr<ChatPrompter> MakeChatPrompter(const RunToolOptions& opts, const Vocab& vocab);

// -p / -f: the prompt as a user message after the --system message.
absl::StatusOr<std::string> RenderSinglePrompt(const RunToolOptions& opts, const ChatPrompter& prompter,
                                               const std::string& prompt);

// One --batch line: a JSON object with "messages" (an array of message
// objects; --system goes first unless the first is a system message) or the
// text key (a user message), or a plain text line (a user message).
// *is_json tells which. `where` names the line in errors.
absl::StatusOr<std::string> RenderBatchLine(const RunToolOptions& opts, const ChatPrompter& prompter,
                                            std::string_view line, std::string_view where, bool* is_json);

// --render-only: prints each rendered prompt, without loading the weights.
absl::Status RunRenderOnly(const RunToolOptions& opts, const std::function<absl::Status(std::string_view)>& out,
                           const std::function<void(std::string_view)>& err);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_RUN_RUN_CHAT_H_
