#include "lib/formats/gguf.h"

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace llmtk {
namespace {

using ::testing::HasSubstr;

// Hand-assembles GGUF bytes so that each test controls every field.
class Bytes {
 public:
  Bytes& U8(uint8_t v) { return Raw(&v, 1); }
  Bytes& U32(uint32_t v) { return Raw(&v, 4); }
  Bytes& U64(uint64_t v) { return Raw(&v, 8); }
  Bytes& F32(float v) { return Raw(&v, 4); }
  Bytes& Str(std::string_view s) { U64(s.size()); return Raw(s.data(), s.size()); }
  Bytes& Raw(const void* p, size_t n) { s_.append(static_cast<const char*>(p), n); return *this; }
  Bytes& PadTo(size_t al) { while (s_.size() % al) s_.push_back('\0'); return *this; }
  Bytes& Zeros(size_t n) { s_.append(n, '\0'); return *this; }
  Bytes& Header(uint64_t n_tensors, uint64_t n_kv) { Raw("GGUF", 4); U32(3); U64(n_tensors); return U64(n_kv); }
  Bytes& Tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    Str(name); U32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) U64(d);
    U32(type); return U64(offset);
  }
  const std::string& str() const { return s_; }
 private:
  std::string s_;
};

absl::StatusOr<std::unique_ptr<GgufFile>> Parse(const Bytes& b) { return GgufFile::FromBuffer(b.str(), "t.gguf"); }

// A valid file: two KVs and two F32 tensors (4 and 8 elements).
Bytes Valid() {
  Bytes b;
  b.Header(2, 3);
  b.Str("general.architecture").U32(8).Str("llama");
  b.Str("llama.block_count").U32(4).U32(5);
  b.Str("tokenizer.ggml.scores").U32(9).U32(6).U64(2).F32(0.5f).F32(-1.0f);
  b.Tensor("a", {4}, 0, 0);
  b.Tensor("b", {4, 2}, 0, 32);
  b.PadTo(32);
  for (int i = 0; i < 4; ++i) b.F32(static_cast<float>(i));
  b.Zeros(16);
  for (int i = 0; i < 8; ++i) b.F32(static_cast<float>(10 + i));
  return b;
}

TEST(Gguf, ReadsValidFile) {
  Bytes b = Valid();
  auto f = Parse(b);
  ASSERT_TRUE(f.ok()) << f.status();
  const GgufFile& g = **f;
  EXPECT_EQ(g.version(), 3u);
  EXPECT_EQ(g.alignment(), 32u);
  ASSERT_EQ(g.metadata().size(), 3u);
  EXPECT_EQ(g.metadata()[1].key, "llama.block_count");
  EXPECT_EQ(*g.GetString("general.architecture"), "llama");
  EXPECT_EQ(*g.GetU32("llama.block_count"), 5u);
  EXPECT_EQ(*g.GetU64("llama.block_count"), 5u);
  EXPECT_THAT(*g.GetF32Array("tokenizer.ggml.scores"), ::testing::ElementsAre(0.5f, -1.0f));
  ASSERT_EQ(g.tensors().size(), 2u);
  const GgufTensor* t = g.FindTensor("b");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dims, (std::vector<int64_t>{4, 2}));
  EXPECT_EQ(t->n_elements, 8);
  EXPECT_EQ(t->rows(), 2);
  EXPECT_EQ(t->n_bytes, 32u);
  float v;
  std::memcpy(&v, t->data + 4, 4);
  EXPECT_EQ(v, 11.0f);
  EXPECT_EQ(g.FindTensor("c"), nullptr);
}

TEST(Gguf, TypedAccessErrors) {
  Bytes b = Valid();
  auto f = Parse(b);
  ASSERT_TRUE(f.ok());
  auto s = (*f)->GetU32("nope");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.status().message(), "t.gguf: key 'nope' not found");
  auto w = (*f)->GetU32("general.architecture");
  EXPECT_EQ(w.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(w.status().message(), "t.gguf: key 'general.architecture' has type string, expected u32");
  auto a = (*f)->GetString("tokenizer.ggml.scores");
  EXPECT_EQ(a.status().message(), "t.gguf: key 'tokenizer.ggml.scores' has type array of f32, expected string");
  auto i = (*f)->GetI32Array("tokenizer.ggml.scores");
  EXPECT_EQ(i.status().message(), "t.gguf: key 'tokenizer.ggml.scores' has type array of f32, expected array of i32");
}

