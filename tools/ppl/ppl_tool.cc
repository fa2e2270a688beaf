#include "tools/ppl/ppl_tool.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/eval/kl_divergence.h"
#include "lib/model/model.h"
#include "lib/model/session.h"
#include "lib/model/vocab.h"
#include "lib/eval/perplexity.h"
#include "lib/eval/text_metrics.h"
#include "lib/base/io.h"
#include "simdjson.h"
#include "tools/common/cli.h"
#include "xxhash.h"

namespace llmtk {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t VocabHash(const Vocab& v) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  for (int i = 0; i < v.size(); ++i) {
    std::string p = v.Piece(i);
    uint32_t n = static_cast<uint32_t>(p.size());
    XXH3_64bits_update(st, &n, sizeof(n));
    XXH3_64bits_update(st, p.data(), p.size());
  }
  uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return h;
}

// Whitespace-separated token ids, each checked against the vocabulary.
absl::StatusOr<std::vector<int32_t>> ParseIds(std::string_view text, int n_vocab, const std::string& path) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    size_t start = i;
    int64_t v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && v < n_vocab) v = v * 10 + (text[i++] - '0');
    if (i == start || (i < text.size() && !isspace(static_cast<unsigned char>(text[i]))) || v >= n_vocab) {
      size_t end = start;
      while (end < text.size() && end - start < 20 && !isspace(static_cast<unsigned char>(text[end]))) ++end;
      return absl::DataLossError(absl::StrCat("token '", ToAbsl(text.substr(start, end - start)), "' at byte ", start,
                                              " is not an id below ", n_vocab, ", ", path));
    }
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

// The bytes token i of `tokens` stands for in the text: its piece, less the
// space the SentencePiece prefix puts before the first text token (the text
// does not have it).
std::function<std::string(int64_t)> TextPieces(const Vocab& v, const std::vector<int32_t>& tokens, bool bos) {
  const int64_t first = bos ? 1 : 0;
  return [&v, &tokens, first](int64_t i) {
    std::string p = v.Piece(tokens[static_cast<size_t>(i)]);
    if (i == first && v.adds_space_prefix() && !p.empty() && p[0] == ' ') p.erase(0, 1);
    return p;
  };
}

// lm-evaluation-harness's wikitext figures (eval/text_metrics.h) as JSON
// fields (name, value); null where undefined.
std::vector<std::pair<std::string, std::string>> PerUnitFields(double nll_sum, const TextUnits& u) {
  const PerUnitMetrics m = ComputePerUnitMetrics(nll_sum, u);
  auto num = [](const std::optional<double>& v) { return v ? JsonWriter().Double(*v).Take() : std::string("null"); };
  return {{"bytes", absl::StrCat(u.bytes)},
          {"words", absl::StrCat(u.words)},
          {"bits_per_byte", num(m.bits_per_byte)},
          {"byte_perplexity", num(m.byte_perplexity)},
          {"word_perplexity", num(m.word_perplexity)}};
}

void AddPerUnitFields(JsonWriter& w, double nll_sum, const TextUnits& u) {
  for (const auto& [k, v] : PerUnitFields(nll_sum, u)) w.Key(k).Raw(v);
}

struct Loaded {
  std::unique_ptr<Model> model;
  std::unique_ptr<Session> session;
  std::unique_ptr<Vocab> vocab;
  EvalFn eval;
};

absl::StatusOr<Loaded> Load(const PplToolOptions& o) {
  Loaded l;
  ASSIGN_OR_RETURN(l.model, Model::Load(o.model_path));
  // Pre-tokenized input (--ids) needs no vocabulary: random-weight benchmark
  // models carry none.
  auto v = Vocab::FromGguf(l.model->gguf());
  if (v.ok()) {
    l.vocab = std::make_unique<Vocab>(std::move(*v));
  } else if (!o.ids) {
    return v.status();
  }
  SessionOptions so;
  so.n_ctx = o.n_ctx;
  so.kv_f32 = o.kv_f32;
  so.threads = o.threads;
  so.max_batch = std::min(o.max_batch, o.ubatch);
  ASSIGN_OR_RETURN(l.session, Session::Create(*l.model, so));
  Session* s = l.session.get();
  l.eval = [s](absl::Span<const int32_t> tokens, std::vector<float>* logits) {
    s->Truncate(0);
    return s->Eval(tokens, LogitsMode::kAll, logits);
  };
  return l;
}

