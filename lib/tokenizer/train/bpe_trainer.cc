#include "lib/tokenizer/train/bpe_trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/tokenizer/train/alphabet.h"
#include "lib/tokenizer/train/merge.h"
#include "lib/tokenizer/train/output.h"
#include "lib/tokenizer/train/split.h"
#include "lib/tokenizer/train/words.h"
#include "lib/base/progress.h"
#include "lib/base/unicode.h"

namespace llmtk {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

absl::Status CheckOptions(const BpeTrainerOptions& opts, bool gguf) {
  RETURN_IF_ERROR(CheckVocabSize(opts));
  if (opts.max_token_length < 0) {
    return absl::InvalidArgumentError("--max-token-length must be >= 0 (0: unlimited)");
  }
  if (opts.style == BpeStyle::kSentencePiece &&
      (opts.character_coverage <= 0 || opts.character_coverage > 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--character-coverage ", opts.character_coverage, " is outside (0, 1]"));
  }
  // SentencePiece style has no pre-tokenizer for a GGUF to name.
  if (gguf && opts.style == BpeStyle::kByteLevel) {
    RETURN_IF_ERROR(GgufPreType(opts.pre_tokenizer).status());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CountCorpusWords(DocumentReader* reader, const WordSplitFn& split, int threads, bool show_progress,
                              WordTable* table, BpeTrainReport* report) {
  const auto t0 = std::chrono::steady_clock::now();
  Progress progress("counting words", show_progress, "docs");
  progress.SetTotalBytes(reader->TotalBytesHint());
  RETURN_IF_ERROR(CountWords(
      [&](std::string* text) -> absl::StatusOr<bool> {
        Document doc;
        ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
        if (more) text->assign(doc.text);
        return more;
      },
      split, threads, table,
      [&](uint64_t docs, uint64_t bytes) {
        report->documents += docs;
        report->bytes += bytes;
        progress.Add(docs);
        progress.SetBytes(reader->RawBytesRead());
      }));
  progress.Finish();
  report->count_seconds = SecondsSince(t0);
  report->word_occurrences = table->occurrences();
  report->distinct_words = table->counts().size();
  report->pruned_words = table->pruned_words();
  report->replaced_utf8_docs = reader->replaced_utf8();
  return absl::OkStatus();
}

absl::StatusOr<BpeTrainReport> TrainBpe(const std::vector<std::string>& inputs,
                                        const DocumentReaderOptions& reader_opts,
                                        const BpeTrainerOptions& opts, const std::string& output,
                                        bool gguf) {
  RETURN_IF_ERROR(CheckOptions(opts, gguf));
  const std::string pattern = PreTokenizerPattern(opts.pre_tokenizer);
  WordSplitFn split = SplitOnSpaces;
  if (opts.style == BpeStyle::kByteLevel) {
    ASSIGN_OR_RETURN(split, MakeRegexSplitter(pattern));
  }
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(inputs, reader_opts));

  BpeTrainReport report;
  WordTable table(opts.max_words);
  RETURN_IF_ERROR(CountCorpusWords(reader.get(), split, opts.threads, opts.show_progress, &table, &report));
  for (const auto& [w, n] : table.counts()) {
    if (!IsValidUtf8(w)) ++report.invalid_utf8_words;
  }
  if (table.counts().empty()) {
    return absl::DataLossError(absl::StrCat("no text to train on: ", report.documents,
                                            " documents, 0 bytes of text in ",
                                            absl::StrJoin(inputs, ", ")));
  }

  auto t1 = std::chrono::steady_clock::now();
  TrainedBpe model;
  {
    // Progress's ETA counts bytes; merges get their own line: done/target,
    // rate and a linear ETA (pessimistic: early merges touch the most words).
    const int target = std::max(
        1, opts.vocab_size - static_cast<int>(EffectiveSpecialTokens(opts).size()) - 256);
    auto last_draw = std::chrono::steady_clock::now();
    bool drawn = false;
    MergeProgress mp;
    if (opts.show_progress) {
      mp.on_merge = [&](int done) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_draw < std::chrono::milliseconds(250)) return;
        last_draw = now;
        const double secs = SecondsSince(t1), rate = done / std::max(secs, 1e-9);
        std::fprintf(stderr, "\rmerging: %d/%d merges, %.0f merges/s, ETA %.0fs\x1b[K", done,
                     target, rate, std::max(0.0, (target - done) / rate));
        drawn = true;
      };
    }
    ASSIGN_OR_RETURN(model, LearnMerges(std::move(table.mutable_counts()), opts, mp));
    if (drawn) std::fputs("\r\x1b[K", stderr);
  }
  report.merge_seconds = SecondsSince(t1);
  report.vocab_size = static_cast<int>(model.tokens.size());
  report.merges = static_cast<int>(model.merges.size());
  report.alphabet_size = model.alphabet_size;
  report.character_coverage = model.character_coverage;
  report.train_bytes_per_token = model.train_bytes_per_token;
  if (gguf) {
    RETURN_IF_ERROR(WriteGgufVocab(model, opts.pre_tokenizer, output));
  } else {
    RETURN_IF_ERROR(WriteTokenizerJson(model, pattern, output));
  }
  return report;
}

std::string FormatTrainReport(const BpeTrainReport& r, const std::string& output, bool json) {
  if (!json) {
    return absl::StrFormat(
        "trained %d tokens (%d merges) on %d documents, %s, %d distinct words; %.2f bytes/token "
        "on the training words; %.1f s counting, %.1f s merging\n",
        r.vocab_size, r.merges, r.documents, HumanBytes(static_cast<double>(r.bytes)),
        r.distinct_words, r.train_bytes_per_token, r.count_seconds, r.merge_seconds);
  }
  JsonWriter j;
  j.BeginObject();
  j.Key("output").String(output);
  j.Key("documents").Uint(r.documents);
  j.Key("bytes").Uint(r.bytes);
  j.Key("word_occurrences").Uint(r.word_occurrences);
  j.Key("distinct_words").Uint(r.distinct_words);
  j.Key("pruned_words").Uint(r.pruned_words);
  j.Key("replaced_utf8_docs").Uint(r.replaced_utf8_docs);
  j.Key("invalid_utf8_words").Uint(r.invalid_utf8_words);
  j.Key("vocab_size").Int(r.vocab_size);
  j.Key("merges").Int(r.merges);
  j.Key("alphabet_size").Int(r.alphabet_size);
  j.Key("character_coverage").Double(r.character_coverage);
  j.Key("train_bytes_per_token").Double(r.train_bytes_per_token);
  j.Key("count_seconds").Double(r.count_seconds);
  j.Key("merge_seconds").Double(r.merge_seconds);
  j.EndObject();
  return j.Take() + "\n";
}

}  // namespace llmtk
