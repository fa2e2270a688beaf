// eval/kl_divergence: saved reference distributions and the KL divergence of a
// model's next-token distributions from them (quantization quality).
//
// A logits file stores, for every scored position of a text, what is needed
// to compare another model against the reference without keeping all
// n_vocab logits: the target id and its logit, the log-sum-exp of the row,
// and the top-K (id, logit) pairs in descending order. Layout, little-endian:
//
//   header (64 bytes):
//     char[8] magic "LLMTKLG1", u32 version (1), u32 n_vocab, u32 top_k,
//     u32 n_ctx, u32 stride (0: llama.cpp chunks), u32 reserved (0),
//     u64 n_positions, u64 tokens_hash (XXH3-64 of the int32 token ids),
//     u64 vocab_hash (caller's hash of the tokenizer), u64 reserved (0)
//   n_positions records of 12 + 8 * top_k bytes:
//     i32 target, f32 target_logit, f32 log_sum_exp, top_k x (i32 id, f32 logit)
//
// KL(P||Q) is exact over the stored top-K; the rest of P's mass is compared
// as one bucket, (1 - P_K) log((1 - P_K) / (1 - Q_K)), which by the log-sum
// inequality never overestimates and is exact when top_k == n_vocab.
//
// Thread-safety: writer and reader objects are single-threaded.
#ifndef LLMTK_LIB_EVAL_KL_DIVERGENCE_H_
#define LLMTK_LIB_EVAL_KL_DIVERGENCE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "lib/base/io.h"
#include "lib/base/status.h"

namespace llmtk {

struct LogitsFileHeader {
  uint32_t n_vocab = 0, top_k = 0, n_ctx = 0, stride = 0;
  uint64_t n_positions = 0, tokens_hash = 0, vocab_hash = 0;
};

uint64_t HashTokens(absl::Span<const int32_t> tokens);

class LogitsWriter {
 public:
  // n_positions is filled in by Close().
  static absl::StatusOr<std::unique_ptr<LogitsWriter>> Open(const std::string& path, LogitsFileHeader header);
  absl::Status Add(const float* logits, int32_t target);
  absl::Status Close();

 private:
  LogitsWriter() = default;
  std::unique_ptr<OutputFile> out_;
  LogitsFileHeader header_;
  std::string path_;
  std::vector<int32_t> order_;
  std::string record_;
};

struct KlStats {
  uint64_t count = 0;
  std::vector<double> kl;  // per position, for the percentiles
  double kl_sum = 0, kl_sum_sq = 0;
  uint64_t same_top1 = 0;
  double base_nll = 0, nll = 0, base_nll_sq = 0, nll_sq = 0, cross = 0;
  double Mean() const { return count ? kl_sum / count : 0; }
  double MeanStderr() const;
  double Percentile(double p) const;  // p in [0, 100]; sorts a copy
  double SameTop1() const { return count ? static_cast<double>(same_top1) / count : 0; }
  double SameTop1Stderr() const;
  double BasePpl() const;
  double Ppl() const;
};

class LogitsReader {
 public:
  static absl::StatusOr<std::unique_ptr<LogitsReader>> Open(const std::string& path);
  const LogitsFileHeader& header() const { return header_; }
  // Checks that the file was made for this text and tokenizer and setup;
  // FailedPrecondition (a data error, exit 1) naming the first mismatch
  // otherwise.
  absl::Status CheckCompatible(const LogitsFileHeader& expected) const;
  // Compares the next stored position with `logits` predicting `target`.
  absl::Status Compare(const float* logits, int32_t target, KlStats* stats);

 private:
  LogitsReader() = default;
  std::unique_ptr<MappedFile> file_;
  LogitsFileHeader header_;
  uint64_t next_ = 0;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_EVAL_KL_DIVERGENCE_H_
