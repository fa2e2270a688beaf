#include "lib/tokenizer/bert_vocab.h"

#include <map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "lib/base/json_writer.h"
#include "lib/base/unicode.h"

namespace llmtk {

absl::StatusOr<std::string> BertTokenizerJsonFromVocab(std::string_view vocab_txt, const std::string& source,
                                                       const BertVocabOptions& opt) {
  // transformers' load_vocab: every line (without its "\n") is the token
  // whose id is the line's index.
  std::vector<std::string_view> tokens;
  absl::flat_hash_map<std::string_view, size_t> line_of;
  size_t pos = 0;
  while (pos < vocab_txt.size()) {
    size_t nl = vocab_txt.find('\n', pos);
    std::string_view line = vocab_txt.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? vocab_txt.size() : nl + 1;
    const size_t lineno = tokens.size() + 1;
    size_t bad = 0;
    if (!IsValidUtf8(line, &bad)) {
      return absl::DataLossError(absl::StrCat(source, ":", lineno, ": invalid UTF-8 at byte ", bad,
                                              " of the line (a vocab.txt is UTF-8 text, one token a line)"));
    }
    if (!line.empty() && line.back() == '\r') {
      return absl::DataLossError(absl::StrCat(source, ":", lineno,
                                              ": line ends with \\r (CRLF line ends would become part of every "
                                              "token); convert the file to LF line ends"));
    }
    auto [it, fresh] = line_of.try_emplace(line, lineno);
    if (!fresh) {
      return absl::DataLossError(absl::StrCat(source, ":", lineno, ": token \"", ToAbsl(line), "\" repeats line ",
                                              it->second, " (each token needs one id)"));
    }
    tokens.push_back(line);
  }
  if (tokens.empty()) return absl::DataLossError(absl::StrCat(source, ": empty vocabulary (no lines)"));
  for (std::string_view need : {"[UNK]", "[CLS]", "[SEP]"}) {
    if (!line_of.contains(need)) {
      return absl::DataLossError(absl::StrCat(source, ": no line holds \"", ToAbsl(need),
                                              "\"; a BERT vocab.txt has [PAD] [UNK] [CLS] [SEP] [MASK]"));
    }
  }
  auto id = [&](std::string_view t) { return line_of.at(t) - 1; };

  std::string j = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[";
  // Special tokens by id, as transformers lists them.
  std::map<size_t, std::string_view> specials;
  for (const std::string& t : opt.special_tokens)
    if (line_of.contains(t)) specials[id(t)] = t;
  bool first = true;
  for (auto [i, t] : specials) {
    if (!first) j += ',';
    first = false;
    absl::StrAppend(&j, "{\"id\":", i, ",\"content\":");
    AppendJsonString(&j, t);
    j += ",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}";
  }
  absl::StrAppend(&j, "],\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":",
                  opt.handle_chinese_chars ? "true" : "false", ",\"strip_accents\":null,\"lowercase\":",
                  opt.lowercase ? "true" : "false", "},\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},");
  const size_t cls = id("[CLS]"), sep = id("[SEP]");
  auto special = [](std::string_view name, int type_id) {
    return absl::StrCat("{\"SpecialToken\":{\"id\":\"", ToAbsl(name), "\",\"type_id\":", type_id, "}}");
  };
  auto seq = [](std::string_view name, int type_id) {
    return absl::StrCat("{\"Sequence\":{\"id\":\"", ToAbsl(name), "\",\"type_id\":", type_id, "}}");
  };
  absl::StrAppend(&j, "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[", special("[CLS]", 0), ",",
                  seq("A", 0), ",", special("[SEP]", 0), "],\"pair\":[", special("[CLS]", 0), ",", seq("A", 0), ",",
                  special("[SEP]", 0), ",", seq("B", 1), ",", special("[SEP]", 1), "],\"special_tokens\":{");
  absl::StrAppend(&j, "\"[CLS]\":{\"id\":\"[CLS]\",\"ids\":[", cls, "],\"tokens\":[\"[CLS]\"]},");
  absl::StrAppend(&j, "\"[SEP]\":{\"id\":\"[SEP]\",\"ids\":[", sep, "],\"tokens\":[\"[SEP]\"]}}},");
  j += "\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true},";
  j += "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\","
       "\"max_input_chars_per_word\":100,\"vocab\":{";
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) j += ',';
    AppendJsonString(&j, tokens[i]);
    absl::StrAppend(&j, ":", i);
  }
  j += "}}}\n";
  return j;
}

}  // namespace llmtk
