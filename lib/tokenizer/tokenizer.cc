#include "lib/tokenizer/tokenizer.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "lib/formats/gguf.h"
#include "lib/base/io.h"
#include "lib/base/unicode.h"
#include "lib/tokenizer/bert_vocab.h"
#include "lib/tokenizer/byte_level.h"

namespace llmtk {

Tokenizer::Tokenizer(TokenizerParts parts) : parts_(std::move(parts)) {
  vocab_size_ = static_cast<uint32_t>(parts_.model->size());
  for (size_t i = 0; i < parts_.added.tokens().size(); ++i) {
    const AddedToken& t = parts_.added.tokens()[i];
    added_by_id_.try_emplace(t.id, i);
    vocab_size_ = std::max(vocab_size_, t.id + 1);
  }
  byte_fallback_.assign(vocab_size_, false);
  for (int b = 0; b < 256; ++b) {
    int64_t id = parts_.model->byte_token(static_cast<uint8_t>(b));
    if (id >= 0) byte_fallback_[static_cast<size_t>(id)] = true;
  }
}

// A SentencePiece ModelProto starts with its first piece: field 1 (pieces,
// length-delimited: tag 0x0a, a varint length) holding field 1 (the piece
// string: tag 0x0a). A file starting with '{' is JSON, whatever its name.
bool LooksLikeSentencePieceModel(std::string_view bytes, std::string_view path) {
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && bytes[first] == '{') return false;  // broken JSON, whatever its name
  if (path.size() >= 6 && path.substr(path.size() - 6) == ".model") return true;
  if (bytes.size() < 4 || static_cast<uint8_t>(bytes[0]) != 0x0a) return false;
  size_t i = 1;
  while (i < bytes.size() && i < 6 && (static_cast<uint8_t>(bytes[i]) & 0x80)) ++i;
  return i + 1 < bytes.size() && static_cast<uint8_t>(bytes[i + 1]) == 0x0a;
}

bool LooksLikeWordPieceVocab(std::string_view bytes) {
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || bytes[first] == '{') return false;
  auto has_line = [&](std::string_view t) {
    for (size_t pos = bytes.find(t); pos != std::string_view::npos; pos = bytes.find(t, pos + 1)) {
      const size_t end = pos + t.size();
      // A CRLF file counts, so that its loading names the CRLF.
      if ((pos == 0 || bytes[pos - 1] == '\n') && (end == bytes.size() || bytes[end] == '\n' || bytes[end] == '\r')) {
        return true;
      }
    }
    return false;
  };
  return has_line("[UNK]") && has_line("[CLS]") && has_line("[SEP]");
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& path,
                                                           const TokenizerFileOptions& options) {
  const std::string_view tiktoken_pattern = options.tiktoken_pattern;
  ASSIGN_OR_RETURN(auto mapped, MappedFile::Open(path));
  if (mapped->size() >= 4 && std::memcmp(mapped->data(), "GGUF", 4) == 0) {
    mapped.reset();
    ASSIGN_OR_RETURN(auto gguf, GgufFile::Open(path));
    return FromGguf(*gguf);
  }
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0) {
    // A zstd-compressed GGUF vocabulary.
    ASSIGN_OR_RETURN(auto gguf, GgufFile::FromBuffer(bytes, path));
    return FromGguf(*gguf);
  }
  if (LooksLikeTiktoken(bytes)) return FromTiktoken(bytes, path, tiktoken_pattern);
  if (LooksLikeSentencePieceModel(bytes, path)) return FromSentencePiece(bytes, path);
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && bytes[first] == '{') return FromJson(bytes, path);
  if (LooksLikeWordPieceVocab(bytes)) {
    BertVocabOptions opt;
    opt.lowercase = !options.cased;
    ASSIGN_OR_RETURN(std::string json, BertTokenizerJsonFromVocab(bytes, path, opt));
    return FromJson(json, path);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": not a tokenizer file llmtk knows; expected a tokenizer.json (a JSON object), a SentencePiece .model "
            "(protobuf), a tiktoken rank file (\"base64 rank\" lines), a WordPiece vocab.txt (a token a line, with "
            "[UNK], [CLS] and [SEP]) or a GGUF file"));
}

