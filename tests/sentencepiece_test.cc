// SentencePiece support: the ModelProto reader on hand-made and corrupt
// bytes (exact messages), the precompiled charsmap's errors, the Unigram
// Viterbi and SentencePiece BPE on tiny hand models (ids worked out by hand
// from unigram_model.cc's and bpe_model.cc's rules), and .model files
// trained with spm_train 0.1.97 encoding to spm_encode's ids.
#include <cfloat>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lib/base/io.h"
#include "lib/formats/sentencepiece_model.h"
#include "lib/tokenizer/charsmap.h"
#include "lib/tokenizer/spm_bpe.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/unigram.h"

namespace llmtk {
namespace {

// A tiny protobuf writer for test inputs.
std::string Varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
  return s;
}
std::string Tag(int field, int wire) { return Varint(static_cast<uint64_t>(field) << 3 | wire); }
std::string Len(int field, const std::string& payload) { return Tag(field, 2) + Varint(payload.size()) + payload; }
std::string Int(int field, uint64_t v) { return Tag(field, 0) + Varint(v); }
std::string Float(int field, float f) {
  std::string s = Tag(field, 5);
  s.append(reinterpret_cast<const char*>(&f), 4);
  return s;
}
std::string Piece(const std::string& text, float score, int type = 1) {
  std::string p = Len(1, text) + Float(2, score);
  if (type != 1) p += Int(3, static_cast<uint64_t>(type));
  return Len(1, p);
}

std::string ReadError(const std::string& bytes) {
  auto m = ReadSentencePieceModel(bytes, "t.model");
  EXPECT_FALSE(m.ok());
  return std::string(m.status().message());
}

TEST(SentencePieceModelTest, ReadsPiecesAndSpecs) {
  const std::string bytes =
      Piece("<unk>", 0, 2) + Piece("<s>", 0, 3) + Piece("\xE2\x96\x81" "a", -1.5f) + Piece("<sep>", 0, 4) +
      Len(2, Int(3, 2) + Int(4, 4) + Int(35, 1) + Int(24, 1) + Len(31, "<sep>") + Int(43, static_cast<uint64_t>(-1)) +
                 Len(46, "<bos>") + Int(99, 7)) +
      Len(3, Len(1, "identity") + Int(3, 0) + Int(5, 1)) + Len(4, "\x0a\x00") + Int(200, 1);
  auto m = ReadSentencePieceModel(bytes, "t.model");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->pieces.size(), 4u);
  EXPECT_EQ(m->pieces[0].type, SpmPieceType::kUnknown);
  EXPECT_EQ(m->pieces[2].piece, "\xE2\x96\x81" "a");
  EXPECT_EQ(m->pieces[2].score, -1.5f);
  EXPECT_EQ(m->pieces[2].type, SpmPieceType::kNormal);
  EXPECT_EQ(m->pieces[3].type, SpmPieceType::kUserDefined);
  EXPECT_EQ(m->trainer.model_type, SpmModelType::kBpe);
  EXPECT_EQ(m->trainer.vocab_size, 4);
  EXPECT_TRUE(m->trainer.byte_fallback);
  EXPECT_TRUE(m->trainer.treat_whitespace_as_suffix);
  EXPECT_EQ(m->trainer.user_defined_symbols, std::vector<std::string>{"<sep>"});
  EXPECT_EQ(m->trainer.pad_id, -1);
  EXPECT_EQ(m->trainer.bos_piece, "<bos>");
  EXPECT_EQ(m->trainer.eos_piece, "</s>");
  EXPECT_TRUE(m->normalizer.present);
  EXPECT_EQ(m->normalizer.name, "identity");
  EXPECT_FALSE(m->normalizer.add_dummy_prefix);
  EXPECT_TRUE(m->normalizer.remove_extra_whitespaces);
  EXPECT_FALSE(m->denormalizer.present);
}