void ExpectDataLoss(const Bytes& b, const std::string& message) {
  auto f = Parse(b);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss) << f.status();
  EXPECT_EQ(std::string(f.status().message()), message);
}

TEST(Gguf, RejectsWrongMagic) {
  Bytes b;
  b.Raw("GGML", 4).U32(3).U64(0).U64(0);
  ExpectDataLoss(b, "t.gguf: not a GGUF file (the first 4 bytes are not \"GGUF\")");
  ExpectDataLoss(Bytes(), "t.gguf: not a GGUF file (the first 4 bytes are not \"GGUF\")");
}

TEST(Gguf, RejectsEveryTruncation) {
  const std::string full = Valid().str();
  // Cutting anywhere before the end of the last tensor's data must fail
  // (cleanly) and never read past the buffer.
  for (size_t n = 0; n < full.size(); ++n) {
    std::string cut = full.substr(0, n);
    auto f = GgufFile::FromBuffer(cut, "t.gguf");
    ASSERT_FALSE(f.ok()) << n;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss) << n << f.status();
  }
  Bytes b;
  b.Header(0, 1).Str("k").U32(4).U8(1);
  ExpectDataLoss(b, "t.gguf: truncated at byte 37 reading value of key 'k' (needs 4 bytes, 1 left); "
                    "the file is incomplete or not GGUF");
}

TEST(Gguf, RejectsVersions) {
  Bytes b;
  b.Raw("GGUF", 4).U32(1).U64(0).U64(0);
  auto f = Parse(b);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kUnimplemented);
  Bytes be;
  be.Raw("GGUF", 4).U32(0x03000000).U64(0).U64(0);
  f = Parse(be);
  EXPECT_EQ(f.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(f.status().message(), "t.gguf: big-endian GGUF files are not supported");
  Bytes v9;
  v9.Raw("GGUF", 4).U32(9).U64(0).U64(0);
  ExpectDataLoss(v9, "t.gguf: unsupported GGUF version 9 (expected 3)");
}

TEST(Gguf, RejectsAbsurdCounts) {
  Bytes b;
  b.Header(0, 1ull << 60);
  ExpectDataLoss(b, "t.gguf: metadata count 1152921504606846976 cannot fit in the 0 bytes after the header");
  Bytes t;
  t.Header(~0ull, 0).Zeros(100);
  ExpectDataLoss(t, "t.gguf: tensor count 18446744073709551615 cannot fit in the 100 bytes after the header");
  Bytes s;
  s.Header(0, 1).U64(~0ull).Zeros(8);
  ExpectDataLoss(s, "t.gguf: key of metadata entry 0 at byte 24 has length 18446744073709551615 but only 8 bytes "
                    "are left");
  Bytes a;
  a.Header(0, 1).Str("k").U32(9).U32(4).U64(1ull << 62).Zeros(8);
  ExpectDataLoss(a, "t.gguf: key 'k' at byte 41: array of 4611686018427387904 u32 elements does not fit in the 8 "
                    "bytes left");
  Bytes sa;
  sa.Header(0, 1).Str("k").U32(9).U32(8).U64(3).Zeros(16);
  ExpectDataLoss(sa, "t.gguf: key 'k' at byte 41: array of 3 string elements does not fit in the 16 bytes left");
}

TEST(Gguf, RejectsBadTypesAndDuplicates) {
  Bytes u;
  u.Header(0, 1).Str("k").U32(13).U8(0);
  ExpectDataLoss(u, "t.gguf: key 'k' at byte 24: unknown value type 13");
  Bytes ua;
  ua.Header(0, 1).Str("k").U32(9).U32(99).U64(0);
  ExpectDataLoss(ua, "t.gguf: key 'k' at byte 37: unknown array element type 99");
  Bytes nested;
  nested.Header(0, 1).Str("k").U32(9).U32(9).U64(0);
  EXPECT_EQ(Parse(nested).status().code(), absl::StatusCode::kUnimplemented);
  Bytes dup;
  dup.Header(0, 2).Str("k").U32(4).U32(1).Str("k").U32(4).U32(2);
  ExpectDataLoss(dup, "t.gguf: duplicate key 'k' at byte 41");
  Bytes bo;
  bo.Header(0, 1).Str("k").U32(7).U8(2);
  ExpectDataLoss(bo, "t.gguf: key 'k' at byte 37: bool value 2 is neither 0 nor 1");
  Bytes al;
  al.Header(0, 1).Str("general.alignment").U32(4).U32(24);
  ExpectDataLoss(al, "t.gguf: general.alignment 24 is not a power of two");
  Bytes tt;
  tt.Header(1, 0).Tensor("w", {32}, 4, 0).PadTo(32).Zeros(64);
  ExpectDataLoss(tt, "t.gguf: tensor 'w': unknown ggml type 4");
  Bytes dt;
  dt.Header(2, 0).Tensor("w", {8}, 0, 0).Tensor("w", {8}, 0, 32).PadTo(32).Zeros(64);
  ExpectDataLoss(dt, "t.gguf: duplicate tensor name 'w'");
}

