#include "lib/formats/safetensors.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace llmtk {
namespace {

std::string File(const std::string& header, size_t data_bytes) {
  std::string s;
  const uint64_t n = header.size();
  s.append(reinterpret_cast<const char*>(&n), 8);
  s += header;
  s.append(data_bytes, '\x01');
  return s;
}

void ExpectDataLoss(const std::string& bytes, const std::string& message) {
  auto m = SafetensorsModel::FromBuffer(bytes, "m.safetensors");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kDataLoss) << m.status();
  EXPECT_EQ(std::string(m.status().message()), message);
}

TEST(Safetensors, ReadsValidFile) {
  const std::string f = File(
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[16,28]},)"
      R"("a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
      28);
  auto m = SafetensorsModel::FromBuffer(f, "m.safetensors");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ((*m)->tensors().size(), 2u);
  EXPECT_EQ((*m)->tensors()[0].name, "b");  // header order is kept
  const SafetensorsTensor* b = (*m)->Find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->dtype, "BF16");
  EXPECT_EQ(b->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(b->n_bytes, 12u);
  EXPECT_EQ(b->data, reinterpret_cast<const uint8_t*>(f.data()) + 8 + (f.size() - 28 - 8) + 16);
}

TEST(Safetensors, RejectsLyingHeaders) {
  ExpectDataLoss("abc", "m.safetensors: too short for a safetensors header (need 8 bytes)");
  std::string huge(8, '\0');
  const uint64_t big = 1ull << 40;
  std::memcpy(huge.data(), &big, 8);
  ExpectDataLoss(huge, "m.safetensors: header length 1099511627776 exceeds the 100 MB limit");
  std::string past = File("{}", 0);
  const uint64_t n = 50;
  std::memcpy(past.data(), &n, 8);
  ExpectDataLoss(past, "m.safetensors: header length 50 runs past the end of the 10-byte file");
  ExpectDataLoss(File("{\"a\":", 0), "m.safetensors: header is not valid JSON (The JSON document has an improper "
                                     "structure: missing or superfluous commas, braces, missing keys, etc.)");
  ExpectDataLoss(File(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", 4),
                 "m.safetensors: tensor 'a': unknown dtype 'F33'");
  ExpectDataLoss(File(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4),
                 "m.safetensors: tensor 'a': data_offsets span 4 bytes but shape and F32 need 8");
  ExpectDataLoss(File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4000000000000]}})", 4),
                 "m.safetensors: tensor 'a': data_offsets [0, 4000000000000] lie outside the 4-byte data section");
  ExpectDataLoss(File(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4),
                 "m.safetensors: tensor 'a': element count overflows");
  ExpectDataLoss(File(R"({"a":{"dtype":"F32","shape":[2147483648,2147483648],"data_offsets":[0,4]}})", 4),
                 "m.safetensors: tensor 'a': byte size overflows");
  ExpectDataLoss(File(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
                 "m.safetensors: tensor 'a': shape holds a non-integer or negative value");
  ExpectDataLoss(File(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                      12),
                 "m.safetensors: tensors 'a' and 'b' overlap");
  ExpectDataLoss(File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                      R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                      8),
                 "m.safetensors: duplicate tensor 'a' in header");
  ExpectDataLoss(File(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4),
                 "m.safetensors: tensor 'a': data_offsets must be two integers");
  ExpectDataLoss(File(R"([1,2])", 0), "m.safetensors: header is not a JSON object");
}

TEST(Safetensors, OpensDirectoryAndReportsMissing) {
  auto m = SafetensorsModel::Open(LLMTK_TESTDATA "/quant/stories260K");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->tensors().size(), 47u);  // 5 layers x 9 + embeddings + final norm
  const SafetensorsTensor* q = (*m)->Find("model.layers.0.self_attn.q_proj.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->shape, (std::vector<int64_t>{64, 64}));
  auto missing = SafetensorsModel::Open(LLMTK_TESTDATA "/quant");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(missing.status().message()),
            std::string(LLMTK_TESTDATA) +
                "/quant: no model.safetensors or model.safetensors.index.json in this directory");
}

}  // namespace
}  // namespace llmtk
