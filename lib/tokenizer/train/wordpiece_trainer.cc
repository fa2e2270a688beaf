#include "lib/tokenizer/train/wordpiece_trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lib/base/io.h"
#include "lib/base/progress.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/bert_normalize.h"
#include "lib/tokenizer/bert_vocab.h"
#include "lib/tokenizer/pretokenize.h"

namespace llmtk {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

WordSplitFn MakeBertWordSplitter(bool lowercase) {
  BertNormalizerOptions norm;
  norm.lowercase = lowercase;
  norm.strip_accents = lowercase;  // tokenizer.json's null: follows lowercase
  auto pre = std::make_shared<PreTokenizer>();
  for (auto [cls, behavior] : {std::pair{PreTokenizeStep::CharClass::kWhitespace, SplitBehavior::kRemoved},
                               std::pair{PreTokenizeStep::CharClass::kPunctuation, SplitBehavior::kIsolated}}) {
    PreTokenizeStep st;
    st.kind = PreTokenizeStep::Kind::kCharSplit;
    st.char_class = cls;
    st.behavior = behavior;
    pre->Add(std::move(st));
  }
  return [norm, pre](std::string_view text, std::vector<std::string_view>* words) {
    thread_local std::string normalized, repaired;
    thread_local Pieces pieces;
    if (!IsValidUtf8(text)) {
      repaired = ReplaceInvalidUtf8(text);
      text = repaired;
    }
    // Neither step fails on valid UTF-8; a failure would drop the document's words.
    if (!BertNormalize(text, norm, &normalized).ok()) return;
    if (!pre->Run(normalized, true, &pieces).ok()) return;
    for (size_t i = 0; i < pieces.ranges.size(); ++i) words->push_back(pieces.piece(i));
  };
}

absl::StatusOr<std::string> WordPieceTokenizerJson(const TrainedWordPiece& model,
                                                   const WordPieceTrainerOptions& opts) {
  for (const char* need : {"[UNK]", "[CLS]", "[SEP]"}) {
    if (std::find(opts.special_tokens.begin(), opts.special_tokens.end(), need) == opts.special_tokens.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--special-tokens must include ", need, " (WordPiece's unknown token and BERT's [CLS] $A [SEP] "
          "template need [UNK], [CLS] and [SEP]); given: ", absl::StrJoin(opts.special_tokens, ",")));
    }
  }
  // Tokens never hold a newline (whitespace splits words), so the vocabulary
  // is a vocab.txt and the converter transformers' BertTokenizerFast matches
  // writes the rest.
  BertVocabOptions bo;
  bo.lowercase = opts.lowercase;
  bo.special_tokens = opts.special_tokens;
  return BertTokenizerJsonFromVocab(absl::StrJoin(model.tokens, "\n"), "trained vocabulary", bo);
}

absl::StatusOr<BpeTrainReport> TrainWordPiece(const std::vector<std::string>& inputs,
                                              const DocumentReaderOptions& reader_opts,
                                              const WordPieceTrainerOptions& opts,
                                              const std::string& output) {
  // The writer's checks first: a bad --special-tokens should not cost a run.
  RETURN_IF_ERROR(WordPieceTokenizerJson(TrainedWordPiece{opts.special_tokens}, opts).status());
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(inputs, reader_opts));
  const WordSplitFn split = MakeBertWordSplitter(opts.lowercase);

  BpeTrainReport report;
  WordTable table(opts.max_words);
  RETURN_IF_ERROR(CountCorpusWords(reader.get(), split, opts.threads, opts.show_progress, &table, &report));
  if (table.counts().empty()) {
    return absl::DataLossError(absl::StrCat("no text to train on: ", report.documents, " documents, ",
                                            report.bytes, " bytes of text and no words in ",
                                            absl::StrJoin(inputs, ", ")));
  }

  auto t1 = std::chrono::steady_clock::now();
  auto last_draw = t1;
  bool drawn = false;
  std::function<void(int)> on_merge;
  if (opts.show_progress) {
    on_merge = [&](int done) {
      auto now = std::chrono::steady_clock::now();
      if (now - last_draw < std::chrono::milliseconds(250)) return;
      last_draw = now;
      std::fprintf(stderr, "\rmerging: %d merges, %.0f merges/s\x1b[K", done,
                   done / std::max(SecondsSince(t1), 1e-9));
      drawn = true;
    };
  }
  ASSIGN_OR_RETURN(TrainedWordPiece model, LearnWordPiece(table.counts(), opts, on_merge));
  if (drawn) std::fputs("\r\x1b[K", stderr);
  report.merge_seconds = SecondsSince(t1);
  report.vocab_size = static_cast<int>(model.tokens.size());
  report.merges = model.merges;
  report.alphabet_size = model.alphabet_size + model.continuation_size;
  report.train_bytes_per_token = model.train_bytes_per_token;

  ASSIGN_OR_RETURN(std::string json, WordPieceTokenizerJson(model, opts));
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(output));
  RETURN_IF_ERROR(out->Write(json));
  RETURN_IF_ERROR(out->Close());
  return report;
}

absl::StatusOr<std::vector<std::string>> ReadContinuationOrder(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::vector<std::string> order;
  size_t pos = 0, line = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view t = std::string_view(text).substr(pos, nl - pos);
    pos = nl + 1;
    ++line;
    if (t.empty()) continue;
    bool one_char = t.size() > 2 && t.substr(0, 2) == kWordPiecePrefix && IsValidUtf8(t);
    if (one_char) {
      size_t at = 2;
      DecodeUtf8(t, &at);
      one_char = at == t.size();
    }
    if (!one_char) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", line, ": \"", ToAbsl(t), "\" is not \"##\" and one character (a continuation order "
          "lists the \"##c\" tokens, one a line)"));
    }
    order.emplace_back(t);
  }
  if (order.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no \"##c\" tokens"));
  return order;
}

}  // namespace llmtk
