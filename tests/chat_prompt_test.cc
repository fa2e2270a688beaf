// model/chat_prompt: the model's chat template from the GGUF, its special
// tokens as the vocabulary spells them, and one BOS after tokenizing whether
// or not the template writes it (llama.cpp's chat mode).
#include "lib/model/chat_prompt.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "lib/formats/gguf.h"

namespace llmtk {
namespace {

const std::string kData = std::string(LLMTK_TESTDATA) + "/";

Vocab LoadVocab(const std::string& path) {
  auto f = GgufFile::Open(path);
  EXPECT_TRUE(f.ok()) << f.status();
  auto v = Vocab::FromGguf(**f);
  EXPECT_TRUE(v.ok()) << v.status();
  return std::move(*v);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ChatPrompt, TemplateAndSpecialTokensFromTheGguf) {
  const Vocab vocab = LoadVocab(kData + "run/stories260K-chat.gguf");
  ASSERT_TRUE(vocab.chat_template().has_value());
  EXPECT_EQ(*vocab.chat_template(), ReadFile(kData + "chat_templates/zephyr.jinja"));
  auto p = ChatPrompter::Create(vocab);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->options().bos_token, "<s>");
  EXPECT_EQ(p->options().eos_token, "</s>");
  auto r = p->Render(std::vector<ChatMessage>{{"system", "Be kind."}, {"user", "Hi"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "<|system|>\nBe kind.</s>\n<|user|>\nHi</s>\n<|assistant|>\n");
  EXPECT_EQ(p->TokenizerText(*r), *r);

  // The template's own </s> is parsed as the EOS token; BOS comes from the
  // vocabulary.
  auto ids = vocab.Encode(p->TokenizerText(*r), true);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->front(), vocab.bos());
  EXPECT_EQ(std::count(ids->begin(), ids->end(), vocab.bos()), 1);
  EXPECT_EQ(std::count(ids->begin(), ids->end(), vocab.eos()), 2);
}

TEST(ChatPrompt, TemplateThatWritesBosGetsOneBos) {
  const Vocab vocab = LoadVocab(kData + "run/stories260K-chat.gguf");
  auto p = ChatPrompter::Create(vocab, ReadFile(kData + "chat_templates/gemma-2.jinja"));
  ASSERT_TRUE(p.ok()) << p.status();
  auto r = p->Render(std::vector<ChatMessage>{{"user", "Hi"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "<s><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_EQ(p->TokenizerText(*r), "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
  auto ids = vocab.Encode(p->TokenizerText(*r), true);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(std::count(ids->begin(), ids->end(), vocab.bos()), 1);
  EXPECT_EQ(ids->front(), vocab.bos());

  // Without the generation prompt a conversation may end in EOS text, which
  // llama.cpp drops as well.
  ChatPrompter q = std::move(*p);
  EXPECT_EQ(q.TokenizerText("<s>a</s>"), "a");
  EXPECT_EQ(q.TokenizerText("</s>a<s>"), "</s>a<s>");
}

TEST(ChatPrompt, NoTemplateIsNotFound) {
  const Vocab vocab = LoadVocab(kData + "run/stories260K-hf-f32.gguf");
  EXPECT_FALSE(vocab.chat_template().has_value());
  auto p = ChatPrompter::Create(vocab);
  EXPECT_TRUE(absl::IsNotFound(p.status()));
  EXPECT_EQ(std::string(p.status().message()), "the model has no chat template ('tokenizer.chat_template' is missing)");
  auto bad = ChatPrompter::Create(vocab, "{% if %}");
  EXPECT_EQ(std::string(bad.status().message()),
            "chat template: line 1, column 7: unexpected '%}' in an expression");
}

}  // namespace
}  // namespace llmtk
