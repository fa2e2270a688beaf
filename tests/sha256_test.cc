#include "lib/base/sha256.h"

#include <string>

#include "gtest/gtest.h"

namespace llmtk {
namespace {

// FIPS 180-4 / NIST CAVS example vectors.
TEST(Sha256Test, NistVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                      "mnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Incremental updates in every split give the one-shot digest (buffering
// across the 55/56/64-byte padding boundaries).
TEST(Sha256Test, SplitsMatchOneShot) {
  std::string data;
  for (int i = 0; i < 200; ++i) data += static_cast<char>(i * 7 + 3);
  for (size_t len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200}) {
    const std::string whole = Sha256Hex(data.substr(0, len));
    for (size_t cut = 0; cut <= len; cut += 13) {
      Sha256 h;
      h.Update(data.substr(0, cut));
      h.Update(data.substr(cut, len - cut));
      EXPECT_EQ(h.FinishHex(), whole) << len << " " << cut;
    }
  }
}

// The SHA-extensions kernel against the scalar reference, on many block
// counts and contents. Where the CPU lacks the extensions this says so.
TEST(Sha256Test, ShaNiMatchesScalar) {
  std::string data(64 * 37, '\0');
  uint32_t x = 12345;
  for (char& c : data) c = static_cast<char>((x = x * 1103515245 + 12345) >> 16);
  for (size_t blocks : {1, 2, 3, 7, 16, 37}) {
    uint32_t a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    Sha256BlocksScalar(a, reinterpret_cast<const uint8_t*>(data.data()), blocks);
    if (!Sha256BlocksShaNi(b, reinterpret_cast<const uint8_t*>(data.data()), blocks)) {
      GTEST_SKIP() << "this CPU has no SHA extensions";
    }
    for (int i = 0; i < 8; ++i) EXPECT_EQ(a[i], b[i]) << blocks << " blocks, word " << i;
  }
}

TEST(Sha256Test, MissingFile) {
  auto s = Sha256File("/nonexistent/x");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.status().message(), "cannot open: No such file or directory, /nonexistent/x");
}

}  // namespace
}  // namespace llmtk
