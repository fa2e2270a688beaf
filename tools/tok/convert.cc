// llmtk-tok convert: a SentencePiece .model (tokenizer/spm_to_json.h) or a
// BERT vocab.txt (tokenizer/bert_vocab.h) to the tokenizer.json
// transformers' converter writes for it, told apart by content.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "lib/base/io.h"
#include "lib/formats/sentencepiece_model.h"
#include "lib/tokenizer/bert_vocab.h"
#include "lib/tokenizer/spm_to_json.h"
#include "lib/tokenizer/tokenizer.h"
#include "tools/tok/tok_tool.h"

namespace llmtk {

absl::Status RunConvert(const ConvertOptions& o) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(o.input));
  std::string json, kind;
  if (LooksLikeSentencePieceModel(bytes, o.input)) {
    ASSIGN_OR_RETURN(SentencePieceModel m, ReadSentencePieceModel(bytes, o.input));
    ASSIGN_OR_RETURN(json, SentencePieceToTokenizerJson(m, o.input));
    kind = "from a SentencePiece model";
  } else {
    BertVocabOptions opt;
    opt.lowercase = !o.cased;
    ASSIGN_OR_RETURN(json, BertTokenizerJsonFromVocab(bytes, o.input, opt));
    kind = absl::StrCat("BERT-style WordPiece, ", o.cased ? "cased" : "uncased");
  }
  // What we write must load: the same checks as any tokenizer.json.
  ASSIGN_OR_RETURN(auto tok, Tokenizer::FromJson(json, o.output));
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(o.output));
  RETURN_IF_ERROR(out->Write(json));
  RETURN_IF_ERROR(out->Close());
  if (!o.quiet) {
    std::fprintf(stderr, "llmtk-tok: %s: %u tokens (tokenizer.json, %s)\n", o.output == "-" ? "stdout" : o.output.c_str(),
                 tok->vocab_size(), kind.c_str());
  }
  return absl::OkStatus();
}

}  // namespace llmtk