// -f reads any bytes as one text, so a JSONL file would be scored as JSON
// (keys, braces, ids): refused when its first line is a JSON object.
absl::Status CheckNotJsonl(std::string_view head, const std::string& name, const std::string& path) {
  const size_t start = head.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || head[start] != '{') return absl::OkStatus();
  const size_t end = head.find('\n', start);
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  const simdjson::padded_string line(head.substr(start, end == std::string_view::npos ? head.npos : end - start));
  if (parser.parse(line).get(obj) != simdjson::SUCCESS) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      name, " is JSONL (its first line is a JSON object), and -f would score the JSON text itself; use --jsonl ",
      path, " for per-document scores and their token-weighted PPL (--text-key for another field)"));
}

struct Corpus {
  std::vector<int32_t> tokens;
  bool cut = false;  // the text had more tokens than were kept
  size_t invalid_utf8 = 0, first_invalid = 0;  // bytes in the text tokenized
};

// The corpus's tokens: the whole text's, or with `need` > 0 its first `need`
// tokens, for which only a prefix of a text (not --ids) is read and
// tokenized. The prefix ends at a line break at least kMarginTokens tokens
// past the ones kept, so a merge the cut could change lies far from them
// (merges reach a few tokens, not hundreds): they are the whole text's.
absl::StatusOr<Corpus> ReadCorpus(const PplToolOptions& o, const Loaded& l, int64_t need) {
  constexpr int64_t kMarginTokens = 256;
  const bool bos = l.vocab && l.vocab->add_bos() && l.vocab->bos() >= 0;
  ASSIGN_OR_RETURN(std::unique_ptr<InputStream> in, OpenInput(o.text_path));
  std::string text;
  // A first guess of the bytes `need` tokens take (tokens are rarely over 8
  // bytes); doubled until enough.
  size_t want = need > 0 && !o.ids ? static_cast<size_t>(need + kMarginTokens) * 8 : SIZE_MAX;
  bool eof = false, checked = false;
  Corpus c;
  std::vector<int32_t>& tokens = c.tokens;
  for (;;) {
    while (!eof && text.size() < want) {
      const size_t old = text.size();
      const size_t block = std::min<size_t>(want - old, size_t{1} << 22);
      text.resize(old + block);
      ASSIGN_OR_RETURN(size_t n, in->Read(text.data() + old, block));
      text.resize(old + n);
      if (n == 0) eof = true;
      if (!checked && !o.ids && (eof || text.find('\n') != std::string::npos)) {
        RETURN_IF_ERROR(CheckNotJsonl(text, in->name(), o.text_path));
        checked = true;
      }
    }
    if (eof) break;
    const size_t cut = text.rfind('\n');
    if (cut != std::string::npos) {
      // As llama-perplexity: "</s>" in the corpus is text, not the EOS token.
      ASSIGN_OR_RETURN(tokens, l.vocab->Encode(std::string_view(text).substr(0, cut + 1), bos,
                                               /*parse_special=*/false));
      if (static_cast<int64_t>(tokens.size()) >= need + kMarginTokens) {
        tokens.resize(static_cast<size_t>(need));
        c.cut = true;
        c.invalid_utf8 = CountInvalidUtf8Bytes(std::string_view(text).substr(0, cut + 1), &c.first_invalid);
        return c;
      }
    }
    want = text.size() * 2;
  }
  if (text.empty()) return absl::FailedPreconditionError(absl::StrCat("the text is empty, ", o.text_path));
  if (o.ids) {
    ASSIGN_OR_RETURN(tokens, ParseIds(text, l.model->config().n_vocab, o.text_path));
  } else {
    ASSIGN_OR_RETURN(tokens, l.vocab->Encode(text, bos, /*parse_special=*/false));
    c.invalid_utf8 = CountInvalidUtf8Bytes(text, &c.first_invalid);
  }
  if (need > 0 && static_cast<int64_t>(tokens.size()) > need) {
    tokens.resize(static_cast<size_t>(need));
    c.cut = true;
  }
  return c;
}

