#include "tools/common/chat_flags.h"

#include "absl/strings/str_cat.h"
#include "lib/base/io.h"

namespace llmtk {

absl::StatusOr<ChatPrompter> MakeChatPrompter(const std::string& model_path, const std::string& template_path,
                                              const Vocab& vocab) {
  std::string text;
  if (!template_path.empty()) {
    ASSIGN_OR_RETURN(text, ReadFileToString(template_path));
    if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(template_path, ": the chat template is empty"));
  }
  absl::StatusOr<ChatPrompter> p = ChatPrompter::Create(vocab, text);
  if (absl::IsNotFound(p.status()))
    return absl::InvalidArgumentError(
        absl::StrCat(model_path, ": ", p.status().message(), "; give a template with --chat-template FILE"));
  if (!p.ok()) {
    const std::string& src = template_path.empty() ? model_path : template_path;
    return absl::Status(p.status().code(), absl::StrCat(src, ": ", p.status().message()));
  }
  return p;
}

}  // namespace llmtk
