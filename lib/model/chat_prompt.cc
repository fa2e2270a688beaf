#include "lib/model/chat_prompt.h"

#include "absl/strings/str_cat.h"
#include "lib/formats/gguf_keys.h"

namespace llmtk {

absl::StatusOr<ChatPrompter> ChatPrompter::Create(const Vocab& vocab, std::string_view template_text) {
  if (template_text.empty()) {
    if (!vocab.chat_template() || vocab.chat_template()->empty())
      return absl::NotFoundError(absl::StrCat("the model has no chat template ('",
                                              ToAbsl(GgufKeyName(GgufKey::kTokenizerChatTemplate)), "' is missing)"));
    template_text = *vocab.chat_template();
  }
  ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::Parse(template_text));
  ChatOptions o;
  o.add_generation_prompt = true;
  o.bos_token = vocab.TokenText(vocab.bos());
  o.eos_token = vocab.TokenText(vocab.eos());
  return ChatPrompter(std::move(t), std::move(o));
}

absl::StatusOr<std::string> ChatPrompter::Render(std::string_view messages_json) const {
  return template_.Render(messages_json, opts_);
}

absl::StatusOr<std::string> ChatPrompter::Render(const std::vector<ChatMessage>& messages) const {
  return template_.Render(messages, opts_);
}

absl::StatusOr<std::string> ChatPrompter::Render(const chat::Value& messages) const {
  return template_.Render(messages, opts_);
}

std::string_view ChatPrompter::TokenizerText(std::string_view text) const {
  const std::string& bos = opts_.bos_token;
  const std::string& eos = opts_.eos_token;
  if (!bos.empty() && text.substr(0, bos.size()) == bos) text.remove_prefix(bos.size());
  if (!eos.empty() && text.size() >= eos.size() && text.substr(text.size() - eos.size()) == eos)
    text.remove_suffix(eos.size());
  return text;
}

}  // namespace llmtk
