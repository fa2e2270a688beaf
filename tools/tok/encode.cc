#include "tools/tok/tok_tool.h"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/common/cli.h"
#include "lib/base/parallel.h"
#include "lib/base/unicode.h"
#include "lib/formats/token_files.h"
#include "lib/tokenizer/tokenizer.h"
#include "tools/tok/doc_batch.h"
#include "tools/tok/id_text.h"

namespace llmtk {

absl::StatusOr<EncodeReport> EncodeCorpus(const EncodeOptions& o) {
  auto t0 = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto tok, Tokenizer::Load(o.tokenizer, TokenizerFileOptions{o.tiktoken_pattern, o.cased}));
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSIGN_OR_RETURN(DocumentSpecials plan, PlanDocumentSpecials(*tok, o.specials));
  std::vector<std::string> inputs = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
  DocumentReaderOptions ro = o.reader;
  const bool takes_invalid = tok->TakesInvalidUtf8();
  if (takes_invalid && !o.invalid_utf8_given) ro.invalid_utf8 = InvalidUtf8Policy::kKeep;
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(inputs, ro));
  std::vector<InvalidUtf8Tally> invalid_utf8;

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
  const IdText id_text(keep_raw || o.format == TokenOutputFormat::kIds ? tok->vocab_size() : 0);

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
    r->invalid_utf8.clear();
    std::vector<uint32_t> ids;
    std::string field;
    for (size_t i = 0; i < b.size(); ++i) {
      ids.clear();
      absl::Status s = EncodeDocument(t, plan, b.text(i), &ids);
      if (!s.ok()) return absl::DataLossError(absl::StrCat(b.where(i), ": ", s.message()));
      if (takes_invalid && !IsValidUtf8(b.text(i))) {
        size_t first = 0;
        const size_t n = CountInvalidUtf8Bytes(b.text(i), &first);
        AddInvalidUtf8(&r->invalid_utf8, {*b.sources[i], n, 1, absl::StrCat(b.where(i), ", byte ", first)});
      }
      r->tokens += ids.size();
      r->bytes += b.text(i).size();
      ++r->docs;
      switch (o.format) {
        case TokenOutputFormat::kIds:
          id_text.Append(&r->text, ids, ' ');
          r->text.push_back('\n');
          break;
        case TokenOutputFormat::kJsonl: {
          field = "[";
          id_text.Append(&field, ids, ',');
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
    for (const InvalidUtf8Tally& t : r.invalid_utf8) {
      AddInvalidUtf8(&invalid_utf8, t);
      rep.invalid_utf8_bytes += t.bytes;
    }
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
  rep.invalid_utf8_warnings = InvalidUtf8Warnings("tok", invalid_utf8);
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
    if (r.invalid_utf8_bytes) w.Key("invalid_utf8_bytes").Uint(r.invalid_utf8_bytes);
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

absl::Status RunEncode(const EncodeOptions& o, bool json, bool quiet) {
  RETURN_IF_ERROR(RequireInputOrPipe(o.inputs));
  ASSIGN_OR_RETURN(EncodeReport r, EncodeCorpus(o));
  std::fputs(r.invalid_utf8_warnings.c_str(), stderr);
  if (json) return WriteJsonReport(o.output, FormatEncodeReport(r, true));
  if (!quiet) {
    std::string s = "llmtk-tok: " + FormatEncodeReport(r, false);
    std::fputs(s.c_str(), stderr);
  }
  return absl::OkStatus();
}

}  // namespace llmtk
