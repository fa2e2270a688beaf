// Output side of the mixer: shards gathered from the spool, JSONL or Megatron.
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/mix/internal.h"
#include "lib/base/parallel.h"
#include "lib/base/sha256.h"
#include "lib/formats/token_files.h"

namespace llmtk {

namespace fs = std::filesystem;

std::string_view DocLine(const MixSourceData& s, uint32_t doc) {
  const size_t k = static_cast<size_t>(std::upper_bound(s.first_doc.begin(), s.first_doc.end(), doc) -
                                       s.first_doc.begin()) - 1;
  const MixInputIndex& in = *s.inputs[k];
  const uint64_t local = doc - s.first_doc[k];
  return std::string_view(reinterpret_cast<const char*>(in.spool->data()) + in.offset[local], in.length[local]);
}

namespace {

// Output is cut into chunks of about kChunkBytes (never across a shard
// boundary); workers gather and compress chunks in any order, each into its
// own zstd frame, and the calling thread writes them in order. Chunk
// boundaries depend only on the plan and the document sizes, so the bytes do
// not depend on --threads, and every core is busy until the end instead of
// one core finishing the last shard alone. A multi-frame zstd file is a
// standard zstd file.
constexpr uint64_t kChunkBytes = 4 << 20;

struct Chunk {
  size_t shard = 0;
  uint64_t begin = 0, end = 0;  // range of the blend
  std::vector<uint64_t> pos;    // each source's position in its order at `begin`
};

struct ChunkOut {
  size_t shard = 0;
  std::string bytes;
};

struct TokenChunk {
  size_t shard = 0;
  std::vector<uint32_t> ids;
  std::vector<size_t> doc_end;  // per document, its end in `ids`
};

}  // namespace

// Writes the shards of `plan` into `dir`; fills `results`.
absl::Status WriteShards(const MixPlan& plan, const std::vector<MixSourceData>& data, const std::vector<Shard>& shards,
                         const std::string& dir, bool zst, int zstd_level, int threads,
                         std::vector<MixShardResult>* results, Progress* progress) {
  results->assign(shards.size(), MixShardResult());
  for (size_t k = 0; k < shards.size(); ++k) {
    (*results)[k].name = absl::StrFormat("shard-%05d%s", k, zst ? ".jsonl.zst" : ".jsonl");
  }
  size_t next_shard = 0;
  uint64_t at = 0;
  std::vector<uint64_t> cursor(plan.sources.size(), 0);
  auto produce = [&](Chunk* c) -> absl::StatusOr<bool> {
    while (next_shard < shards.size() && at == shards[next_shard].end) {
      if (shards[next_shard].begin == shards[next_shard].end) break;  // an empty mixture's one shard
      ++next_shard;
    }
    if (next_shard >= shards.size()) return false;
    c->shard = next_shard;
    c->begin = at;
    c->pos = cursor;
    uint64_t bytes = 0;
    const uint64_t end = shards[next_shard].end;
    while (at < end && bytes < kChunkBytes) {
      const uint16_t s = plan.blend[at++];
      bytes += DocLine(data[s], plan.sources[s].order[cursor[s]++]).size() + 1;
    }
    c->end = at;
    if (progress) progress->Add(c->end - c->begin, bytes);
    if (c->begin == c->end) ++next_shard;  // empty shard: one empty chunk
    return true;
  };
  auto work = [&](Chunk& c, ChunkOut* out) -> absl::Status {
    out->shard = c.shard;
    std::string text;
    for (uint64_t j = c.begin; j < c.end; ++j) {
      const uint16_t s = plan.blend[j];
      std::string_view line = DocLine(data[s], plan.sources[s].order[c.pos[s]++]);
      text.append(line.data(), line.size());
      text += '\n';
    }
    if (!zst) {
      out->bytes = std::move(text);
      return absl::OkStatus();
    }
    if (text.empty()) return absl::OkStatus();
    out->bytes.resize(ZSTD_compressBound(text.size()));
    // One context per worker thread: ZSTD_compress would build and clear a
    // new one (megabytes of tables) for every chunk. Same bytes either way.
    thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    const size_t n = ZSTD_compressCCtx(cctx.get(), out->bytes.data(), out->bytes.size(), text.data(), text.size(),
                                       zstd_level);
    if (ZSTD_isError(n)) return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
    out->bytes.resize(n);
    return absl::OkStatus();
  };
  int fd = -1;
  size_t open_shard = SIZE_MAX;
  Sha256 sha;
  auto finish = [&]() -> absl::Status {
    if (fd < 0) return absl::OkStatus();
    (*results)[open_shard].sha256 = sha.FinishHex();
    const int rc = close(fd);
    fd = -1;
    if (rc != 0) return absl::InternalError(absl::StrCat("cannot write ", (*results)[open_shard].name, ": ", strerror(errno)));
    return absl::OkStatus();
  };
  auto consume = [&](ChunkOut& out) -> absl::Status {
    if (out.shard != open_shard) {
      RETURN_IF_ERROR(finish());
      open_shard = out.shard;
      const std::string path = absl::StrCat(dir, "/", (*results)[open_shard].name);
      fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", strerror(errno)));
      sha = Sha256();
    }
    sha.Update(out.bytes);
    (*results)[open_shard].file_bytes += out.bytes.size();
    size_t done = 0;
    while (done < out.bytes.size()) {
      const ssize_t w = write(fd, out.bytes.data() + done, out.bytes.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        return absl::ResourceExhaustedError(
            absl::StrCat("cannot write ", (*results)[open_shard].name, ": ", strerror(errno)));
      }
      done += static_cast<size_t>(w);
    }
    return absl::OkStatus();
  };
  absl::Status s = OrderedParallelMap<Chunk, ChunkOut>(threads, produce, work, consume);
  if (s.ok()) s = finish();
  if (fd >= 0) close(fd);
  return s;
}

// Megatron shards: PREFIX.bin/.idx per shard, one document (one sequence)
// per output document. Workers decode chunks of spooled ids; the calling
// thread appends them to the shard's writer in order.
absl::Status WriteMegatronShards(const MixPlan& plan, const std::vector<MixSourceData>& data,
                                 const std::vector<Shard>& shards, const std::string& dir, MegatronDtype dtype,
                                 int threads, std::vector<MixShardResult>* results, Progress* progress) {
  results->assign(shards.size(), MixShardResult());
  size_t next_shard = 0;
  uint64_t at = 0;
  std::vector<uint64_t> cursor(plan.sources.size(), 0);
  auto produce = [&](Chunk* c) -> absl::StatusOr<bool> {
    while (next_shard < shards.size() && at == shards[next_shard].end && shards[next_shard].begin != at) ++next_shard;
    if (next_shard >= shards.size()) return false;
    c->shard = next_shard;
    c->begin = at;
    c->pos = cursor;
    uint64_t bytes = 0;
    const uint64_t end = shards[next_shard].end;
    while (at < end && bytes < kChunkBytes) {
      const uint16_t s = plan.blend[at++];
      bytes += DocLine(data[s], plan.sources[s].order[cursor[s]++]).size() + 1;
    }
    c->end = at;
    if (progress) progress->Add(c->end - c->begin, bytes);
    if (c->begin == c->end) ++next_shard;
    return true;
  };
  auto work = [&](Chunk& c, TokenChunk* out) -> absl::Status {
    out->shard = c.shard;
    for (uint64_t j = c.begin; j < c.end; ++j) {
      const uint16_t s = plan.blend[j];
      std::string_view b = DocLine(data[s], plan.sources[s].order[c.pos[s]++]);
      const auto* p = reinterpret_cast<const uint8_t*>(b.data());
      for (size_t i = 0; i + 4 <= b.size(); i += 4) {
        out->ids.push_back(uint32_t{p[i]} | uint32_t{p[i + 1]} << 8 | uint32_t{p[i + 2]} << 16 |
                           uint32_t{p[i + 3]} << 24);
      }
      out->doc_end.push_back(out->ids.size());
    }
    return absl::OkStatus();
  };
  std::unique_ptr<MegatronWriter> writer;
  size_t open_shard = SIZE_MAX;
  auto finish = [&]() -> absl::Status {
    if (!writer) return absl::OkStatus();
    RETURN_IF_ERROR(writer->Close());
    writer.reset();
    MixShardResult& res = (*results)[open_shard];
    const std::string prefix = absl::StrFormat("shard-%05d", open_shard);
    res.name = prefix + ".bin";
    res.idx_name = prefix + ".idx";
    ASSIGN_OR_RETURN(res.sha256, Sha256File(absl::StrCat(dir, "/", res.name)));
    ASSIGN_OR_RETURN(res.idx_sha256, Sha256File(absl::StrCat(dir, "/", res.idx_name)));
    std::error_code ec;
    res.file_bytes = fs::file_size(absl::StrCat(dir, "/", res.name), ec);
    res.idx_bytes = fs::file_size(absl::StrCat(dir, "/", res.idx_name), ec);
    return absl::OkStatus();
  };
  auto consume = [&](TokenChunk& out) -> absl::Status {
    if (out.shard != open_shard) {
      RETURN_IF_ERROR(finish());
      open_shard = out.shard;
      ASSIGN_OR_RETURN(writer, MegatronWriter::Open(absl::StrFormat("%s/shard-%05d", dir, open_shard), dtype));
    }
    size_t begin = 0;
    for (size_t end : out.doc_end) {
      RETURN_IF_ERROR(writer->AddDocument(std::span<const uint32_t>(out.ids.data() + begin, end - begin)));
      begin = end;
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR((OrderedParallelMap<Chunk, TokenChunk>(threads, produce, work, consume)));
  return finish();
}

}  // namespace llmtk
