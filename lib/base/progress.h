// progress: a progress line on stderr for long work, and the human-readable
// byte counts that summaries print. Lives in base/ because the pipelines
// (dedup, mix, tokenizer training) report progress themselves; whether it is
// shown is the tools' decision (tools/common/cli.h).
#ifndef LLMTK_LIB_BASE_PROGRESS_H_
#define LLMTK_LIB_BASE_PROGRESS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace llmtk {

// A progress line on stderr: items, bytes, rate and, when the total is known,
// ETA. Redrawn at most 4 times a second; cleared by Finish(). Disabled
// instances cost an atomic add per call.
class Progress {
 public:
  Progress(std::string label, bool enabled, std::string unit = "docs");
  ~Progress();
  void SetTotalBytes(int64_t total) { total_bytes_ = total; }
  // For work counted in items (tasks, documents) rather than bytes: the ETA
  // follows the items done.
  void SetTotalItems(int64_t total) { total_items_ = total; }
  // Adds work done; `bytes` advance the ETA when a byte total is set.
  void Add(uint64_t items, uint64_t bytes = 0);
  // Sets absolute byte position (e.g. compressed bytes consumed) for the ETA.
  void SetBytes(uint64_t bytes);
  void Finish();

 private:
  void MaybeDraw(bool force);
  std::string label_, unit_;
  bool enabled_;
  std::atomic<uint64_t> items_{0}, bytes_{0};
  std::atomic<int64_t> total_bytes_{-1};
  std::atomic<int64_t> total_items_{-1};
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex draw_mu_;
  bool drawn_ = false;
};

// "1.23 MB", "512 B": decimal units, for summaries.
std::string HumanBytes(double bytes);

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_PROGRESS_H_
