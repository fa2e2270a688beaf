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

namespace llmtk {

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
  ASSIGN_OR_RETURN(auto tok, Tokenizer::Load(o.tokenizer, TokenizerFileOptions{o.tiktoken_pattern, o.cased}));
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

absl::Status RunDecode(const DecodeOptions& o) {
  RETURN_IF_ERROR(RequireInputOrPipe(o.inputs));
  return DecodeCorpus(o);
}

}  // namespace llmtk
