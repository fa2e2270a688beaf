#include "tools/tok/commands.h"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/common/cli.h"
#include "lib/base/parallel.h"
#include "lib/formats/token_files.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

constexpr size_t kBatchBytes = 1 << 20;
constexpr size_t kBatchDocs = 4096;

// Documents of one batch, their bytes in one arena (no allocation per
// document once the batch has grown).
struct DocBatch {
  std::string arena;
  std::vector<std::pair<size_t, size_t>> text_spans, raw_spans;  // raw: jsonl output only
  std::vector<char> is_json;
  std::vector<const std::string*> sources;
  std::vector<uint64_t> lines;
  uint64_t first_index = 0;
  size_t size() const { return text_spans.size(); }
  std::string_view text(size_t i) const {
    return std::string_view(arena).substr(text_spans[i].first, text_spans[i].second);
  }
  std::string_view raw(size_t i) const {
    return std::string_view(arena).substr(raw_spans[i].first, raw_spans[i].second);
  }
  // "file:line", for error messages.
  std::string where(size_t i) const { return absl::StrCat(*sources[i], ":", lines[i]); }
};

struct EncodedBatch {
  std::string text;                // ids / jsonl output
  std::vector<uint32_t> ids;       // bin / megatron
  std::vector<uint32_t> lengths;   // per document
  uint64_t tokens = 0, bytes = 0, docs = 0;
};

void AppendIds(std::string* out, std::span<const uint32_t> ids, char sep) {
  char buf[16];
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out->push_back(sep);
    auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), ids[i]);
    out->append(buf, p);
  }
}

// Fills a batch from the reader; false at the end.
absl::StatusOr<bool> FillBatch(DocumentReader& reader, bool keep_raw, DocBatch* b) {
  b->arena.clear();
  b->text_spans.clear();
  b->raw_spans.clear();
  b->is_json.clear();
  b->sources.clear();
  b->lines.clear();
  Document doc;
  while (b->arena.size() < kBatchBytes && b->text_spans.size() < kBatchDocs) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&doc));
    if (!more) break;
    if (b->text_spans.empty()) b->first_index = doc.index;
    b->text_spans.emplace_back(b->arena.size(), doc.text.size());
    b->arena.append(doc.text);
    b->sources.push_back(doc.source);
    b->lines.push_back(doc.line_number);
    if (keep_raw) {
      b->raw_spans.emplace_back(b->arena.size(), doc.raw.size());
      b->arena.append(doc.raw);
      b->is_json.push_back(doc.is_json);
    }
  }
  return !b->text_spans.empty();
}

}  // namespace

