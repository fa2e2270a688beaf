// Loading a tiktoken rank file (cl100k_base.tiktoken, o200k_base.tiktoken,
// Llama 3's original/tokenizer.model): one "base64(token) rank" line per
// token, rank = line index. tiktoken merges, inside each pre-tokenized piece,
// the adjacent pair whose concatenation has the lowest rank (leftmost on
// ties), after first emitting a piece that is itself a token whole. That is
// exactly our BPE model with ignore_merges and one merge (a, b) → a+b of
// rank(a+b) for every split of every token into two tokens, so the rank
// table is lowered to that instead of a second merge loop.
//
// The file carries neither the split pattern nor the special tokens; they
// live in the code of whoever ships it (tiktoken's openai_public.py, Meta's
// llama3 tokenizer.py). We pick them by the number of ranks, the one thing
// the file says about which encoding it is: 100256 → cl100k_base, 199998 →
// o200k_base, 128000 → Llama 3. Any other size needs the pattern named.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "lib/base/io.h"
#include "lib/tokenizer/base64.h"
#include "lib/tokenizer/tokenizer.h"

namespace llmtk {
namespace {

// tiktoken's openai_public.py and Meta's llama3/tokenizer.py (the same
// string for cl100k_base and Llama 3).
constexpr std::string_view kCl100kPattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
constexpr std::string_view kO200kPattern =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)"
    "?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)"
    "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

struct Encoding {
  std::string_view name;
  size_t ranks;
  std::string_view pattern;
  std::vector<std::pair<std::string, uint32_t>> specials;
  std::optional<uint32_t> bos, eos;
};

std::vector<Encoding> KnownEncodings() {
  std::vector<Encoding> e;
  e.push_back({"cl100k_base",
               100256,
               kCl100kPattern,
               {{"<|endoftext|>", 100257},
                {"<|fim_prefix|>", 100258},
                {"<|fim_middle|>", 100259},
                {"<|fim_suffix|>", 100260},
                {"<|endofprompt|>", 100276}},
               std::nullopt,
               100257});
  e.push_back({"o200k_base", 199998, kO200kPattern, {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}},
               std::nullopt, 199999});
  // Meta's llama3 tokenizer.py: 256 special tokens after the 128000 ranks.
  Encoding l{"llama3", 128000, kCl100kPattern, {}, 128000, 128001};
  const char* named[] = {"<|begin_of_text|>",
                         "<|end_of_text|>",
                         "<|reserved_special_token_0|>",
                         "<|reserved_special_token_1|>",
                         "<|reserved_special_token_2|>",
                         "<|reserved_special_token_3|>",
                         "<|start_header_id|>",
                         "<|end_header_id|>",
                         "<|reserved_special_token_4|>",
                         "<|eot_id|>"};
  for (const char* s : named) l.specials.emplace_back(s, 128000 + static_cast<uint32_t>(l.specials.size()));
  for (int i = 5; i < 251; ++i) {
    l.specials.emplace_back(absl::StrCat("<|reserved_special_token_", i, "|>"),
                            128000 + static_cast<uint32_t>(l.specials.size()));
  }
  e.push_back(std::move(l));
  return e;
}

}  // namespace