TEST(SentencePieceModelTest, CorruptInputsNameTheByte) {
  EXPECT_EQ(ReadError(""), "t.model: SentencePiece model holds no pieces");
  EXPECT_EQ(ReadError(std::string("\x0a\x05\x0a\x09", 4)), "t.model: malformed SentencePiece model at byte 0 (truncated piece)");
  EXPECT_EQ(ReadError(Piece("a", 0) + "\x80"), "t.model: malformed SentencePiece model at byte 10 (truncated field tag)");
  EXPECT_EQ(ReadError("\x0b"), "t.model: malformed SentencePiece model at byte 0 (piece has unknown wire type 3)");
  EXPECT_EQ(ReadError(Int(1, 5)), "t.model: malformed SentencePiece model at byte 0 (piece has wire type 0, expected 2)");
  EXPECT_EQ(ReadError(Len(1, Len(1, "a") + Int(2, 1))),
            "t.model: malformed SentencePiece model at byte 5 (piece score has wire type 0, expected 5)");
  EXPECT_EQ(ReadError(Len(1, Len(1, "a") + Int(3, 7))),
            "t.model: malformed SentencePiece model at byte 5 (piece 0 has unknown type 7 (1..6 are known))");
  EXPECT_EQ(ReadError(Len(1, Len(1, "a") + Tag(2, 5) + "\x01\x02")),
            "t.model: malformed SentencePiece model at byte 5 (truncated piece score)");
  EXPECT_EQ(ReadError(Piece("a", 0) + Len(2, Tag(3, 0))),
            "t.model: malformed SentencePiece model at byte 12 (truncated field 3)");
  EXPECT_EQ(ReadError(Piece("a", 0) + Len(2, Int(3, 9))),
            "t.model: malformed SentencePiece model at byte 12 (unknown model_type 9 (1..4 are known))");
  EXPECT_EQ(ReadError(Piece("a", 0) + Len(3, Len(3, "x"))),
            "t.model: malformed SentencePiece model at byte 12 (normalizer_spec field 3 has wire type 2, expected 0)");
  EXPECT_EQ(ReadError(Piece("a", 0) + Tag(0, 0) + "\x01"),
            "t.model: malformed SentencePiece model at byte 10 (field number 0 or over 2^29)");
}

TEST(SentencePieceModelTest, TruncatedFileFromLoad) {
  auto bytes = ReadFileToString(std::string(LLMTK_TESTDATA) + "/quant/stories260K/tokenizer.model");
  ASSERT_TRUE(bytes.ok());
  const std::string path = ::testing::TempDir() + "/truncated.model";
  std::ofstream(path, std::ios::binary) << bytes->substr(0, bytes->size() - 20);
  auto tok = Tokenizer::Load(path);
  ASSERT_FALSE(tok.ok());
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(std::string(tok.status().message()),
            path + ": malformed SentencePiece model at byte 7431 (truncated trainer_spec)");
}

