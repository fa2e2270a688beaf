// model/chat_prompt: a conversation into the text a model reads, through the
// model's chat template (lib/chat) — what `llmtk-run --chat` does per prompt
// and what an evaluation's chat mode calls.
//
// The render is transformers' apply_chat_template with the generation
// prompt, bos_token / eos_token as the GGUF's vocabulary spells them. For
// tokenizing, llama.cpp's chat mode (common/chat.cpp) drops a BOS text the
// template wrote at the start and an EOS text at the end, then tokenizes
// with the vocabulary's own BOS and special tokens parsed; TokenizerText
// gives that text, so a template that writes BOS yields one BOS, not two.
//
// Thread-safety: immutable after Create; Render may run concurrently.
#ifndef LLMTK_LIB_MODEL_CHAT_PROMPT_H_
#define LLMTK_LIB_MODEL_CHAT_PROMPT_H_

#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"
#include "lib/chat/chat_template.h"
#include "lib/model/vocab.h"

namespace llmtk {

class ChatPrompter {
 public:
  // `template_text` empty: the vocabulary's tokenizer.chat_template;
  // NotFound when it has none. InvalidArgument when the template is outside
  // the supported subset (lib/chat/chat_template.h).
  static absl::StatusOr<ChatPrompter> Create(const Vocab& vocab, std::string_view template_text = "");

  // `messages_json`: a JSON array of {"role", "content", ...} objects.
  absl::StatusOr<std::string> Render(std::string_view messages_json) const;
  absl::StatusOr<std::string> Render(const std::vector<ChatMessage>& messages) const;
  absl::StatusOr<std::string> Render(const chat::Value& messages) const;
  // The rendered text without the BOS text it starts with and the EOS text
  // it ends with (see the header comment).
  std::string_view TokenizerText(std::string_view rendered) const;

  const ChatOptions& options() const { return opts_; }
  ChatOptions& mutable_options() { return opts_; }

 private:
  ChatPrompter(ChatTemplate t, ChatOptions o) : template_(std::move(t)), opts_(std::move(o)) {}
  ChatTemplate template_;
  ChatOptions opts_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_MODEL_CHAT_PROMPT_H_