bool LooksLikeTiktoken(std::string_view bytes) {
  size_t sp = bytes.find(' ');
  size_t nl = bytes.find('\n');
  if (sp == 0 || sp == std::string_view::npos || nl == std::string_view::npos || sp > nl) return false;
  for (size_t i = 0; i < sp; ++i)
    if (Base64Value(bytes[i]) < 0 && bytes[i] != '=') return false;
  size_t end = nl > sp + 1 && bytes[nl - 1] == '\r' ? nl - 1 : nl;
  if (end == sp + 1) return false;
  for (size_t i = sp + 1; i < end; ++i)
    if (bytes[i] < '0' || bytes[i] > '9') return false;
  return true;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromTiktoken(std::string_view bytes, const std::string& src,
                                                                   std::string_view pattern) {
  std::vector<std::string> tokens;  // raw bytes, by rank
  absl::flat_hash_map<std::string, uint32_t> rank_of;
  size_t line_no = 0;
  for (size_t pos = 0; pos < bytes.size();) {
    size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) nl = bytes.size();
    std::string_view line = bytes.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;  // tiktoken skips blank lines
    auto bad = [&](std::string_view what) {
      return absl::DataLossError(absl::StrCat(src, ":", line_no, ": ", ToAbsl(what),
                                              " (a tiktoken rank file has one \"base64(token) rank\" line per token)"));
    };
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos) {
      return bad("not two fields separated by one space");
    }
    std::string token;
    if (!DecodeBase64(line.substr(0, sp), &token)) {
      return bad(absl::StrCat("\"", ToAbsl(line.substr(0, sp)), "\" is not valid base64"));
    }
    std::string_view rs = line.substr(sp + 1);
    uint64_t rank = 0;
    bool digits = !rs.empty() && rs.size() <= 10;
    for (char c : rs) {
      if (c < '0' || c > '9') digits = false;
      rank = rank * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!digits) return bad(absl::StrCat("rank \"", ToAbsl(rs), "\" is not a number"));
    if (rank != tokens.size()) {
      if (rank < tokens.size()) {
        return bad(absl::StrCat("rank ", rank, " repeats or goes back (expected ", tokens.size(),
                                ": ranks run 0, 1, 2, ... one per line)"));
      }
      return bad(absl::StrCat("rank ", rank, " leaves a gap (expected ", tokens.size(),
                              ": ranks run 0, 1, 2, ... one per line)"));
    }
    auto [it, fresh] = rank_of.try_emplace(token, static_cast<uint32_t>(rank));
    if (!fresh) return bad(absl::StrCat("token of rank ", rank, " is the same bytes as rank ", it->second));
    tokens.push_back(std::move(token));
  }
  if (tokens.empty()) return absl::DataLossError(absl::StrCat(src, ": an empty tiktoken rank file"));
  // tiktoken starts every piece from single bytes, so each must have a rank.
  for (int b = 0; b < 256; ++b) {
    if (!rank_of.contains(std::string(1, static_cast<char>(b)))) {
      return absl::DataLossError(absl::StrCat(src, ": no token for the single byte 0x",
                                              absl::Hex(b, absl::kZeroPad2),
                                              " (a tiktoken rank file ranks all 256 bytes)"));
    }
  }

  std::vector<Encoding> known = KnownEncodings();
  const Encoding* enc = nullptr;
  std::string regex;
  if (pattern.empty()) {
    for (const Encoding& e : known)
      if (e.ranks == tokens.size()) enc = &e;
    if (!enc) {
      return absl::InvalidArgumentError(absl::StrCat(
          src, ": a tiktoken rank file of ", tokens.size(),
          " ranks, not one whose split pattern llmtk knows by its size (cl100k_base 100256, o200k_base 199998, "
          "llama3 128000); name it with --tiktoken-pattern cl100k_base|o200k_base|llama3|REGEX"));
    }
  } else {
    for (const Encoding& e : known)
      if (e.name == pattern) enc = &e;
  }
  regex = enc ? std::string(enc->pattern) : std::string(pattern);
  if (enc && tokens.size() > enc->ranks) {
    return absl::InvalidArgumentError(absl::StrCat(src, ": ", tokens.size(), " ranks, more than ", ToAbsl(enc->name),
                                                   "'s ", enc->ranks, " (its special tokens start there)"));
  }

  TokenizerParts parts;
  parts.source = src;
  parts.format = "tiktoken";
  std::vector<BpeMerge> merges;
  for (size_t r = 0; r < tokens.size(); ++r) {
    std::string_view t = tokens[r];
    for (size_t cut = 1; cut < t.size(); ++cut) {
      auto a = rank_of.find(ToAbsl(t.substr(0, cut))), b = rank_of.find(ToAbsl(t.substr(cut)));
      if (a != rank_of.end() && b != rank_of.end()) merges.push_back({a->second, b->second, static_cast<uint32_t>(r)});
    }
  }
  rank_of.clear();
  std::vector<std::string> spelled;
  spelled.reserve(tokens.size());
  for (const std::string& t : tokens) spelled.push_back(BytesToByteLevel(t));
  tokens.clear();
  BpeOptions opt;
  opt.byte_level = true;
  opt.ignore_merges = true;
  parts.token_text = spelled;
  ASSIGN_OR_RETURN(parts.model, BpeModel::Build(std::move(spelled), merges, opt, src));

  PreTokenizeStep st;
  ASSIGN_OR_RETURN(auto compiled, Regex::Compile(regex));
  st.regex = std::move(compiled);
  parts.pre_tokenizer.Add(std::move(st));
  parts.decoder.Add(DecoderStep{DecoderStep::Kind::kByteLevel, "", "", 0, 0, true});
  if (enc) {
    for (const auto& [content, id] : enc->specials) {
      AddedToken t;
      t.content = content;
      t.id = id;
      t.special = true;
      parts.added.Add(std::move(t));
    }
    parts.bos_id = enc->bos;
    parts.eos_id = enc->eos;
  }
  parts.description = absl::StrCat("tiktoken ", enc ? ToAbsl(enc->name) : "(pattern given)",
                                   " (byte-level BPE by rank, ", parts.model->size(), " ranks)");
  return std::make_unique<Tokenizer>(std::move(parts));
}

}  // namespace llmtk