absl::StatusOr<EncodeReport> EncodeCorpus(const EncodeOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto tok, Tokenizer::Load(o.tokenizer));
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSIGN_OR_RETURN(DocumentSpecials plan, PlanDocumentSpecials(*tok, o.specials));
  std::vector<std::string> inputs = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(inputs, o.reader));

  EncodeReport rep;
  std::unique_ptr<OutputFile> out;
  std::unique_ptr<NanoGptWriter> bin;
  std::unique_ptr<MegatronWriter> meg;
  if (o.format == TokenOutputFormat::kBin) {
    NanoGptDtype dt = NanoGptDtypeForVocab(tok->vocab_size());
    ASSIGN_OR_RETURN(bin, NanoGptWriter::Open(o.output, dt));
    rep.dtype = std::string(NanoGptDtypeName(dt));
  } else if (o.format == TokenOutputFormat::kMegatron) {
    if (o.output.empty() || o.output == "-") {
      return absl::InvalidArgumentError("--format megatron writes PREFIX.bin and PREFIX.idx: give -o PREFIX");
    }
    std::string prefix = o.output;
    for (std::string_view ext : {".bin", ".idx"})
      if (prefix.size() > ext.size() && prefix.compare(prefix.size() - ext.size(), ext.size(), ext) == 0)
        prefix.resize(prefix.size() - ext.size());
    MegatronDtype dt = MegatronDtypeForVocab(tok->vocab_size());
    ASSIGN_OR_RETURN(meg, MegatronWriter::Open(prefix, dt));
    rep.dtype = std::string(MegatronDtypeName(dt));
  } else {
    ASSIGN_OR_RETURN(out, OutputFile::Open(o.output, o.output_options));
  }

  Progress progress("encode", o.progress);
  progress.SetTotalBytes(reader->TotalBytesHint());
  const bool keep_raw = o.format == TokenOutputFormat::kJsonl;
  const Tokenizer& t = *tok;

  std::function<absl::StatusOr<bool>(DocBatch*)> produce = [&](DocBatch* b) -> absl::StatusOr<bool> {
    ASSIGN_OR_RETURN(bool more, FillBatch(*reader, keep_raw, b));
    progress.SetBytes(static_cast<uint64_t>(std::max<int64_t>(0, reader->RawBytesRead())));
    return more;
  };
  std::function<absl::Status(DocBatch&, EncodedBatch*)> work = [&](DocBatch& b, EncodedBatch* r) -> absl::Status {
    r->text.clear();
    r->ids.clear();
    r->lengths.clear();
    r->tokens = r->bytes = r->docs = 0;
    std::vector<uint32_t> ids;
    std::string field;
    for (size_t i = 0; i < b.size(); ++i) {
      ids.clear();
      absl::Status s = EncodeDocument(t, plan, b.text(i), &ids);
      if (!s.ok()) return absl::DataLossError(absl::StrCat(b.where(i), ": ", s.message()));
      r->tokens += ids.size();
      r->bytes += b.text(i).size();
      ++r->docs;
      switch (o.format) {
        case TokenOutputFormat::kIds:
          AppendIds(&r->text, ids, ' ');
          r->text.push_back('\n');
          break;
        case TokenOutputFormat::kJsonl: {
          field = "[";
          AppendIds(&field, ids, ',');
          field.push_back(']');
          if (b.is_json[i]) {
            ASSIGN_OR_RETURN(std::string line, SetJsonFields(b.raw(i), {{o.ids_key, field}}));
            r->text += line;
          } else {
            JsonWriter w;
            w.BeginObject().Key("text").String(b.text(i)).Key(o.ids_key).Raw(field).EndObject();
            r->text += w.str();
          }
          r->text.push_back('\n');
          break;
        }
        case TokenOutputFormat::kBin:
        case TokenOutputFormat::kMegatron:
          r->ids.insert(r->ids.end(), ids.begin(), ids.end());
          r->lengths.push_back(static_cast<uint32_t>(ids.size()));
          break;
      }
    }
    return absl::OkStatus();
  };
  std::function<absl::Status(EncodedBatch&)> consume = [&](EncodedBatch& r) -> absl::Status {
    rep.documents += r.docs;
    rep.tokens += r.tokens;
    rep.bytes += r.bytes;
    progress.Add(r.docs, 0);
    if (out) return out->Write(r.text);
    if (bin) return bin->Append(r.ids);
    size_t off = 0;
    for (uint32_t n : r.lengths) {
      RETURN_IF_ERROR(meg->AddDocument(std::span<const uint32_t>(r.ids).subspan(off, n)));
      off += n;
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR((OrderedParallelMap<DocBatch, EncodedBatch>(o.threads, produce, work, consume)));
  if (out) RETURN_IF_ERROR(out->Close());
  if (bin) RETURN_IF_ERROR(bin->Close());
  if (meg) RETURN_IF_ERROR(meg->Close());
  progress.Finish();
  rep.skipped = reader->skipped();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  rep.load_seconds = load_seconds;
  return rep;
}

std::string FormatEncodeReport(const EncodeReport& r, bool json) {
  if (json) {
    JsonWriter w;
    w.BeginObject().Key("documents").Uint(r.documents).Key("tokens").Uint(r.tokens).Key("bytes").Uint(r.bytes);
    w.Key("skipped").Uint(r.skipped).Key("seconds").Double(r.seconds).Key("load_seconds").Double(r.load_seconds);
    const double enc = r.seconds - r.load_seconds;
    w.Key("encode_mb_per_s").Double(enc > 0 ? r.bytes / enc / 1e6 : 0.0);
    if (!r.dtype.empty()) w.Key("dtype").String(r.dtype);
    w.EndObject();
    return w.Take() + "\n";
  }
  const double enc = r.seconds - r.load_seconds;
  return absl::StrFormat(
      "encoded %d documents, %d tokens, %d bytes (%.2f bytes/token)%s in %.2f s (load %.2f s, encode %.1f MB/s)\n",
      r.documents, r.tokens, r.bytes, r.tokens ? static_cast<double>(r.bytes) / r.tokens : 0.0,
      r.skipped ? absl::StrCat(", ", r.skipped, " bad lines skipped") : "", r.seconds, r.load_seconds,
      enc > 0 ? r.bytes / enc / 1e6 : 0.0);
}

namespace {

absl::Status WriteDecoded(OutputFile& out, const std::string& text, bool jsonl) {
  if (jsonl) {
    std::string line;
    JsonWriter w;
    w.BeginObject().Key("text").String(text).EndObject();
    line = w.Take();
    line.push_back('\n');
    return out.Write(line);
  }
  RETURN_IF_ERROR(out.Write(text));
  return out.Write("\n");
}

absl::Status ParseIdLine(std::string_view line, std::vector<uint32_t>* ids, std::string* err) {
  ids->clear();
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == ',')) ++i;
    if (i >= line.size()) break;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != ',') ++j;
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(line.data() + i, line.data() + j, v);
    if (ec != std::errc() || p != line.data() + j) {
      *err = absl::StrCat("\"", ToAbsl(line.substr(i, j - i)), "\" at column ", i + 1, " is not a token id");
      return absl::DataLossError(*err);
    }
    ids->push_back(v);
    i = j;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeCorpus(const DecodeOptions& o) {
  ASSIGN_OR_RETURN(auto tok, Tokenizer::Load(o.tokenizer));
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(o.output, o.output_options));
  std::vector<std::string> inputs = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
  std::vector<uint32_t> ids;
  for (const std::string& in : inputs) {
    if (o.input_format == IdsInputFormat::kIds) {
      ASSIGN_OR_RETURN(auto stream, OpenInput(in));
      LineReader lines(std::move(stream));
      std::string_view line;
      std::string err;
      while (true) {
        ASSIGN_OR_RETURN(bool more, lines.Next(&line));
        if (!more) break;
        absl::Status s = ParseIdLine(line, &ids, &err);
        if (s.ok()) {
          auto text = tok->Decode(ids, o.skip_special);
          if (!text.ok()) {
            s = text.status();
          } else {
            RETURN_IF_ERROR(WriteDecoded(*out, *text, o.jsonl));
          }
        }
        if (!s.ok()) return absl::DataLossError(absl::StrCat(lines.name(), ":", lines.line_number(), ": ", s.message()));
      }
    } else if (o.input_format == IdsInputFormat::kBin) {
      NanoGptDtype dt = NanoGptDtypeForVocab(tok->vocab_size());
      if (o.dtype == "uint16") dt = NanoGptDtype::kUint16;
      if (o.dtype == "uint32") dt = NanoGptDtype::kUint32;
      ASSIGN_OR_RETURN(auto reader, NanoGptReader::Open(in, dt));
      ASSIGN_OR_RETURN(ids, reader->Read(0, reader->size()));
      auto text = tok->Decode(ids, o.skip_special);
      if (!text.ok()) return absl::DataLossError(absl::StrCat(in, ": ", text.status().message()));
      RETURN_IF_ERROR(out->Write(*text));
    } else {
      ASSIGN_OR_RETURN(auto reader, MegatronReader::Open(in));
      for (uint64_t d = 0; d < reader->num_documents(); ++d) {
        ASSIGN_OR_RETURN(ids, reader->Document(d));
        auto text = tok->Decode(ids, o.skip_special);
        if (!text.ok()) return absl::DataLossError(absl::StrCat(in, ".bin: document ", d, ": ", text.status().message()));
        RETURN_IF_ERROR(WriteDecoded(*out, *text, o.jsonl));
      }
    }
  }
  return out->Close();
}

