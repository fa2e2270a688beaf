#include "lib/tokenizer/train/unigram_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "lib/base/io.h"
#include "lib/base/json_writer.h"
#include "lib/base/progress.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/charsmap.h"
#include "lib/tokenizer/spm_normalize.h"
#include "lib/tokenizer/spm_to_json.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/train/unigram_corpus.h"
#include "lib/tokenizer/train/unigram_em.h"
#include "lib/tokenizer/train/unigram_seed.h"
#include "lib/tokenizer/train/words.h"

namespace llmtk {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int MetaPieces(const UnigramTrainerOptions& o) { return 3 + (o.byte_fallback ? 256 : 0); }

absl::Status CheckOptions(const UnigramTrainerOptions& o) {
  if (o.vocab_size <= MetaPieces(o)) {
    return absl::InvalidArgumentError(absl::StrCat("--vocab-size ", o.vocab_size, " leaves no room for pieces: ",
                                                   MetaPieces(o), " ids go to <unk>, <s>, </s>",
                                                   o.byte_fallback ? " and the 256 byte pieces" : ""));
  }
  if (o.character_coverage <= 0 || o.character_coverage > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--character-coverage ", o.character_coverage, " is outside (0, 1]"));
  }
  if (o.max_piece_length < 1 || o.max_piece_length > 255) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-token-length ", o.max_piece_length, " is outside 1..255 for --model unigram"));
  }
  if (o.shrinking_factor <= 0 || o.shrinking_factor >= 1) {
    return absl::InvalidArgumentError(absl::StrCat("shrinking factor ", o.shrinking_factor, " is outside (0, 1)"));
  }
  if (o.score_grid_bits < 0 || o.score_grid_bits > 20) {
    return absl::InvalidArgumentError(absl::StrCat("score grid of 2^-", o.score_grid_bits, " is outside 0..20 bits"));
  }
  if (o.num_sub_iterations < 1 || o.seed_size < 1 || o.max_sentence_length < 1) {
    return absl::InvalidArgumentError("sub-iterations, seed size and sentence length must be >= 1");
  }
  return absl::OkStatus();
}

SentencePieceModel BuildModel(const UnigramCorpus& c, const PieceList& pieces, const UnigramTrainerOptions& o) {
  SentencePieceModel m;
  m.pieces.push_back({"<unk>", 0, SpmPieceType::kUnknown});
  m.pieces.push_back({"<s>", 0, SpmPieceType::kControl});
  m.pieces.push_back({"</s>", 0, SpmPieceType::kControl});
  if (o.byte_fallback) {
    for (int b = 0; b < 256; ++b) m.pieces.push_back({absl::StrFormat("<0x%02X>", b), 0, SpmPieceType::kByte});
  }
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::string text;
    for (size_t k = 0; k < pieces.length(i); ++k) AppendUtf8(&text, c.chars[pieces.begin(i)[k]]);
    m.pieces.push_back({std::move(text), static_cast<float>(pieces.scores[i]), SpmPieceType::kNormal});
  }
  m.trainer.model_type = SpmModelType::kUnigram;
  m.trainer.vocab_size = static_cast<int32_t>(m.pieces.size());
  m.trainer.byte_fallback = o.byte_fallback;
  m.trainer.split_digits = o.split_digits;
  m.normalizer.present = true;
  m.normalizer.name = "identity";
  m.normalizer.add_dummy_prefix = o.add_dummy_prefix;
  return m;
}

}  // namespace

