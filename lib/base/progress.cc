#include "lib/base/progress.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace llmtk {


std::string HumanBytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1000 && u < 5) {
    bytes /= 1000;
    ++u;
  }
  if (u == 0) return absl::StrFormat("%.0f B", bytes);
  return absl::StrFormat("%.*f %s", bytes < 10 ? 2 : bytes < 100 ? 1 : 0, bytes, kUnits[u]);
}

Progress::Progress(std::string label, bool enabled, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), enabled_(enabled),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() { Finish(); }

void Progress::Add(uint64_t items, uint64_t bytes) {
  items_.fetch_add(items, std::memory_order_relaxed);
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (enabled_) MaybeDraw(false);
}

void Progress::SetBytes(uint64_t bytes) {
  bytes_.store(bytes, std::memory_order_relaxed);
  if (enabled_) MaybeDraw(false);
}

void Progress::MaybeDraw(bool force) {
  auto now = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(draw_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  if (!force && now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  uint64_t items = items_.load(), bytes = bytes_.load();
  int64_t total = total_bytes_.load();
  std::string line = absl::StrFormat("\r%s: %d %s", label_, items, unit_);
  if (bytes > 0) absl::StrAppend(&line, ", ", HumanBytes(static_cast<double>(bytes)));
  if (secs > 0) {
    absl::StrAppend(&line, absl::StrFormat(", %.0f %s/s", items / secs, unit_));
    if (bytes > 0) absl::StrAppend(&line, ", ", HumanBytes(bytes / secs), "/s");
  }
  const int64_t total_items = total_items_.load();
  if (total_items > 0 && items > 0 && secs > 0.5) {
    const double frac = std::min(1.0, static_cast<double>(items) / static_cast<double>(total_items));
    absl::StrAppend(&line, absl::StrFormat(" of %d, %.0f%%, ETA %.0fs", total_items, frac * 100, secs / frac - secs));
  } else if (total > 0 && bytes > 0 && secs > 0.5) {
    double frac = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total));
    double eta = secs / frac - secs;
    absl::StrAppend(&line, absl::StrFormat(", %.0f%%, ETA %.0fs", frac * 100, eta));
  }
  absl::StrAppend(&line, "\x1b[K");
  fwrite(line.data(), 1, line.size(), stderr);
  fflush(stderr);
  drawn_ = true;
}

void Progress::Finish() {
  if (!enabled_) return;
  MaybeDraw(true);
  std::lock_guard<std::mutex> lock(draw_mu_);
  if (drawn_) fputs("\n", stderr);
  drawn_ = false;
  enabled_ = false;
}

}  // namespace llmtk
