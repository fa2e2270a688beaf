// base/sha256: SHA-256 (FIPS 180-4) digests, for checksums in manifests that users
// verify with `sha256sum`.
//
// Uses the x86 SHA extensions when the CPU has them (about 2 GB/s), else a
// portable implementation (about 250 MB/s); both give the same digests.
//
// Thread-safety: a Sha256 object is used by one thread at a time; the free
// functions are thread-safe.
#ifndef LLMTK_LIB_BASE_SHA256_H_
#define LLMTK_LIB_BASE_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lib/base/status.h"

namespace llmtk {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view data);
  void Update(const void* data, size_t n);
  // The digest; the object must not be updated afterwards.
  std::array<uint8_t, 32> Finish();
  // Lowercase hex, as sha256sum prints it.
  std::string FinishHex();

 private:
  void Blocks(const uint8_t* p, size_t n);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

std::string Sha256Hex(std::string_view data);

// The compression function over `n` 64-byte blocks: the portable reference,
// and the x86 SHA extensions version (returns false, doing nothing, where the
// CPU lacks them). Exposed so tests can compare the two.
void Sha256BlocksScalar(uint32_t state[8], const uint8_t* data, size_t n);
bool Sha256BlocksShaNi(uint32_t state[8], const uint8_t* data, size_t n);
// Hex digest of a file's bytes as stored (not decompressed).
absl::StatusOr<std::string> Sha256File(std::string_view path);

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_SHA256_H_
