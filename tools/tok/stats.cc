#include "tools/tok/tok_tool.h"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/common/cli.h"
#include "lib/base/parallel.h"
#include "lib/formats/token_files.h"
#include "lib/tokenizer/tokenizer.h"
#include "tools/tok/doc_batch.h"

namespace llmtk {

absl::StatusOr<std::string> TokenizerStats(const StatsOptions& o) {
  ASSIGN_OR_RETURN(auto tok, Tokenizer::Load(o.tokenizer, TokenizerFileOptions{o.tiktoken_pattern, o.cased}));
  std::vector<std::string> inputs = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(inputs, o.reader));
  struct Counts {
    uint64_t docs = 0, bytes = 0, tokens = 0, words = 0, unk = 0, byte_fallback = 0, chars = 0;
  } total;
  const Tokenizer& t = *tok;
  const std::optional<uint32_t> unk = t.parts().unk_id;
  Progress progress("stats", o.progress);
  progress.SetTotalBytes(reader->TotalBytesHint());
  std::function<absl::StatusOr<bool>(DocBatch*)> produce = [&](DocBatch* b) { return FillBatch(*reader, false, b); };
  std::function<absl::Status(DocBatch&, Counts*)> work = [&](DocBatch& b, Counts* c) -> absl::Status {
    *c = Counts{};
    std::vector<uint32_t> ids;
    for (size_t i = 0; i < b.size(); ++i) {
      ids.clear();
      absl::Status s = t.Encode(b.text(i), false, &ids);
      if (!s.ok()) return absl::DataLossError(absl::StrCat(b.where(i), ": ", s.message()));
      ++c->docs;
      c->bytes += b.text(i).size();
      c->tokens += ids.size();
      for (uint32_t id : ids) {
        c->unk += unk && id == *unk;
        c->byte_fallback += t.IsByteFallback(id);
      }
      bool in_word = false;
      for (unsigned char ch : b.text(i)) {
        c->chars += (ch & 0xC0) != 0x80;
        bool space = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
        if (!space && !in_word) ++c->words;
        in_word = !space;
      }
    }
    return absl::OkStatus();
  };
  std::function<absl::Status(Counts&)> consume = [&](Counts& c) -> absl::Status {
    total.docs += c.docs;
    total.bytes += c.bytes;
    total.tokens += c.tokens;
    total.words += c.words;
    total.unk += c.unk;
    total.byte_fallback += c.byte_fallback;
    total.chars += c.chars;
    progress.Add(c.docs, 0);
    progress.SetBytes(static_cast<uint64_t>(std::max<int64_t>(0, reader->RawBytesRead())));
    return absl::OkStatus();
  };
  RETURN_IF_ERROR((OrderedParallelMap<DocBatch, Counts>(o.threads, produce, work, consume)));
  progress.Finish();
  auto ratio = [](uint64_t a, uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
  if (o.json) {
    JsonWriter w;
    w.BeginObject().Key("documents").Uint(total.docs).Key("bytes").Uint(total.bytes).Key("characters").Uint(total.chars);
    w.Key("words").Uint(total.words).Key("tokens").Uint(total.tokens);
    w.Key("bytes_per_token").Double(ratio(total.bytes, total.tokens));
    w.Key("chars_per_token").Double(ratio(total.chars, total.tokens));
    w.Key("tokens_per_word").Double(ratio(total.tokens, total.words));
    w.Key("unknown_tokens").Uint(total.unk).Key("unknown_rate").Double(ratio(total.unk, total.tokens));
    w.Key("byte_fallback_tokens").Uint(total.byte_fallback);
    w.Key("byte_fallback_rate").Double(ratio(total.byte_fallback, total.tokens));
    w.EndObject();
    return w.Take() + "\n";
  }
  return absl::StrFormat(
      "documents:           %d\nbytes:               %d\ncharacters:          %d\nwords:               %d\n"
      "tokens:              %d\nbytes/token:         %.4f\nchars/token:         %.4f\ntokens/word:         %.4f\n"
      "unknown tokens:      %d (%.4f%%)\nbyte-fallback tokens: %d (%.4f%%)\n",
      total.docs, total.bytes, total.chars, total.words, total.tokens, ratio(total.bytes, total.tokens),
      ratio(total.chars, total.tokens), ratio(total.tokens, total.words), total.unk, 100 * ratio(total.unk, total.tokens),
      total.byte_fallback, 100 * ratio(total.byte_fallback, total.tokens));
}

absl::Status RunStats(const StatsOptions& o) {
  RETURN_IF_ERROR(RequireInputOrPipe(o.inputs));
  ASSIGN_OR_RETURN(std::string s, TokenizerStats(o));
  return WriteStdout(s);
}

}  // namespace llmtk