absl::StatusOr<SentencePieceModel> TrainUnigram(const std::vector<std::string>& inputs,
                                                const DocumentReaderOptions& reader_opts,
                                                const UnigramTrainerOptions& opts, UnigramTrainReport* report) {
  RETURN_IF_ERROR(CheckOptions(opts));
  *report = UnigramTrainReport();
  ASSIGN_OR_RETURN(PrecompiledCharsmap identity, PrecompiledCharsmap::Parse("", "identity"));
  SpmNormalizerOptions nopts;
  nopts.add_dummy_prefix = opts.add_dummy_prefix;
  const SpmNormalizer normalizer(std::move(identity), nopts, {});
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(inputs, reader_opts));

  auto t0 = std::chrono::steady_clock::now();
  WordTable table(opts.max_words);
  SentenceCountStats stats;
  {
    Progress progress("counting words", opts.show_progress, "docs");
    progress.SetTotalBytes(reader->TotalBytesHint());
    RETURN_IF_ERROR(CountSentenceWords(
        [&](std::string* text) -> absl::StatusOr<bool> {
          Document doc;
          ASSIGN_OR_RETURN(bool more, reader->Next(&doc));
          if (more) text->assign(doc.text);
          return more;
        },
        normalizer, opts.max_sentence_length, opts.threads, &table, &stats,
        [&](uint64_t docs, uint64_t) {
          progress.Add(docs);
          progress.SetBytes(reader->RawBytesRead());
        }));
    progress.Finish();
  }
  report->documents = stats.documents;
  report->bytes = stats.bytes;
  report->sentences = stats.sentences;
  report->too_long_sentences = stats.too_long;
  report->replaced_utf8_docs = reader->replaced_utf8();
  if (table.counts().empty()) {
    return absl::DataLossError(absl::StrCat("no text to train on: ", stats.documents, " documents, ",
                                            stats.sentences, " sentences in ", absl::StrJoin(inputs, ", ")));
  }
  ASSIGN_OR_RETURN(UnigramCorpus corpus, BuildUnigramCorpus(table.counts(), opts.character_coverage));
  WordCountMap().swap(table.mutable_counts());
  report->distinct_words = corpus.words();
  report->required_chars = static_cast<int>(corpus.symbols() - 2);
  report->character_coverage = corpus.coverage;
  report->count_seconds = SecondsSince(t0);
  const int meta = MetaPieces(opts);
  if (report->required_chars + meta >= opts.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--vocab-size ", opts.vocab_size, " is too small: the ", report->required_chars,
        " characters covering --character-coverage ", opts.character_coverage, " and ", meta,
        " special pieces need more; raise --vocab-size or lower --character-coverage"));
  }

  auto t1 = std::chrono::steady_clock::now();
  PieceRules rules;
  rules.max_length = opts.max_piece_length;
  rules.split_by_number = opts.split_by_number;
  rules.split_by_unicode_script = opts.split_by_unicode_script;
  rules.split_digits = opts.split_digits;
  ASSIGN_OR_RETURN(PieceValidator validator, PieceValidator::Make(corpus.chars, rules));
  ASSIGN_OR_RETURN(PieceList seeds,
                   MakeSeedPieces(corpus, validator, opts.max_piece_length, opts.seed_size, opts.threads));
  report->seed_pieces = seeds.size();
  report->seed_seconds = SecondsSince(t1);

  auto t2 = std::chrono::steady_clock::now();
  EmOptions em;
  em.vocab_size = opts.vocab_size;
  em.final_pieces = opts.vocab_size - meta;
  em.num_sub_iterations = opts.num_sub_iterations;
  em.shrinking_factor = opts.shrinking_factor;
  em.threads = opts.threads;
  if (opts.show_progress) {
    em.on_round = [&](int round, size_t pieces, double objective) {
      std::fprintf(stderr, "\rEM: round %d, %zu pieces, objective %.4f, %.0fs\x1b[K", round, pieces, objective,
                   SecondsSince(t2));
    };
  }
  PieceList pieces = TrainUnigramPieces(corpus, std::move(seeds), em, &report->em_rounds);
  if (opts.score_grid_bits > 0) {
    // Rounding is monotone, so the pieces stay in descending score order.
    const double step = std::ldexp(1.0, -opts.score_grid_bits);
    for (double& s : pieces.scores) s = std::nearbyint(s / step) * step;
  }
  if (opts.show_progress) std::fputs("\r\x1b[K", stderr);
  report->em_seconds = SecondsSince(t2);
  if (static_cast<int>(pieces.size()) + meta < opts.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("--vocab-size ", opts.vocab_size,
                                                   " is too large for this corpus: training found ", pieces.size(),
                                                   " pieces; use --vocab-size ", pieces.size() + meta,
                                                   " or less (spm_train refuses it the same way)"));
  }
  // Bytes per token on the training words, a space (U+2581) counted as one byte.
  uint64_t bytes = 0;
  for (size_t w = 0; w < corpus.words(); ++w) {
    uint64_t b = 0;
    for (uint32_t k = corpus.offsets[w]; k + 1 < corpus.offsets[w + 1]; ++k) {
      const char32_t ch = corpus.chars[corpus.syms[k]];
      b += ch == kSpaceChar ? 1 : ch < 0x80 ? 1 : ch < 0x800 ? 2 : ch < 0x10000 ? 3 : 4;
    }
    bytes += b * corpus.counts[w];
  }
  const uint64_t tokens = CountViterbiTokens(corpus, pieces, opts.threads);
  report->train_bytes_per_token = tokens ? static_cast<double>(bytes) / static_cast<double>(tokens) : 0;
  SentencePieceModel model = BuildModel(corpus, pieces, opts);
  report->vocab_size = static_cast<int>(model.pieces.size());
  return model;
}

