// Tokenizer encoding speed on a JSONL file, texts in memory, one thread:
// wall MB/s and MB per CPU-second of the encoding thread (robust when the
// machine is shared). Usage: tok_bench TOKENIZER FILE.jsonl [repeat]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tok_bench TOKENIZER FILE.jsonl [repeat]\n");
    return 2;
  }
  int repeat = argc > 3 ? std::atoi(argv[3]) : 1;
  auto tok = llmtk::Tokenizer::Load(argv[1]);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", std::string(tok.status().message()).c_str());
    return 1;
  }
  auto reader = llmtk::DocumentReader::Open({argv[2]}, {});
  if (!reader.ok()) return 1;
  std::vector<std::string> texts;
  llmtk::Document doc;
  size_t bytes = 0;
  while (*(*reader)->Next(&doc)) {
    texts.emplace_back(doc.text);
    bytes += doc.text.size();
  }
  std::vector<uint32_t> ids;
  uint64_t tokens = 0;
  timespec c0, c1;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < repeat; ++r) {
    for (const std::string& t : texts) {
      ids.clear();
      if (!(*tok)->Encode(t, false, &ids).ok()) return 1;
      tokens += ids.size();
    }
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  double cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
  double mb = static_cast<double>(bytes) * repeat / 1e6;
  std::printf("{\"bytes\":%zu,\"tokens\":%llu,\"wall_s\":%.3f,\"cpu_s\":%.3f,\"mb_per_s\":%.2f,\"mb_per_cpu_s\":%.2f}\n",
              bytes * repeat, static_cast<unsigned long long>(tokens), wall, cpu, mb / wall, mb / cpu);
  return 0;
}