absl::Status CorpusMode(const PplToolOptions& o, Loaded& l, const std::function<void(std::string_view)>& err) {
  auto t0 = Clock::now();
  const int n_vocab = l.model->config().n_vocab;
  const bool bos = l.vocab && l.vocab->add_bos() && l.vocab->bos() >= 0;
  // --chunks N in llama.cpp's mode uses the first N contexts' tokens only
  // (at least two: llama-perplexity's minimum text).
  const int64_t need = o.stride == 0 && o.max_chunks > 0 ? int64_t{std::max(o.max_chunks, 2)} * o.n_ctx : 0;
  ASSIGN_OR_RETURN(Corpus corpus, ReadCorpus(o, l, need));
  const std::vector<int32_t>& tokens = corpus.tokens;
  if (corpus.invalid_utf8) {
    err(absl::StrFormat("llmtk-ppl: warning: %s: %d byte%s of invalid UTF-8 (first at byte %d), tokenized as "
                        "llama.cpp does\n", o.text_path, corpus.invalid_utf8, corpus.invalid_utf8 == 1 ? "" : "s",
                        corpus.first_invalid));
  }
  const bool show = o.progress || (!o.quiet && !o.json && isatty(2));
  if (!o.quiet) {
    err(absl::StrFormat("llmtk-ppl: %s, %s%d tokens, ctx %d, %s\n", o.text_path, corpus.cut ? "first " : "",
                        tokens.size(), o.n_ctx,
                        o.stride > 0 ? absl::StrCat("sliding window, stride ", o.stride)
                                     : std::string("llama.cpp chunks (second half scored)")));
  }

  LogitsFileHeader header{static_cast<uint32_t>(n_vocab), 0, static_cast<uint32_t>(o.n_ctx),
                          static_cast<uint32_t>(o.stride), 0, HashTokens(tokens),
                          l.vocab ? VocabHash(*l.vocab) : 0};
  std::unique_ptr<LogitsWriter> writer;
  std::unique_ptr<LogitsReader> reader;
  if (!o.save_logits.empty()) {
    header.top_k = static_cast<uint32_t>(o.top_k > 0 ? o.top_k : std::min(n_vocab, 256));
    ASSIGN_OR_RETURN(writer, LogitsWriter::Open(o.save_logits, header));
  }
  if (!o.kl_divergence.empty()) {
    ASSIGN_OR_RETURN(reader, LogitsReader::Open(o.kl_divergence));
    RETURN_IF_ERROR(reader->CheckCompatible(header));
  }
  KlStats kl;
  // Bytes and words need the text: not with --ids.
  std::optional<ScoredText> scored_text;
  if (l.vocab && !o.ids) scored_text.emplace(TextPieces(*l.vocab, tokens, bos), static_cast<int64_t>(tokens.size()));
  ScoredFn on_scored = [&](int64_t index, const float* logits, int32_t target) -> absl::Status {
    if (scored_text) scored_text->Add(index);
    if (writer) RETURN_IF_ERROR(writer->Add(logits, target));
    if (reader) RETURN_IF_ERROR(reader->Compare(logits, target, &kl));
    return absl::OkStatus();
  };
  ChunkFn on_chunk = [&](int c, int n, const NllStats& s) {
    if (show) err(absl::StrFormat("\r[%d/%d] PPL %.4f\x1b[K", c, n, s.Ppl()));
  };
  absl::StatusOr<NllStats> stats;
  int n_chunks = 0;
  if (o.stride > 0) {
    stats = SlidingWindowPerplexity(l.eval, tokens, o.n_ctx, o.stride, n_vocab, on_scored,
                                    [&](int c, int n, const NllStats& s) { n_chunks = n; on_chunk(c, n, s); });
  } else {
    CorpusOptions co;
    co.n_ctx = o.n_ctx;
    co.n_vocab = n_vocab;
    co.bos = bos ? l.vocab->bos() : -1;
    co.max_chunks = o.max_chunks;
    stats = CorpusPerplexity(l.eval, tokens, co, on_scored,
                             [&](int c, int n, const NllStats& s) { n_chunks = n; on_chunk(c, n, s); });
  }
  if (show) err("\n");
  RETURN_IF_ERROR(stats.status());
  if (writer) RETURN_IF_ERROR(writer->Close());
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();

  std::string out;
  if (o.json) {
    JsonWriter w;
    w.BeginObject().Key("model").String(o.model_path).Key("text").String(o.text_path)
        .Key("tokens").Uint(tokens.size()).Key("ctx").Int(o.n_ctx).Key("stride").Int(o.stride)
        .Key("chunks").Int(n_chunks).Key("scored").Uint(stats->count).Key("nll").Double(stats->Mean())
        .Key("ppl").Double(stats->Ppl()).Key("stderr").Double(stats->PplStderr()).Key("seconds").Double(secs)
        .Key("tokens_per_second").Double(secs > 0 ? stats->count / secs : 0);
    if (scored_text) AddPerUnitFields(w, stats->sum, scored_text->Units());
    if (reader) {
      w.Key("kl_divergence").BeginObject().Key("reference").String(o.kl_divergence)
          .Key("mean").Double(kl.Mean()).Key("stderr").Double(kl.MeanStderr())
          .Key("median").Double(kl.Percentile(50)).Key("p90").Double(kl.Percentile(90))
          .Key("p99").Double(kl.Percentile(99)).Key("max").Double(kl.Percentile(100))
          .Key("same_top1").Double(kl.SameTop1()).Key("same_top1_stderr").Double(kl.SameTop1Stderr())
          .Key("reference_ppl").Double(kl.BasePpl()).Key("delta_ppl").Double(kl.Ppl() - kl.BasePpl())
          .EndObject();
    }
    w.EndObject();
    out = w.Take() + "\n";
  } else {
    out = absl::StrFormat("PPL = %.4f +/- %.5f\n", stats->Ppl(), stats->PplStderr());
    if (scored_text) {
      const TextUnits u = scored_text->Units();
      const PerUnitMetrics m = ComputePerUnitMetrics(stats->sum, u);
      if (m.bits_per_byte) {
        absl::StrAppend(&out, absl::StrFormat("bits/byte = %.4f, byte PPL = %.4f, word PPL = %.4f (%d bytes, %d words scored)\n",
                                              *m.bits_per_byte, *m.byte_perplexity, *m.word_perplexity, u.bytes,
                                              u.words));
      }
    }
    if (reader) {
      absl::StrAppend(&out, absl::StrFormat(
          "KLD = %.6f +/- %.6f (median %.6f, p99 %.6f, max %.6f)\n"
          "same top-1 = %.3f%% +/- %.3f%%\n"
          "PPL(reference) = %.4f, delta PPL = %.4f (%.3f%%)\n",
          kl.Mean(), kl.MeanStderr(), kl.Percentile(50), kl.Percentile(99), kl.Percentile(100),
          100 * kl.SameTop1(), 100 * kl.SameTop1Stderr(), kl.BasePpl(), kl.Ppl() - kl.BasePpl(),
          100 * (kl.Ppl() / kl.BasePpl() - 1)));
    }
  }
  ASSIGN_OR_RETURN(auto f, OutputFile::Open(o.output, o.output_options));
  RETURN_IF_ERROR(f->Write(out));
  RETURN_IF_ERROR(f->Close());
  if (!o.quiet && !o.json) {
    err(absl::StrFormat("llmtk-ppl: scored %d tokens in %d %s, %.2f s (%.0f tokens/s)\n", stats->count, n_chunks,
                        o.stride > 0 ? "windows" : "chunks", secs, secs > 0 ? stats->count / secs : 0.0));
  }
  return absl::OkStatus();
}

