// tools/common/chat_flags: the chat template a tool's --chat uses — the one
// in --chat-template FILE, else the model's tokenizer.chat_template — with
// errors that name the file and the flag that fixes them. Shared by
// llmtk-run and llmtk-eval.
#ifndef LLMTK_TOOLS_COMMON_CHAT_FLAGS_H_
#define LLMTK_TOOLS_COMMON_CHAT_FLAGS_H_

#include <string>

#include "lib/base/status.h"
#include "lib/model/chat_prompt.h"
#include "lib/model/vocab.h"

namespace llmtk {

// InvalidArgument naming `model_path` and --chat-template when the model has
// no template; a template outside the supported subset names its source.
absl::StatusOr<ChatPrompter> MakeChatPrompter(const std::string& model_path, const std::string& template_path,
                                              const Vocab& vocab);

}  // namespace llmtk

#endif  // LLMTK_TOOLS_COMMON_CHAT_FLAGS_H_