absl::Status Tokenizer::Encode(std::string_view text, bool add_special, std::vector<uint32_t>* ids,
                              bool parse_special) const {
  if (text.size() > kMaxTextBytes) {
    return absl::ResourceExhaustedError(absl::StrCat("text of ", text.size(), " bytes is over the ", kMaxTextBytes,
                                                     "-byte limit of one encode call; split the document"));
  }
  size_t bad = 0;
  const bool valid = IsValidUtf8(text, &bad);
  if (!valid && parts_.invalid_utf8 == InvalidUtf8Mode::kRefuse) {
    return absl::DataLossError(RefusedUtf8Message(text, bad, parts_.format));
  }
  const bool llama_cpp_codepoints = !valid && parts_.invalid_utf8 == InvalidUtf8Mode::kLlamaCpp;
  if (add_special) ids->insert(ids->end(), parts_.post.prefix.begin(), parts_.post.prefix.end());
  thread_local std::vector<Segment> segments;
  thread_local std::string normalized;
  thread_local Pieces pieces;
  thread_local std::string cpt_bytes, cpt_regex_text;
  if (parts_.added.empty()) {
    segments.assign(1, Segment{0, static_cast<uint32_t>(text.size()), -1});
  } else {
    parts_.added.Split(text, &segments, parse_special);
  }
  const TokenModel& model = *parts_.model;
  for (const Segment& seg : segments) {
    if (seg.id >= 0) {
      ids->push_back(static_cast<uint32_t>(seg.id));
      continue;
    }
    std::string_view t = text.substr(seg.begin, seg.end - seg.begin);
    bool surrogates = false;
    if (llama_cpp_codepoints) {
      RETURN_IF_ERROR(LlamaCppCodepointBytes(t, seg.begin, &cpt_bytes, &cpt_regex_text, &surrogates));
      t = cpt_regex_text;
    }
    if (!parts_.normalizer.empty()) {
      RETURN_IF_ERROR(parts_.normalizer.Apply(t, &normalized));
      t = normalized;
    }
    if (parts_.pre_tokenizer.empty()) {
      model.EncodeWord(t, ids);
      continue;
    }
    RETURN_IF_ERROR(parts_.pre_tokenizer.Run(t, seg.begin == 0, &pieces));
    // The split was made on U+E000 stand-ins of the same length; BPE gets
    // the surrogates' own bytes, as in llama.cpp.
    // (GGUF byte-level vocabularies have no normalizer and only Split steps,
    // so the buffer is the segment itself; a bert one's normalizer drops
    // the stand-ins, as llama.cpp's WPM drops surrogates, \p{C}.)
    if (surrogates && parts_.normalizer.empty() && pieces.buf.size() == cpt_bytes.size()) pieces.buf = cpt_bytes;
    for (size_t i = 0; i < pieces.ranges.size(); ++i) model.EncodeWord(pieces.piece(i), ids);
  }
  if (add_special) ids->insert(ids->end(), parts_.post.suffix.begin(), parts_.post.suffix.end());
  return absl::OkStatus();
}

absl::StatusOr<std::string> Tokenizer::Decode(std::span<const uint32_t> ids, bool skip_special) const {
  if (parts_.llama_detokenizer) return parts_.llama_detokenizer->Run(ids, skip_special);
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    uint32_t id = ids[i];
    if (id >= vocab_size_) {
      return absl::DataLossError(absl::StrCat("token id ", id, " at position ", i,
                                              " is outside the vocabulary (size ", vocab_size_, ")"));
    }
    auto it = added_by_id_.find(id);
    if (it != added_by_id_.end()) {
      const AddedToken& t = parts_.added.tokens()[it->second];
      if (skip_special && t.special) continue;
      tokens.push_back(t.content);
      continue;
    }
    if (id < parts_.decode_text.size()) {
      tokens.push_back(parts_.decode_text[id]);
    } else {
      tokens.emplace_back(IdToToken(id));
    }
  }
  return parts_.decoder.Run(std::move(tokens));
}

std::optional<uint32_t> Tokenizer::TokenToId(std::string_view token) const {
  for (const AddedToken& t : parts_.added.tokens())
    if (t.content == token) return t.id;
  return parts_.model->TokenToId(token);
}

std::string_view Tokenizer::IdToToken(uint32_t id) const {
  auto it = added_by_id_.find(id);
  if (it != added_by_id_.end()) return parts_.added.tokens()[it->second].content;
  if (id < parts_.token_text.size()) return parts_.token_text[id];
  return {};
}

bool Tokenizer::IsSpecial(uint32_t id) const {
  auto it = added_by_id_.find(id);
  return it != added_by_id_.end() && parts_.added.tokens()[it->second].special;
}

bool Tokenizer::IsByteFallback(uint32_t id) const { return id < byte_fallback_.size() && byte_fallback_[id]; }

absl::StatusOr<DocumentSpecials> PlanDocumentSpecials(const Tokenizer& tok, const SpecialTokenOptions& o) {
  DocumentSpecials p;
  p.post_processor = !o.no_special && !o.add_bos && !o.add_eos;
  auto need = [&](const std::optional<uint32_t>& id, std::string_view flag,
                  std::string_view what) -> absl::StatusOr<uint32_t> {
    if (!id) {
      return absl::InvalidArgumentError(absl::StrCat(ToAbsl(flag), ": the tokenizer defines no ", ToAbsl(what),
                                                     " token, ", tok.parts().source));
    }
    return *id;
  };
  if (o.add_bos) {
    ASSIGN_OR_RETURN(uint32_t id, need(tok.parts().bos_id, "--add-bos", "BOS"));
    p.prefix.push_back(id);
  }
  if (o.add_eos) {
    ASSIGN_OR_RETURN(uint32_t id, need(tok.parts().eos_id, "--add-eos", "EOS"));
    p.suffix.push_back(id);
  }
  if (o.append_eod) {
    ASSIGN_OR_RETURN(uint32_t id, need(tok.parts().eos_id, "--append-eod", "EOS"));
    p.suffix.push_back(id);
  }
  return p;
}

absl::Status EncodeDocument(const Tokenizer& tok, const DocumentSpecials& plan, std::string_view text,
                            std::vector<uint32_t>* ids) {
  ids->insert(ids->end(), plan.prefix.begin(), plan.prefix.end());
  RETURN_IF_ERROR(tok.Encode(text, plan.post_processor, ids));
  ids->insert(ids->end(), plan.suffix.begin(), plan.suffix.end());
  return absl::OkStatus();
}

}  // namespace llmtk
