#include <cstdio>
#include <string>

#include "lib/base/io.h"
#include "lib/tokenizer/bert_vocab.h"
#include "lib/tokenizer/tokenizer.h"
#include "tools/tok/tok_tool.h"

namespace llmtk {

absl::Status RunConvert(const ConvertOptions& o) {
  ASSIGN_OR_RETURN(std::string vocab, ReadFileToString(o.input));
  BertVocabOptions opt;
  opt.lowercase = !o.cased;
  ASSIGN_OR_RETURN(std::string json, BertTokenizerJsonFromVocab(vocab, o.input, opt));
  // What we write must load: the same checks as any tokenizer.json.
  ASSIGN_OR_RETURN(auto tok, Tokenizer::FromJson(json, o.output));
  ASSIGN_OR_RETURN(auto out, OutputFile::Open(o.output));
  RETURN_IF_ERROR(out->Write(json));
  RETURN_IF_ERROR(out->Close());
  if (!o.quiet) {
    std::fprintf(stderr, "llmtk-tok: %s: %u tokens, %s (BERT-style WordPiece tokenizer.json)\n", o.output.c_str(),
                 tok->vocab_size(), o.cased ? "cased" : "uncased");
  }
  return absl::OkStatus();
}

}  // namespace llmtk
