// The SentencePiece-style GGUF vocabulary of `llmtk-tok train --gguf`: the
// keys it holds, and that it encodes like the trained tokenizer.json (and HF
// tokenizers' ids for it), read both by our loader (Tokenizer::FromGguf) and
// by a plain re-implementation of llama.cpp's SPM tokenizer, which merges by
// token score instead of a merge list.
#include <algorithm>
#include <queue>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/tokenizer/train/bpe_trainer.h"
#include "lib/tokenizer/train/merge.h"
#include "lib/tokenizer/train/output.h"
#include "lib/formats/gguf.h"
#include "lib/base/io.h"
#include "lib/base/jsonl.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/bpe_trainer_gguf_test_" + name;
}

std::vector<uint32_t> Encode(const Tokenizer& tok, std::string_view text) {
  std::vector<uint32_t> ids;
  EXPECT_TRUE(tok.Encode(text, true, &ids).ok());
  return ids;
}

TEST(BpeTrainerGguf, SentencePieceVocabularyKeys) {
  BpeTrainerOptions o;
  o.style = BpeStyle::kSentencePiece;
  o.vocab_size = 3 + 256 + 8;  // room for the 4 characters ▁ a b c
  auto m = LearnMerges({{"ab", 5}, {"abc", 3}}, o);
  ASSERT_TRUE(m.ok()) << m.status();
  // (a,b) and (▁,a) both count 8; (a,b) has the smaller ids (▁ is U+2581).
  ASSERT_EQ(m->tokens.size(), 266u);
  EXPECT_EQ(m->tokens[263], "ab");
  EXPECT_EQ(m->tokens[264], "\xE2\x96\x81" "ab");
  EXPECT_EQ(m->tokens[265], "\xE2\x96\x81" "abc");

  std::vector<float> want(266, 0.0f);
  for (int k = 0; k < 4; ++k) want[259 + k] = -3.0f - k;  // characters a b c ▁
  for (int k = 0; k < 3; ++k) want[263 + k] = -static_cast<float>(k);
  EXPECT_EQ(SentencePieceScores(*m), want);

  const std::string path = TempPath("keys.gguf");
  ASSERT_TRUE(WriteGgufVocab(*m, "cjk", path).ok());  // the pre-tokenizer plays no part
  auto f = GgufFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status();
  const GgufFile& g = **f;
  EXPECT_EQ(*g.GetString("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(*g.GetString("tokenizer.ggml.pre"), "default");
  auto tokens = g.GetStringArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(std::vector<std::string>(tokens->begin(), tokens->end()), m->tokens);
  EXPECT_EQ(*g.GetF32Array("tokenizer.ggml.scores"), want);
  std::vector<int32_t> types(266, 1);
  types[0] = 2;
  types[1] = types[2] = 3;
  for (int b = 0; b < 256; ++b) types[3 + b] = 6;
  EXPECT_EQ(*g.GetI32Array("tokenizer.ggml.token_type"), types);
  EXPECT_EQ(*g.GetU32("tokenizer.ggml.unknown_token_id"), 0u);
  EXPECT_EQ(*g.GetU32("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(*g.GetU32("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_FALSE(*g.GetBool("tokenizer.ggml.add_bos_token"));
  EXPECT_FALSE(*g.GetBool("tokenizer.ggml.add_eos_token"));
  EXPECT_TRUE(*g.GetBool("tokenizer.ggml.add_space_prefix"));

  auto tok = Tokenizer::FromGguf(g);
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_EQ(Encode(**tok, "abc ab"), (std::vector<uint32_t>{265, 264}));
  // "d" is no token: byte fallback <0x64>; no BOS although "llama" defaults to it.
  EXPECT_EQ(Encode(**tok, "abd"), (std::vector<uint32_t>{264, 3 + 0x64}));
  EXPECT_EQ(Encode(**tok, "<unk><s>ab"), (std::vector<uint32_t>{0, 1, 264}));
}

// Text spelling a special or byte-fallback token never merges into it: both
// "<s>" and "<0x41>" are the most frequent pairs' strings here.
TEST(BpeTrainerGguf, SentencePieceNeverMergesIntoReservedTokens) {
  BpeTrainerOptions o;
  o.style = BpeStyle::kSentencePiece;
  o.vocab_size = 400;
  auto m = LearnMerges({{"a<s>", 3}, {"b<s>", 3}, {"a<0x41>", 9}, {"b<0x41>", 9}}, o);
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->tokens[1], "<s>");
  ASSERT_EQ(m->tokens[3 + 0x41], "<0x41>");
  std::vector<std::string> merged;
  for (auto [a, b] : m->merges) merged.push_back(m->tokens[a] + m->tokens[b]);
  EXPECT_EQ(std::count(merged.begin(), merged.end(), "<s>"), 0);
  EXPECT_EQ(std::count(merged.begin(), merged.end(), "<0x41>"), 0);
  // The pairs inside still merge; ("<0x", "41>") and ("<s", ">") were the
  // most frequent pairs when they were dropped.
  EXPECT_EQ(absl::StrJoin(merged, "|"),
            "0x|1>|41>|<0x|\xE2\x96\x81" "a|\xE2\x96\x81" "b|\xE2\x96\x81" "a<0x|\xE2\x96\x81" "b<0x|"
            "\xE2\x96\x81" "a<0x41>|\xE2\x96\x81" "b<0x41>|<s|\xE2\x96\x81" "a<s|\xE2\x96\x81" "b<s|"
            "\xE2\x96\x81" "a<s>|\xE2\x96\x81" "b<s>");
  EXPECT_EQ(merged.size(), m->tokens.size() - 3 - m->alphabet_size);  // each merge a new token
}

// llama.cpp's llm_tokenizer_spm_session, written out plainly from its
// description: " " in front, spaces as "▁", UTF-8 characters as symbols;
// repeatedly merge the adjacent pair whose concatenation is a token with the
// highest score (leftmost on ties), whatever the token's type; symbols that
// are no token become their bytes' <0xXX> tokens.
std::vector<uint32_t> LlamaCppSpm(const std::vector<std::string>& tokens, const std::vector<float>& scores,
                                  std::string_view raw) {
  if (raw.empty()) return {};  // no fragment, no space prefix
  absl::flat_hash_map<std::string, uint32_t> id;
  for (size_t i = 0; i < tokens.size(); ++i) id.try_emplace(tokens[i], static_cast<uint32_t>(i));
  std::string text = " ";
  text += raw;
  text = absl::StrReplaceAll(text, {{" ", "\xE2\x96\x81"}});
  struct Sym {
    size_t begin, len;
    int prev, next;
  };
  std::vector<Sym> sym;
  for (size_t pos = 0; pos < text.size();) {
    const unsigned char c = text[pos];
    const size_t n = std::min<size_t>(c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4, text.size() - pos);
    const int i = static_cast<int>(sym.size());
    sym.push_back({pos, n, i - 1, pos + n == text.size() ? -1 : i + 1});
    pos += n;
  }
  struct Bigram {
    float score;
    int left, right;
    size_t len;
    bool operator<(const Bigram& o) const { return score != o.score ? score < o.score : left > o.left; }
  };
  std::priority_queue<Bigram> queue;
  auto add = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    auto it = id.find(text.substr(sym[l].begin, sym[l].len + sym[r].len));
    if (it != id.end()) queue.push({scores[it->second], l, r, sym[l].len + sym[r].len});
  };
  for (int i = 1; i < static_cast<int>(sym.size()); ++i) add(i - 1, i);
  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Sym &l = sym[b.left], &r = sym[b.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.len) continue;  // stale
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    add(l.prev, b.left);
    add(b.left, l.next);
  }
  std::vector<uint32_t> out;
  for (int i = sym.empty() ? -1 : 0; i >= 0; i = sym[i].next) {
    std::string piece = text.substr(sym[i].begin, sym[i].len);
    if (auto it = id.find(piece); it != id.end()) {
      out.push_back(it->second);
      continue;
    }
    for (unsigned char c : piece) out.push_back(id.at(absl::StrFormat("<0x%02X>", c)));
  }
  return out;
}

// The sample corpus at the options of testdata/tok-train/sample-sp-3000.json
// (whose HF tokenizers ids are in sample-sp-3000.hf-ids.zst).
TEST(BpeTrainerGguf, SentencePieceGgufEncodesLikeTokenizerJson) {
  const std::string corpus = std::string(LLMTK_TESTDATA) + "/corpus/sample.jsonl.zst";
  const std::string dir = std::string(LLMTK_TESTDATA) + "/tok-train/";
  BpeTrainerOptions o;
  o.style = BpeStyle::kSentencePiece;
  o.character_coverage = 0.95;
  o.vocab_size = 3000;
  const std::string path = TempPath("sp.gguf");
  ASSERT_TRUE(TrainBpe({corpus}, {}, o, path, true).ok());
  auto gguf_file = GgufFile::Open(path);
  ASSERT_TRUE(gguf_file.ok()) << gguf_file.status();
  auto views = (*gguf_file)->GetStringArray("tokenizer.ggml.tokens");
  auto scores = (*gguf_file)->GetF32Array("tokenizer.ggml.scores");
  ASSERT_TRUE(views.ok() && scores.ok());
  const std::vector<std::string> tokens(views->begin(), views->end());
  auto gguf = Tokenizer::FromGguf(**gguf_file);
  ASSERT_TRUE(gguf.ok()) << gguf.status();
  auto json = Tokenizer::Load(dir + "sample-sp-3000.json");
  ASSERT_TRUE(json.ok()) << json.status();
  ASSERT_EQ(tokens, (*json)->parts().token_text);

  std::vector<std::string> docs;
  auto reader = DocumentReader::Open({corpus}, {});
  ASSERT_TRUE(reader.ok());
  Document doc;
  while (*(*reader)->Next(&doc)) docs.emplace_back(doc.text);
  auto hf = ReadFileToString(dir + "sample-sp-3000.hf-ids.zst");
  ASSERT_TRUE(hf.ok());
  std::vector<std::string> lines = absl::StrSplit(*hf, '\n');
  ASSERT_EQ(lines.size(), docs.size() + 1);
  for (size_t i = 0; i < docs.size(); ++i) {
    ASSERT_EQ(absl::StrJoin(Encode(**gguf, docs[i]), " "), lines[i]) << "document " << i;
    ASSERT_EQ(absl::StrJoin(LlamaCppSpm(tokens, *scores, docs[i]), " "), lines[i]) << "document " << i;
  }

  // Characters outside the alphabet (byte fallback), runs of spaces, CJK.
  const std::vector<std::string> texts = {
      "Hello world",
      "  two leading spaces,  double  spaces and a trailing one ",
      "llama \xF0\x9F\xA6\x99 emoji, rare \xE9\xBE\x98 and caf\xC3\xA9",
      "\xE4\xB8\xAD\xE6\x96\x87\xE5\x88\x86\xE8\xAF\x8D\xEF\xBC\x9A\xE6\x88\x91\xE4\xBB\xAC\xE7\x9A\x84"
      "\xE6\xA8\xA1\xE5\x9E\x8B\xE3\x80\x82 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE6\x96\x87",
      "tabs\tand\nnew lines\n\n end",
      "",
  };
  size_t byte_tokens = 0;
  for (const std::string& t : texts) {
    const std::vector<uint32_t> want = Encode(**json, t);
    EXPECT_EQ(Encode(**gguf, t), want) << t;
    EXPECT_EQ(LlamaCppSpm(tokens, *scores, t), want) << t;
    for (uint32_t id : want) byte_tokens += id >= 3 && id < 3 + 256;
    auto back = (*gguf)->Decode(want, false);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, t);
  }
  EXPECT_GE(byte_tokens, 10u);  // 🦙 龘 and more went through byte fallback
  // Special tokens' text: matched before BPE by both (llama.cpp too: its
  // special-token cache holds control and unknown tokens).
  for (const std::string t : {"<s>x</s> <unk>", "a<s"}) {
    EXPECT_EQ(Encode(**gguf, t), Encode(**json, t)) << t;
  }
}

}  // namespace
}  // namespace llmtk