absl::Status DocumentMode(const PplToolOptions& o, Loaded& l, const std::function<void(std::string_view)>& err) {
  auto t0 = Clock::now();
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(o.jsonl_paths, o.reader));
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(o.output, o.output_options));
  const bool bos = l.vocab->add_bos() && l.vocab->bos() >= 0;
  const int n_vocab = l.model->config().n_vocab;
  const int stride = o.stride > 0 ? o.stride : std::max(1, o.n_ctx / 2);
  uint64_t docs = 0, empty = 0, scored = 0;
  NllStats total;
  TextUnits total_units;
  Document d;
  std::string line;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&d));
    if (!more) break;
    ++docs;
    ASSIGN_OR_RETURN(std::vector<int32_t> tokens, l.vocab->Encode(d.text, bos, /*parse_special=*/false));
    std::vector<std::pair<std::string, std::string>> fields;
    if (tokens.size() < 2) {
      ++empty;
      fields = {{o.ppl_key, "null"}, {o.nll_key, "null"}, {o.tokens_key, "0"}};
      for (auto& f : PerUnitFields(0, TextUnits{})) fields.push_back(std::move(f));
    } else {
      ScoredText text(TextPieces(*l.vocab, tokens, bos), static_cast<int64_t>(tokens.size()));
      auto st = SlidingWindowPerplexity(l.eval, tokens, o.n_ctx, stride, n_vocab,
                                        [&](int64_t index, const float*, int32_t) {
                                          text.Add(index);
                                          return absl::OkStatus();
                                        });
      if (!st.ok()) return Annotate(st.status(), absl::StrCat(*d.source, ":", d.line_number));
      scored += st->count;
      total.count += st->count;
      total.sum += st->sum;
      total.sum_sq += st->sum_sq;
      total_units += text.Units();
      JsonWriter p, n;
      p.Double(st->Ppl());
      n.Double(st->Mean());
      fields = {{o.ppl_key, p.Take()}, {o.nll_key, n.Take()}, {o.tokens_key, absl::StrCat(st->count)}};
      for (auto& f : PerUnitFields(st->sum, text.Units())) fields.push_back(std::move(f));
    }
    if (d.is_json) {
      ASSIGN_OR_RETURN(line, SetJsonFields(d.raw, fields));
    } else {
      JsonWriter w;
      w.BeginObject().Key(o.reader.text_key).String(d.text);
      for (auto& [k, v] : fields) w.Key(k).Raw(v);
      w.EndObject();
      line = w.Take();
    }
    line.push_back('\n');
    RETURN_IF_ERROR(out->Write(line));
    if (o.progress) err(absl::StrFormat("\rllmtk-ppl: %d documents\x1b[K", docs));
  }
  RETURN_IF_ERROR(out->Close());
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (o.progress) err("\n");
  if (o.json) {
    JsonWriter w;
    w.BeginObject().Key("documents").Uint(docs).Key("empty").Uint(empty).Key("skipped").Uint(reader->skipped())
        .Key("scored_tokens").Uint(scored).Key("nll").Double(total.Mean()).Key("ppl").Double(total.Ppl());
    AddPerUnitFields(w, total.sum, total_units);
    w.Key("seconds").Double(secs).EndObject();
    if (DataOnStdout(o.output)) {
      err(w.str() + "\n");
    } else {
      RETURN_IF_ERROR(WriteJsonReport(o.output, w.str()));
    }
  } else if (!o.quiet) {
    const PerUnitMetrics m = ComputePerUnitMetrics(total.sum, total_units);
    err(absl::StrFormat("llmtk-ppl: %d documents (%d empty, null scores; %d bad lines skipped), %d tokens scored, "
                        "token-weighted PPL %.4f%s\n",
                        docs, empty, reader->skipped(), scored, total.Ppl(),
                        m.bits_per_byte ? absl::StrFormat(", bits/byte %.4f, byte PPL %.4f, word PPL %.4f",
                                                          *m.bits_per_byte, *m.byte_perplexity, *m.word_perplexity)
                                        : std::string()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunPplTool(const PplToolOptions& o, const std::function<void(std::string_view)>& err) {
  if (o.text_path.empty() == o.jsonl_paths.empty()) {
    return absl::InvalidArgumentError("give exactly one of -f TEXT (corpus perplexity) or --jsonl FILES (per document)");
  }
  if (!o.jsonl_paths.empty() && o.ids) {
    return absl::InvalidArgumentError("--ids works with -f (one pre-tokenized text), not --jsonl");
  }
  if (!o.jsonl_paths.empty() && (!o.save_logits.empty() || !o.kl_divergence.empty())) {
    return absl::InvalidArgumentError("--save-logits and --kl-divergence work with -f (one text), not --jsonl");
  }
  if (o.n_ctx < 4) return absl::InvalidArgumentError(absl::StrCat("--ctx must be at least 4, got ", o.n_ctx));
  if (o.stride < 0 || o.stride > o.n_ctx) {
    return absl::InvalidArgumentError(
        absl::StrCat("--stride must be between 1 and the context (", o.n_ctx, "), got ", o.stride));
  }
  ASSIGN_OR_RETURN(Loaded l, Load(o));
  // llama.cpp warns too: past the training context the model sees positions
  // it never learned, and the number stops meaning what it should.
  const ModelConfig& mc = l.model->config();
  if (o.n_ctx > mc.n_ctx_train && l.model->gguf().Has(absl::StrCat(mc.arch, ".context_length"))) {
    err(absl::StrFormat("llmtk-ppl: warning: --ctx %d is more than the model's training context (%d tokens, "
                        "%s.context_length); positions past it are out of distribution\n",
                        o.n_ctx, mc.n_ctx_train, mc.arch));
  }
  if (!o.jsonl_paths.empty()) return DocumentMode(o, l, err);
  return CorpusMode(o, l, err);
}

}  // namespace llmtk