TEST(PrecompiledCharsmapTest, CorruptBlobs) {
  auto a = PrecompiledCharsmap::Parse(std::string("\xff\x00\x00\x00" "abcd", 8), "m.model");
  EXPECT_EQ(std::string(a.status().message()), "m.model: precompiled_charsmap: trie size 255 does not fit the 8-byte blob");
  auto b = PrecompiledCharsmap::Parse("abc", "m.model");
  EXPECT_EQ(std::string(b.status().message()), "m.model: precompiled_charsmap: blob of 3 bytes holds no trie");
  // Unit 1 has a leaf (bit 8) whose value unit (1 ^ offset 0 = 1) is itself: value 256 > 2 bytes of strings.
  std::string c("\x08\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00" "x", 13);
  auto cm = PrecompiledCharsmap::Parse(c, "m.model");
  EXPECT_EQ(std::string(cm.status().message()),
            "m.model: precompiled_charsmap: trie unit 1 (byte 8) has a value outside the 1 bytes of replacement strings");
  auto empty = PrecompiledCharsmap::Parse("", "m.model");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

std::vector<UnigramPiece> HandPieces() {
  using K = UnigramPiece::Kind;
  return {{"<unk>", 0, K::kNotInLattice}, {"a", -1, K::kNormal},  {"b", -2, K::kNormal},
          {"ab", -2.5, K::kNormal},       {"abc", -10, K::kNormal}, {"c", -3, K::kNormal},
          {"aa", -2, K::kNormal},         {"bc", 0, K::kUserDefined}, {"cc", -0.5, K::kUnused},
          {"<0x64>", 0, K::kNotInLattice}};
}

std::vector<uint32_t> Ids(const TokenModel& m, std::string_view text) {
  std::vector<uint32_t> ids;
  m.EncodeWord(text, &ids);
  return ids;
}

TEST(UnigramTest, ViterbiOnAHandModel) {
  UnigramOptions o;
  o.sentencepiece = true;
  o.unk_id = 0;
  auto m = UnigramModel::Build(HandPieces(), o, "hand");
  ASSERT_TRUE(m.ok()) << m.status();
  // ab -2.5 beats a+b -3; ab+c -5.5 beats a+b+c -6 and abc -10... but the
  // user-defined bc scores 2 * FLT_MIN - 0.1: a+bc -1.1 wins.
  EXPECT_EQ(Ids(**m, "ab"), (std::vector<uint32_t>{3}));
  EXPECT_EQ(Ids(**m, "abc"), (std::vector<uint32_t>{1, 7}));
  // a+a ties aa at -2: the first candidate (aa, from position 0) stays.
  EXPECT_EQ(Ids(**m, "aa"), (std::vector<uint32_t>{6}));
  // Unused cc is never chosen; unknown characters (penalty min(normal) - 10
  // = -20) in a run are one unk.
  EXPECT_EQ(Ids(**m, "cc"), (std::vector<uint32_t>{5, 5}));
  EXPECT_EQ(Ids(**m, "addad"), (std::vector<uint32_t>{1, 0, 1, 0}));
  o.byte_fallback = true;
  auto bf = UnigramModel::Build(HandPieces(), o, "hand");
  ASSERT_TRUE(bf.ok());
  EXPECT_EQ(Ids(**bf, "adx"), (std::vector<uint32_t>{1, 9, 0}));  // no <0x78>: unk
}

TEST(UnigramTest, HfFusesUnknownsAndScoresInDouble) {
  UnigramOptions o;
  o.unk_id = 0;
  std::vector<UnigramPiece> pieces = HandPieces();
  for (UnigramPiece& p : pieces) p.kind = UnigramPiece::Kind::kNormal;  // HF: everything is in the lattice
  auto m = UnigramModel::Build(pieces, o, "hand");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Ids(**m, "add"), (std::vector<uint32_t>{1, 0}));
  EXPECT_EQ(Ids(**m, "abc"), (std::vector<uint32_t>{1, 7}));  // bc scores 0 here
  EXPECT_EQ(Ids(**m, "cc"), (std::vector<uint32_t>{8}));      // not unused in HF
  // "<unk>" is in HF's lattice: its text becomes id 0 like an unknown.
  EXPECT_EQ(Ids(**m, "<unk>x"), (std::vector<uint32_t>{0}));
}

TEST(SpmBpeTest, MergesByPieceScore) {
  std::vector<SpmPiece> pieces = {{"<unk>", 0, SpmPieceType::kUnknown}, {"a", -5, SpmPieceType::kNormal},
                                  {"b", -5, SpmPieceType::kNormal},     {"c", -5, SpmPieceType::kNormal},
                                  {"ab", -1, SpmPieceType::kNormal},    {"bc", -0.5, SpmPieceType::kNormal},
                                  {"abc", -2, SpmPieceType::kNormal},   {"ca", -1, SpmPieceType::kUnused},
                                  {"cab", -3, SpmPieceType::kNormal},   {"<x>", 0, SpmPieceType::kUserDefined}};
  auto m = SpmBpeModel::Build(pieces, false, "hand");
  ASSERT_TRUE(m.ok()) << m.status();
  // bc (-0.5) before ab (-1); then a+bc = abc.
  EXPECT_EQ(Ids(**m, "abc"), (std::vector<uint32_t>{6}));
  // ab ties ab: the leftmost merges first.
  EXPECT_EQ(Ids(**m, "abab"), (std::vector<uint32_t>{4, 4}));
  // c+a makes unused ca, then ca+b makes cab; "ca" alone is split back.
  EXPECT_EQ(Ids(**m, "cab"), (std::vector<uint32_t>{8}));
  EXPECT_EQ(Ids(**m, "ca"), (std::vector<uint32_t>{3, 1}));
  // A user-defined symbol never merges; unknown characters are unk.
  EXPECT_EQ(Ids(**m, "a<x>bzzaz"), (std::vector<uint32_t>{1, 9, 2, 0, 1, 0}));
}

}  // namespace
}  // namespace llmtk