absl::Status WriteUnigramOutputs(const SentencePieceModel& model, const std::string& json,
                                 const std::string& spm_model) {
  if (!spm_model.empty()) {
    ASSIGN_OR_RETURN(auto out, OutputFile::Open(spm_model));
    RETURN_IF_ERROR(out->Write(WriteSentencePieceModel(model)));
    RETURN_IF_ERROR(out->Close());
  }
  if (!json.empty()) {
    ASSIGN_OR_RETURN(std::string text, SentencePieceToTokenizerJson(model, spm_model.empty() ? json : spm_model));
    // What we write must load, as convert's output.
    RETURN_IF_ERROR(Tokenizer::FromJson(text, json).status());
    ASSIGN_OR_RETURN(auto out, OutputFile::Open(json));
    RETURN_IF_ERROR(out->Write(text));
    RETURN_IF_ERROR(out->Close());
  }
  return absl::OkStatus();
}

std::string FormatUnigramReport(const UnigramTrainReport& r, const std::string& output, bool json) {
  if (!json) {
    return absl::StrFormat(
        "trained %d pieces (unigram) on %d documents, %d sentences, %s, %d distinct words, %d characters "
        "(%.4f%% covered); %d seed pieces, %d EM rounds; %.2f bytes/token on the training words; %.1f s "
        "counting, %.1f s seeding, %.1f s EM\n",
        r.vocab_size, r.documents, r.sentences, HumanBytes(static_cast<double>(r.bytes)), r.distinct_words,
        r.required_chars, 100 * r.character_coverage, r.seed_pieces, r.em_rounds, r.train_bytes_per_token,
        r.count_seconds, r.seed_seconds, r.em_seconds);
  }
  JsonWriter j;
  j.BeginObject();
  j.Key("output").String(output);
  j.Key("model").String("unigram");
  j.Key("documents").Uint(r.documents);
  j.Key("bytes").Uint(r.bytes);
  j.Key("sentences").Uint(r.sentences);
  j.Key("too_long_sentences").Uint(r.too_long_sentences);
  j.Key("distinct_words").Uint(r.distinct_words);
  j.Key("replaced_utf8_docs").Uint(r.replaced_utf8_docs);
  j.Key("required_chars").Int(r.required_chars);
  j.Key("character_coverage").Double(r.character_coverage);
  j.Key("seed_pieces").Uint(r.seed_pieces);
  j.Key("em_rounds").Int(r.em_rounds);
  j.Key("vocab_size").Int(r.vocab_size);
  j.Key("train_bytes_per_token").Double(r.train_bytes_per_token);
  j.Key("count_seconds").Double(r.count_seconds);
  j.Key("seed_seconds").Double(r.seed_seconds);
  j.Key("em_seconds").Double(r.em_seconds);
  j.EndObject();
  return j.Take() + "\n";
}

}  // namespace llmtk
