// Reads documents with DocumentReader and reports docs/s and MB/s of
// decompressed input. Used by scripts/bench/io.
#include <chrono>
#include <cstdio>

#include "lib/base/jsonl.h"

int main(int argc, char** argv) {
  std::vector<std::string> paths(argv + 1, argv + argc);
  auto start = std::chrono::steady_clock::now();
  auto r = llmtk::DocumentReader::Open(paths, {});
  if (!r.ok()) {
    fprintf(stderr, "%s\n", r.status().ToString().c_str());
    return 1;
  }
  llmtk::Document d;
  uint64_t text_bytes = 0;
  for (;;) {
    auto got = (*r)->Next(&d);
    if (!got.ok()) {
      fprintf(stderr, "%s\n", got.status().ToString().c_str());
      return 1;
    }
    if (!*got) break;
    text_bytes += d.text.size();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t bytes = (*r)->BytesRead();
  printf("docs=%llu bytes=%llu text_bytes=%llu seconds=%.3f docs_per_s=%.0f MB_per_s=%.1f\n",
         static_cast<unsigned long long>((*r)->documents()), static_cast<unsigned long long>(bytes),
         static_cast<unsigned long long>(text_bytes), secs, (*r)->documents() / secs, bytes / secs / 1e6);
  return 0;
}
