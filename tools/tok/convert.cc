// llmtk-tok convert: a SentencePiece .model to the tokenizer.json
// transformers' converter writes (tokenizer/spm_to_json.h).
#include "absl/strings/str_cat.h"
#include "lib/base/io.h"
#include "lib/formats/sentencepiece_model.h"
#include "lib/tokenizer/spm_to_json.h"
#include "tools/tok/tok_tool.h"

namespace llmtk {

absl::Status RunConvert(const ConvertOptions& o) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(o.input));
  ASSIGN_OR_RETURN(SentencePieceModel m, ReadSentencePieceModel(bytes, o.input));
  ASSIGN_OR_RETURN(std::string json, SentencePieceToTokenizerJson(m, o.input));
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(o.output));
  RETURN_IF_ERROR(out->Write(json));
  return out->Close();
}

}  // namespace llmtk