TEST(Gguf, RejectsBadShapesAndOffsets) {
  Bytes blk;
  blk.Header(1, 0).Tensor("w", {172, 2}, 8, 0).PadTo(32).Zeros(1024);
  ExpectDataLoss(blk, "t.gguf: tensor 'w': row length 172 is not a multiple of q8_0's block size 32");
  Bytes dims;
  dims.Header(1, 0).Tensor("w", {1, 1, 1, 1, 1}, 0, 0).PadTo(32).Zeros(64);
  ExpectDataLoss(dims, "t.gguf: tensor 'w': 5 dimensions, more than ggml's 4");
  Bytes ovf;
  ovf.Header(1, 0).Tensor("w", {1ull << 32, 1ull << 32}, 0, 0).PadTo(32).Zeros(64);
  ExpectDataLoss(ovf, "t.gguf: tensor 'w': element count overflows (dimension 1 is 4294967296)");
  Bytes big;
  big.Header(1, 0).Tensor("w", {1ull << 40}, 0, 0).PadTo(32).Zeros(64);
  ExpectDataLoss(big, "t.gguf: tensor 'w': data [0, +4398046511104) runs past the end of the file (data section "
                      "holds 64 bytes); truncated file?");
  Bytes mis;
  mis.Header(1, 0).Tensor("w", {4}, 0, 16).PadTo(32).Zeros(64);
  ExpectDataLoss(mis, "t.gguf: tensor 'w': data offset 16 is not a multiple of the alignment 32");
  Bytes over;
  over.Header(2, 0).Tensor("a", {16}, 0, 0).Tensor("b", {8}, 0, 32).PadTo(32).Zeros(128);
  ExpectDataLoss(over, "t.gguf: tensors 'a' and 'b' overlap (data at 0+64 and 32)");
  Bytes name;
  name.Header(1, 0).Tensor(std::string(64, 'x'), {4}, 0, 0).PadTo(32).Zeros(64);
  ExpectDataLoss(name, "t.gguf: tensor 0 at byte 24: name is 64 bytes long, more than ggml's 63");
}

TEST(Gguf, OpenMissingFile) {
  auto f = GgufFile::Open("/nonexistent/x.gguf");
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(f.status().message(), "/nonexistent/x.gguf: no such file");
}

// llama.cpp's convert_hf_to_gguf.py output for stories260K (Q8_0 with F16
// fallbacks for the 172-wide FFN rows).
TEST(Gguf, ReadsLlamaCppFile) {
  auto f = GgufFile::Open(LLMTK_TESTDATA "/quant/stories260K-hf-q8_0.gguf");
  ASSERT_TRUE(f.ok()) << f.status();
  const GgufFile& g = **f;
  EXPECT_EQ(g.metadata().size(), 26u);
  EXPECT_EQ(g.tensors().size(), 47u);
  EXPECT_EQ(*g.GetString("general.architecture"), "llama");
  EXPECT_EQ(*g.GetU32("llama.feed_forward_length"), 172u);
  EXPECT_EQ(*g.GetF32("llama.rope.freq_base"), 10000.0f);
  EXPECT_EQ(*g.GetBool("tokenizer.ggml.add_bos_token"), true);
  auto tokens = g.GetStringArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 512u);
  EXPECT_EQ((*tokens)[1], "<s>");
  EXPECT_EQ((*tokens)[3], "<0x00>");
  auto types = g.GetI32Array("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.ok());
  EXPECT_EQ((*types)[0], 2);
  const GgufTensor* down = g.FindTensor("blk.0.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->type, GgmlType::kF16);
  EXPECT_EQ(down->dims, (std::vector<int64_t>{172, 64}));
  EXPECT_EQ(down->n_bytes, 172u * 64 * 2);
  const GgufTensor* emb = g.FindTensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->type, GgmlType::kQ8_0);
  EXPECT_EQ(emb->n_bytes, 512u * 2 * 34);
  EXPECT_EQ(emb->data, g.file_data() + g.data_offset());
}

}  // namespace
}  // namespace llmtk
