#include "tools/quant/imatrix.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/base/io.h"
#include "lib/formats/imatrix_file.h"
#include "lib/model/model.h"
#include "lib/model/session.h"
#include "lib/model/vocab.h"

namespace llmtk {
namespace {

// The calibration text: -f's bytes less one final newline (llama.cpp's -f
// drops it), or the --jsonl documents' texts joined by a blank line.
absl::StatusOr<std::string> CalibrationText(const ImatrixToolOptions& o) {
  if (!o.text_path.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(o.text_path));
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }
  ASSIGN_OR_RETURN(auto reader, DocumentReader::Open(o.jsonl_paths, o.reader));
  std::string text;
  Document d;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&d));
    if (!more) break;
    if (!text.empty()) text += "\n\n";
    text.append(d.text);
  }
  return text;
}

absl::Status Write(const ImatrixToolOptions& o, const Imatrix& m) {
  if (o.format == ImatrixFormat::kGguf) return WriteImatrixGguf(m, o.collect.n_ctx, o.output);
  std::vector<std::string> skipped;
  RETURN_IF_ERROR(WriteImatrixDat(m, o.output, &skipped));
  if (!o.quiet) {
    for (const std::string& s : skipped) {
      std::fprintf(stderr, "llmtk-quant imatrix: entry '%s' has no data for some columns - skipped\n", s.c_str());
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunImatrixTool(const ImatrixToolOptions& o) {
  const bool compute = !o.text_path.empty() || !o.jsonl_paths.empty();
  if (!o.combine.empty()) {
    if (compute || !o.model_path.empty() || !o.in_files.empty()) {
      return absl::InvalidArgumentError("--combine merges saved files only; give no -m, -f, --jsonl or --in-file");
    }
  } else {
    if (o.model_path.empty()) return absl::InvalidArgumentError("missing -m MODEL.gguf (or --combine FILES)");
    if (!o.text_path.empty() && !o.jsonl_paths.empty()) {
      return absl::InvalidArgumentError("give one of -f TEXT or --jsonl FILES, not both");
    }
    if (!compute && o.in_files.empty()) {
      return absl::InvalidArgumentError("missing -f TEXT or --jsonl FILES (the calibration text)");
    }
  }
  Imatrix m;
  for (const std::string& f : o.combine.empty() ? o.in_files : o.combine) {
    RETURN_IF_ERROR(LoadImatrix(f, o.collect.n_ctx, &m));
  }
  if (!compute) {
    RETURN_IF_ERROR(Write(o, m));
    if (!o.quiet) std::fprintf(stderr, "llmtk-quant imatrix: wrote %s (%zu entries)\n", o.output.c_str(), m.stats.size());
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Load(o.model_path));
  ASSIGN_OR_RETURN(Vocab vocab, Vocab::FromGguf(model->gguf()));
  ASSIGN_OR_RETURN(std::string text, CalibrationText(o));
  const bool bos = vocab.add_bos() && vocab.bos() >= 0;
  ASSIGN_OR_RETURN(std::vector<int32_t> tokens, vocab.Encode(text, bos, /*parse_special=*/false));
  ImatrixOptions co = o.collect;
  co.n_batch = std::min(co.n_batch, co.n_ctx);
  co.bos = bos ? vocab.bos() : -1;
  SessionOptions so;
  so.n_ctx = co.n_ctx;
  so.threads = o.threads;
  so.max_batch = co.n_batch;
  ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::Create(*model, so));
  m.prompt_file = !o.text_path.empty() ? o.text_path : o.jsonl_paths.front();
  int chunks = 0;
  RETURN_IF_ERROR(CollectImatrix(*session, tokens, co, &m, [&](int i, int n) {
    chunks = n;
    if (o.progress) std::fprintf(stderr, "\rllmtk-quant imatrix: chunk %d/%d", i, n);
  }));
  if (o.progress) std::fprintf(stderr, "\n");
  RETURN_IF_ERROR(Write(o, m));
  if (!o.quiet) {
    std::fprintf(stderr, "llmtk-quant imatrix: wrote %s (%zu entries, %d chunks of %d tokens from %zu tokens)\n",
                 o.output.c_str(), m.stats.size(), chunks, co.n_ctx, tokens.size());
  }
  return absl::OkStatus();
}

}  // namespace llmtk
