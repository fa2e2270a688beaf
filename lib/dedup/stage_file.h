// dedup/stage_file: the container every staged-dedup file uses, one format
// for writer and reader: magic "LLMTKDD1", kind (u32), reserved (u32),
// fingerprint of the options and inputs (u64), payload length (u64), the
// payload, and an XXH3-64 of all that precedes it (u64); little-endian. The
// payload is built with Put/PutVec and read back with a bounds-checked Cursor.
#ifndef LLMTK_LIB_DEDUP_STAGE_FILE_H_
#define LLMTK_LIB_DEDUP_STAGE_FILE_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "lib/base/status.h"

namespace llmtk {

enum class StageKind : uint32_t { kDocs = 1, kBand = 2, kPairs = 3, kClusters = 4 };

std::string KindName(StageKind k);

// Writes header, payload and checksum under a temporary name, then renames.
absl::Status WriteStageFile(const std::string& path, StageKind kind, uint64_t fingerprint,
                            const std::string& payload);
// The payload of a file that checks out: DataLoss naming the file when it is
// truncated, corrupt or of another kind; InvalidArgument when it comes from a
// run with another fingerprint.
absl::StatusOr<std::string> ReadStageFile(const std::string& path, StageKind kind, uint64_t fingerprint);

template <typename T>
void Put(std::string* s, const T& v) {
  s->append(reinterpret_cast<const char*>(&v), sizeof(T));
}
template <typename T>
void PutVec(std::string* s, const std::vector<T>& v) {
  Put<uint64_t>(s, v.size());
  if (!v.empty()) s->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Bounds-checked reading of a payload whose checksum already matched.
class Cursor {
 public:
  Cursor(const std::string& s, std::string path) : s_(s), path_(std::move(path)) {}
  template <typename T>
  absl::Status Get(T* v) {
    if (pos_ + sizeof(T) > s_.size()) return Short();
    memcpy(static_cast<void*>(v), s_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return absl::OkStatus();
  }
  template <typename T>
  absl::Status GetVec(std::vector<T>* v) {
    uint64_t n = 0;
    RETURN_IF_ERROR(Get(&n));
    if (n > (s_.size() - pos_) / sizeof(T)) return Short();
    v->resize(n);
    if (n) memcpy(static_cast<void*>(v->data()), s_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return absl::OkStatus();
  }
  absl::Status GetString(std::string* v) {
    uint32_t n = 0;
    RETURN_IF_ERROR(Get(&n));
    if (n > s_.size() - pos_) return Short();
    v->assign(s_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }

 private:
  absl::Status Short() const {
    return absl::DataLossError(absl::StrCat("stage file ", path_, " ends early at payload byte ", pos_));
  }
  const std::string& s_;
  std::string path_;
  size_t pos_ = 0;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_DEDUP_STAGE_FILE_H_
