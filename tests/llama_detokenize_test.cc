// Decoding with a GGUF bert (WPM) vocabulary as llama.cpp c392e50's
// llama_detokenize does: word starts spelled with a space, then its
// clean_spaces passes. The golden testdata/tok/bert-bge-detok.txt
// (scripts/reference/bert-bge-detok-golden): for each test string of
// ggml-vocab-bert-bge.gguf.inp and a few on punctuation and contractions, a
// line of ids (with [CLS]/[SEP]), then llama_detokenize's text with special
// tokens spelled out, then without them (\n \r \\ escaped).
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/formats/gguf.h"
#include "lib/formats/gguf_vocab.h"
#include "lib/tokenizer/decode.h"
#include "lib/tokenizer/llama_detokenize.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

TEST(LlamaCleanSpaces, ThreePassesAsLlamaCpp) {
  EXPECT_EQ(LlamaCleanSpaces(" hello , world ! ok ? a . b"), " hello, world! ok? a. b");
  EXPECT_EQ(LlamaCleanSpaces("a ' b"), "a'b");
  EXPECT_EQ(LlamaCleanSpaces("it 's I 'm we 're they 've don 't I 'd we 'll"),
            "it's I'm we're they've don 't I 'd we 'll");
  // llama.cpp blanks the space after a " ' " in place, so the next quote
  // does not follow a space and its own " ' " stays.
  EXPECT_EQ(LlamaCleanSpaces("a ' ' b"), "a'' b");
  EXPECT_EQ(LlamaCleanSpaces("a ' 's"), "a''s");
  EXPECT_EQ(LlamaCleanSpaces("a  ,"), "a ,");  // one space per pass
  EXPECT_EQ(LlamaCleanSpaces(" '"), " '");
  EXPECT_EQ(LlamaCleanSpaces(" 're"), "'re");
  EXPECT_EQ(LlamaCleanSpaces(" 'r"), " 'r");  // 're needs its e
  EXPECT_EQ(LlamaCleanSpaces(", ."), ",.");
  EXPECT_EQ(LlamaCleanSpaces(""), "");
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// A golden file's cases: a line of ids, llama_detokenize's text with
// special tokens spelled out, then without them.
struct DetokCase {
  std::string ids_line;
  std::vector<uint32_t> ids;
  std::string text, skipped;
};

std::vector<DetokCase> ReadDetokGolden(const std::string& path) {
  auto golden = ReadFileToString(path);
  EXPECT_TRUE(golden.ok()) << golden.status();
  if (!golden.ok()) return {};
  std::vector<std::string> lines = absl::StrSplit(*golden, '\n');
  lines.pop_back();  // after the last newline
  EXPECT_EQ(lines.size() % 3, 0u) << path;
  std::vector<DetokCase> cases;
  for (size_t i = 0; i + 2 < lines.size(); i += 3) {
    DetokCase c{lines[i], {}, lines[i + 1], lines[i + 2]};
    for (absl::string_view x : absl::StrSplit(lines[i], ' ', absl::SkipEmpty())) {
      uint32_t id;
      EXPECT_TRUE(absl::SimpleAtoi(x, &id)) << path << ": " << x;
      c.ids.push_back(id);
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

TEST(LlamaDetokenize, BertBgeAsLlamaCpp) {
  const std::string dir = std::string(LLMTK_TESTDATA) + "/tok/";
  auto tok = Tokenizer::Load(dir + "ggml-vocab-bert-bge.gguf.zst");
  ASSERT_TRUE(tok.ok()) << tok.status();
  size_t cases = 0, cleaned = 0;
  for (const DetokCase& c : ReadDetokGolden(dir + "bert-bge-detok.txt")) {
    auto text = (*tok)->Decode(c.ids, false);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(Escape(*text), c.text) << "ids: " << c.ids_line;
    auto skipped = (*tok)->Decode(c.ids, true);
    ASSERT_TRUE(skipped.ok()) << skipped.status();
    EXPECT_EQ(Escape(*skipped), c.skipped) << "ids: " << c.ids_line;
    // Cases where the clean-up changed something: the spaced-out join
    // differs from llama.cpp's text.
    std::string joined;
    for (uint32_t id : c.ids) joined += SpmSpacesToSpaces((*tok)->IdToToken(id));
    cleaned += Escape(joined) != c.text;
    ++cases;
  }
  EXPECT_EQ(cases, 55u);
  EXPECT_GE(cleaned, 8u);
}

// Read from llama-vocab.cpp (token_to_piece, detokenize, the loader's
// control-by-name list) on a made-up SentencePiece vocabulary.
TEST(LlamaDetokenizer, SpmPiecesAndLeadingSpace) {
  const std::vector<std::string> tokens = {"<unk>", "<s>", "</s>", "<0x41>", "\xE2\x96\x81Hi", "<|end|>", "x", "u"};
  const std::vector<int32_t> types = {kGgufTokenUnknown,     kGgufTokenControl, kGgufTokenControl, kGgufTokenByte,
                                      kGgufTokenNormal,      kGgufTokenNormal,  kGgufTokenUserDefined,
                                      kGgufTokenUnused};
  LlamaDetokenizerOptions o;
  o.type = LlamaVocabType::kSpm;
  o.add_space_prefix = true;
  const LlamaDetokenizer d = LlamaDetokenizer::Build(tokens, ComputeLlamaTokenAttrs(tokens, types, {}).attrs, o);
  auto run = [&](std::vector<uint32_t> ids, bool skip) {
    auto r = d.Run(ids, skip);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::string("<error>");
  };
  EXPECT_EQ(run({4, 4}, false), "Hi Hi");        // only the first token loses its space
  EXPECT_EQ(run({1, 4}, false), "<s> Hi");
  EXPECT_EQ(run({1, 4}, true), " Hi");           // nor after a dropped BOS
  EXPECT_EQ(run({0, 3, 7}, false), "<unk>A");    // unused: nothing
  EXPECT_EQ(run({0, 3, 7}, true), "A");          // unknown: dropped as control
  EXPECT_EQ(run({5, 6, 2}, false), "<|end|>x</s>");
  EXPECT_EQ(run({5, 6, 2}, true), "x");          // <|end|>: control by name; user-defined kept
  auto bad = d.Run(std::vector<uint32_t>{4, 8}, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "token id 8 at position 1 is outside the vocabulary (size 8)");
}

TEST(LlamaDetokenizer, BpeCleanSpacesPerPreTokenizer) {
  EXPECT_TRUE(LlamaBpeCleansSpaces("gpt-2"));
  EXPECT_TRUE(LlamaBpeCleansSpaces("default"));
  EXPECT_TRUE(LlamaBpeCleansSpaces("megrez"));  // qwen2's regex, but llama.cpp leaves clean_spaces set
  EXPECT_FALSE(LlamaBpeCleansSpaces("qwen2"));
  EXPECT_FALSE(LlamaBpeCleansSpaces("tekken"));
  EXPECT_FALSE(LlamaBpeCleansSpaces("deepseek-llm"));
  // "Ġ" is the byte-level space; "€" is outside the byte alphabet.
  const std::vector<std::string> tokens = {"Hello", "\xC4\xA0,", "\xC4\xA0world", "\xC4\xA0's", "\xE2\x82\xAC"};
  const std::vector<int32_t> types(tokens.size(), kGgufTokenNormal);
  LlamaDetokenizerOptions o;
  o.clean_spaces = true;
  const std::vector<uint32_t> ids = {0, 1, 2, 3};
  const std::vector<LlamaTokenAttr> attrs = ComputeLlamaTokenAttrs(tokens, types, {}).attrs;
  EXPECT_EQ(*LlamaDetokenizer::Build(tokens, attrs, o).Run(ids, false), "Hello, world's");
  o.clean_spaces = false;
  const LlamaDetokenizer raw = LlamaDetokenizer::Build(tokens, attrs, o);
  EXPECT_EQ(*raw.Run(ids, false), "Hello , world 's");
  EXPECT_EQ(raw.piece(4), "[UNK_BYTE_0xe282ac\xE2\x82\xAC]");
}

// Every other GGUF vocabulary of testdata/tok: testdata/tok/gguf-detok-NAME.txt
// (scripts/reference/gguf-detok-golden), the same three lines per case.
// falcon, mpt, starcoder: byte-level BPE with clean_spaces; deepseek-*: BPE
// pre-tokenizers that unset it; llama-spm, phi-3: SentencePiece, whose
// first token loses its leading space, except after a BOS (dropped or
// spelled out); phi-3's <|end|> is a control token to llama.cpp by name.
class GgufDetokenize : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufDetokenize, AsLlamaDetokenize) {
  const std::string dir = std::string(LLMTK_TESTDATA) + "/tok/";
  auto tok = Tokenizer::Load(dir + "ggml-vocab-" + GetParam() + ".gguf.zst");
  ASSERT_TRUE(tok.ok()) << tok.status();
  size_t cases = 0, differ = 0, skip_changes = 0;
  for (const DetokCase& c : ReadDetokGolden(dir + "gguf-detok-" + GetParam() + ".txt")) {
    auto text = (*tok)->Decode(c.ids, false);
    ASSERT_TRUE(text.ok()) << text.status();
    auto skipped = (*tok)->Decode(c.ids, true);
    ASSERT_TRUE(skipped.ok()) << skipped.status();
    if (Escape(*text) != c.text || Escape(*skipped) != c.skipped) {
      ++differ;
      ADD_FAILURE() << GetParam() << " ids: " << c.ids_line << "\n  want: " << c.text << "\n  got:  "
                    << Escape(*text) << "\n  want skipped: " << c.skipped << "\n  got skipped:  "
                    << Escape(*skipped);
    }
    skip_changes += c.text != c.skipped;
    ++cases;
  }
  EXPECT_EQ(differ, 0u);
  EXPECT_EQ(cases, 52u);
  EXPECT_GE(skip_changes, 1u);  // the special tokens spelled in the last case at least
}

INSTANTIATE_TEST_SUITE_P(Vocabs, GgufDetokenize,
                         ::testing::Values("falcon", "mpt", "starcoder", "deepseek-coder", "deepseek-llm", "llama-spm",
                                           "phi-3"));

// token_to_piece gives nothing for a token that is neither normal, control,
// user-defined, unknown nor byte (read from llama-vocab.cpp: no file on this
// machine has an unused token to run llama.cpp on).
TEST(LlamaDetokenize, UnusedTokensDecodeToNothing) {
  auto bytes = ReadFileToString(std::string(LLMTK_TESTDATA) + "/tok/ggml-vocab-bert-bge.gguf.zst");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto file = GgufFile::FromBuffer(*bytes, "bge");
  ASSERT_TRUE(file.ok()) << file.status();
  GgufVocab v = ReadGgufVocab(**file);
  ASSERT_TRUE(v.token_types && v.tokens);
  ASSERT_EQ((*v.tokens)[1], "[unused0]");
  (*v.token_types)[1] = kGgufTokenUnused;
  auto tok = Tokenizer::FromGgufVocab(std::move(v), "bge-unused");
  ASSERT_TRUE(tok.ok()) << tok.status();
  const std::vector<uint32_t> ids = {101, 1, 7592, 1010, 2088, 102};  // [CLS] [unused0] hello , world [SEP]
  EXPECT_EQ(*(*tok)->Decode(ids, false), "[CLS] hello, world[SEP]");
  EXPECT_EQ(*(*tok)->Decode(ids, true), " hello, world");
}

}  // namespace
}  // namespace llmtk
