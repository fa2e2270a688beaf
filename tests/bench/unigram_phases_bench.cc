// The Unigram trainer's phases before EM, timed in CPU seconds of this
// process (the machine is shared; wall time is noise there): counting words,
// building the corpus (fast and plain) and the seed pieces (packed and plain
// suffix sort), alternated `rounds` times, one thread.
// Usage: unigram_phases_bench corpus.jsonl[.zst] [rounds]
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lib/base/jsonl.h"
#include "lib/tokenizer/charsmap.h"
#include "lib/tokenizer/spm_normalize.h"
#include "lib/tokenizer/train/unigram_corpus.h"
#include "lib/tokenizer/train/unigram_seed.h"
#include "lib/tokenizer/train/words.h"

namespace llmtk {
namespace {

double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int Run(const std::string& path, int rounds) {
  auto identity = PrecompiledCharsmap::Parse("", "identity");
  if (!identity.ok()) return 1;
  const SpmNormalizer normalizer(std::move(*identity), SpmNormalizerOptions(), {});
  auto bench = [&]() -> absl::Status {
    for (int r = 0; r < rounds; ++r) {
      ASSIGN_OR_RETURN(auto reader, DocumentReader::Open({path}, DocumentReaderOptions()));
      WordTable table;
      SentenceCountStats stats;
      double t = CpuSeconds();
      RETURN_IF_ERROR(CountSentenceWords(
          [&](std::string* text) -> absl::StatusOr<bool> {
            Document doc;
            ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
            if (more) text->assign(doc.text);
            return more;
          },
          normalizer, 4192, 1, &table, &stats, nullptr));
      const double count = CpuSeconds() - t;
      t = CpuSeconds();
      ASSIGN_OR_RETURN(UnigramCorpus plain, BuildUnigramCorpusPlain(table.counts(), 0.9995));
      const double build_plain = CpuSeconds() - t;
      t = CpuSeconds();
      ASSIGN_OR_RETURN(UnigramCorpus corpus, BuildUnigramCorpus(table.counts(), 0.9995));
      const double build = CpuSeconds() - t;
      ASSIGN_OR_RETURN(PieceValidator validator, PieceValidator::Make(corpus.chars, PieceRules()));
      t = CpuSeconds();
      ASSIGN_OR_RETURN(PieceList s1, MakeSeedPieces(corpus, validator, 16, 1000000, 1, SuffixSort::kPlain));
      const double seed_plain = CpuSeconds() - t;
      t = CpuSeconds();
      ASSIGN_OR_RETURN(PieceList s2, MakeSeedPieces(corpus, validator, 16, 1000000, 1, SuffixSort::kPacked));
      const double seed = CpuSeconds() - t;
      std::printf("round %d: count %.3f  build plain %.3f fast %.3f  seed plain %.3f packed %.3f  (%s)\n", r,
                  count, build_plain, build, seed_plain, seed,
                  plain.syms == corpus.syms && s1.syms == s2.syms && s1.scores == s2.scores ? "same" : "DIFFER");
    }
    return absl::OkStatus();
  };
  absl::Status st = bench();
  if (!st.ok()) {
    std::fprintf(stderr, "unigram_phases_bench: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace llmtk

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: unigram_phases_bench corpus.jsonl[.zst] [rounds]\n");
    return 2;
  }
  return llmtk::Run(argv[1], argc > 2 ? std::atoi(argv[2]) : 3);
}
