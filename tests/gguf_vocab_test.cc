#include "lib/formats/gguf_vocab.h"

#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/formats/gguf_keys.h"
#include "lib/formats/gguf_writer.h"

namespace llmtk {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid());
}

absl::StatusOr<std::unique_ptr<GgufFile>> WriteAndOpen(const GgufMetadata& md, const std::string& name) {
  const std::string p = TempPath(name);
  RETURN_IF_ERROR(WriteGguf(p, md, {}, [](size_t, uint8_t*, size_t) { return absl::OkStatus(); }));
  auto f = GgufFile::Open(p);
  std::remove(p.c_str());  // the mapping stays valid
  return f;
}

GgufVocab SampleVocab() {
  GgufVocab v;
  v.model = "llama";
  v.pre = "default";
  v.tokens = {"<unk>", "<s>", "</s>", "a", "b", "ab"};
  v.scores = {0, 0, 0, -1, -2, -0.5f};
  v.token_types = {kGgufTokenUnknown, kGgufTokenControl, kGgufTokenControl, kGgufTokenNormal, kGgufTokenNormal,
                   kGgufTokenNormal};
  v.set_special_id(GgufSpecialToken::kUnknown, 0);
  v.set_special_id(GgufSpecialToken::kBos, 1);
  v.set_special_id(GgufSpecialToken::kEos, 2);
  v.add_bos = false;
  v.add_eos = false;
  v.add_space_prefix = true;
  v.chat_template = "{{ x }}";
  return v;
}

TEST(GgufVocab, WritesInConverterOrderKeepingSpecialIdOrder) {
  GgufMetadata md;
  SetGgufVocab(SampleVocab(), &md);
  std::vector<std::string> keys;
  for (const auto& e : md.entries()) keys.push_back(e.key);
  auto k = [](GgufKey key) { return std::string(GgufKeyName(key)); };
  EXPECT_EQ(keys, (std::vector<std::string>{
                      k(GgufKey::kTokenizerModel), k(GgufKey::kTokenizerPre), k(GgufKey::kTokenizerTokens),
                      k(GgufKey::kTokenizerScores), k(GgufKey::kTokenizerTokenType), k(GgufKey::kTokenizerUnknownId),
                      k(GgufKey::kTokenizerBosId), k(GgufKey::kTokenizerEosId), k(GgufKey::kTokenizerAddBos),
                      k(GgufKey::kTokenizerAddEos), k(GgufKey::kTokenizerAddSpacePrefix),
                      k(GgufKey::kTokenizerChatTemplate)}));
}

TEST(GgufVocab, ReadsBackWhatItWrote) {
  GgufMetadata md;
  const GgufVocab v = SampleVocab();
  SetGgufVocab(v, &md);
  auto f = WriteAndOpen(md, "vocab.gguf");
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(HasGgufVocab(**f));
  const GgufVocab r = ReadGgufVocab(**f);
  EXPECT_TRUE(r.bad_keys.empty());
  EXPECT_EQ(r.model, v.model);
  EXPECT_EQ(r.pre, v.pre);
  EXPECT_EQ(r.tokens, v.tokens);
  EXPECT_EQ(r.scores, v.scores);
  EXPECT_EQ(r.token_types, v.token_types);
  EXPECT_FALSE(r.merges.has_value());
  EXPECT_EQ(r.special_id(GgufSpecialToken::kBos), 1u);
  EXPECT_EQ(r.special_id(GgufSpecialToken::kEos), 2u);
  EXPECT_EQ(r.special_id(GgufSpecialToken::kUnknown), 0u);
  EXPECT_FALSE(r.special_id(GgufSpecialToken::kPadding).has_value());
  EXPECT_EQ(r.add_bos, false);
  EXPECT_EQ(r.add_eos, false);
  EXPECT_EQ(r.add_space_prefix, true);
  EXPECT_EQ(r.chat_template, v.chat_template);
}

TEST(GgufVocab, AbsentKeysStayAbsentAndWrongTypesAreKeptPerKey) {
  GgufMetadata md;
  md.SetString(GgufKeyName(GgufKey::kGeneralArchitecture), "llama");
  auto f = WriteAndOpen(md, "novocab.gguf");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(HasGgufVocab(**f));
  const GgufVocab r = ReadGgufVocab(**f);
  EXPECT_FALSE(r.model || r.tokens || r.token_types || r.add_bos);
  EXPECT_TRUE(r.special_ids.empty());
  EXPECT_TRUE(r.bad_keys.empty());

  md.SetU32(GgufKeyName(GgufKey::kTokenizerModel), 7);
  md.SetString(GgufKeyName(GgufKey::kTokenizerPaddingId), "x");
  md.SetU32(GgufKeyName(GgufKey::kTokenizerBosId), 1);
  auto g = WriteAndOpen(md, "badvocab.gguf");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_FALSE(HasGgufVocab(**g));
  const GgufVocab b = ReadGgufVocab(**g);
  EXPECT_FALSE(b.model.has_value());
  EXPECT_EQ(b.KeyStatus(GgufKey::kTokenizerModel).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(b.KeyStatus(GgufKey::kTokenizerPaddingId).code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(b.KeyStatus(GgufKey::kTokenizerBosId).ok());
  EXPECT_EQ(b.special_id(GgufSpecialToken::kBos), 1u);
  EXPECT_FALSE(b.special_id(GgufSpecialToken::kPadding).has_value());
}

}  // namespace
}  // namespace llmtk