absl::StatusOr<std::string> InspectTokenizer(const std::string& path, bool json) {
  ASSIGN_OR_RETURN(auto tok, Tokenizer::Load(path));
  const TokenizerParts& p = tok->parts();
  size_t special = 0;
  for (const AddedToken& t : p.added.tokens()) special += t.special;
  auto id_str = [&](const std::optional<uint32_t>& id) -> std::string {
    if (!id) return "none";
    return absl::StrCat(*id, " ", ToAbsl(tok->IdToToken(*id)));
  };
  std::vector<std::string> norm, pre, dec;
  for (const auto& s : p.normalizer.steps()) {
    static const char* kNames[] = {"NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Strip", "Replace", "Prepend"};
    norm.push_back(kNames[static_cast<int>(s.kind)]);
  }
  for (const auto& s : p.pre_tokenizer.steps()) {
    if (s.kind == PreTokenizeStep::Kind::kSplit) {
      pre.push_back(s.regex ? absl::StrCat("Split(", s.regex->pattern(), ")") : absl::StrCat("Split(\"", s.literal, "\")"));
    } else if (s.kind == PreTokenizeStep::Kind::kByteLevel) {
      pre.push_back(s.regex ? "ByteLevel(gpt2 regex)" : "ByteLevel");
    } else {
      pre.push_back("Metaspace");
    }
  }
  for (const auto& s : p.decoder.steps()) {
    static const char* kNames[] = {"ByteLevel", "Replace", "ByteFallback", "Fuse", "Strip", "Metaspace"};
    dec.push_back(kNames[static_cast<int>(s.kind)]);
  }
  std::string prefix, suffix;
  AppendIds(&prefix, p.post.prefix, ' ');
  AppendIds(&suffix, p.post.suffix, ' ');
  if (json) {
    JsonWriter w;
    w.BeginObject().Key("source").String(p.source).Key("format").String(p.format).Key("model").String(p.description);
    w.Key("vocab_size").Uint(tok->vocab_size()).Key("model_tokens").Uint(tok->model().size());
    w.Key("merges").Uint(tok->model().merges()).Key("added_tokens").Uint(p.added.tokens().size());
    w.Key("special_tokens").Uint(special);
    auto arr = [&](std::string_view k, const std::vector<std::string>& v) {
      w.Key(k).BeginArray();
      for (const auto& x : v) w.String(x);
      w.EndArray();
    };
    arr("normalizer", norm);
    arr("pre_tokenizer", pre);
    arr("decoder", dec);
    w.Key("post_processor").String(p.post.type).Key("prefix_ids").Raw("[" + [&] { std::string s; AppendIds(&s, p.post.prefix, ','); return s; }() + "]");
    w.Key("suffix_ids").Raw("[" + [&] { std::string s; AppendIds(&s, p.post.suffix, ','); return s; }() + "]");
    auto opt = [&](std::string_view k, const std::optional<uint32_t>& id) {
      w.Key(k);
      if (id) {
        w.Uint(*id);
      } else {
        w.Null();
      }
    };
    opt("bos_id", p.bos_id);
    opt("eos_id", p.eos_id);
    opt("unk_id", p.unk_id);
    w.EndObject();
    return w.Take() + "\n";
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
    return s.empty() ? std::string("none") : s;
  };
  std::string s;
  absl::StrAppend(&s, "source:          ", p.source, "\n");
  absl::StrAppend(&s, "format:          ", p.format, "\n");
  absl::StrAppend(&s, "model:           ", p.description, "\n");
  absl::StrAppend(&s, "vocab size:      ", tok->vocab_size(), " (", tok->model().size(), " model tokens, ",
                  tok->model().merges(), " merges)\n");
  absl::StrAppend(&s, "added tokens:    ", p.added.tokens().size(), " (", special, " special)\n");
  absl::StrAppend(&s, "normalizer:      ", join(norm), "\n");
  absl::StrAppend(&s, "pre-tokenizer:   ", join(pre), "\n");
  absl::StrAppend(&s, "decoder:         ", join(dec), "\n");
  absl::StrAppend(&s, "post-processor:  ", p.post.type.empty() ? "none" : p.post.type, " (prefix [", prefix,
                  "], suffix [", suffix, "])\n");
  absl::StrAppend(&s, "bos: ", id_str(p.bos_id), "  eos: ", id_str(p.eos_id), "  unk: ", id_str(p.unk_id), "\n");
  return s;
}

absl::StatusOr<std::string> TokenizerStats(const StatsOptions& o) {
  ASSIGN_OR_RETURN(auto tok, Tokenizer::Load(o.tokenizer));
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

}  // namespace llmtk
