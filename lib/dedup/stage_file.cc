#include "lib/dedup/stage_file.h"

#include "absl/strings/str_format.h"
#include "lib/base/io.h"
#include "xxhash.h"

namespace llmtk {
namespace {

constexpr char kMagic[8] = {'L', 'L', 'M', 'T', 'K', 'D', 'D', '1'};
constexpr size_t kHeader = 8 + 4 + 4 + 8 + 8;

}  // namespace

std::string KindName(StageKind k) {
  switch (k) {
    case StageKind::kDocs: return "docs";
    case StageKind::kBand: return "band";
    case StageKind::kPairs: return "pairs";
    case StageKind::kClusters: return "clusters";
  }
  return "?";
}

absl::Status WriteStageFile(const std::string& path, StageKind kind, uint64_t fingerprint, const std::string& payload) {
  std::string head(kMagic, 8);
  Put<uint32_t>(&head, static_cast<uint32_t>(kind));
  Put<uint32_t>(&head, 0);
  Put<uint64_t>(&head, fingerprint);
  Put<uint64_t>(&head, payload.size());
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, head.data(), head.size());
  XXH3_64bits_update(st, payload.data(), payload.size());
  uint64_t sum = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  std::string tail;
  Put(&tail, sum);
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(path));
  RETURN_IF_ERROR(out->Write(head));
  RETURN_IF_ERROR(out->Write(payload));
  RETURN_IF_ERROR(out->Write(tail));
  return out->Close();
}

absl::StatusOr<std::string> ReadStageFile(const std::string& path, StageKind kind, uint64_t fingerprint) {
  ASSIGN_OR_RETURN(auto map, MappedFile::Open(path));
  const char* p = reinterpret_cast<const char*>(map->data());
  const size_t size = map->size();
  auto bad = [&](const std::string& what) {
    return absl::DataLossError(absl::StrCat("corrupt stage file ", path, ": ", what,
                                            "; delete it and rerun the stage that writes it"));
  };
  if (size < kHeader + 8) return bad(absl::StrCat("only ", size, " bytes, shorter than a header"));
  if (memcmp(p, kMagic, 8) != 0) return bad("not an llmtk-dedup stage file (bad magic)");
  uint32_t k;
  uint64_t fp, len;
  memcpy(&k, p + 8, 4);
  memcpy(&fp, p + 16, 8);
  memcpy(&len, p + 24, 8);
  if (len != size - kHeader - 8)
    return bad(absl::StrCat("payload of ", len, " bytes declared, ", size - kHeader - 8, " present (truncated?)"));
  uint64_t want;
  memcpy(&want, p + size - 8, 8);
  uint64_t got = XXH3_64bits(p, size - 8);
  if (got != want) return bad(absl::StrFormat("checksum %016x, expected %016x", got, want));
  if (k != static_cast<uint32_t>(kind))
    return bad(absl::StrCat("a ", KindName(static_cast<StageKind>(k)), " file where a ", KindName(kind),
                            " file was expected"));
  if (fp != fingerprint)
    return absl::InvalidArgumentError(absl::StrCat(
        "stage file ", path, " comes from a run with other options or inputs; give every stage the same "
        "inputs and flags, or use a fresh --work directory"));
  return std::string(p + kHeader, len);
}

}  // namespace llmtk
